"""``bench run``: a suite's rows x splits, with finished runs reused and every run in MLflow.

Order of work: plan every row (:mod:`benchmark.planning`: nothing is logged for bad input), find
what already FINISHED, say which rows have runs of other code, run the rest through an executor
(:mod:`benchmark.executors`), then close each row's parent run (:mod:`benchmark.tracking.parents`) and
return the rows' results for the terminal table (:mod:`benchmark.console`) and the report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from benchmark import tracking
from benchmark.config import Profile
from benchmark.executors import Executor
from benchmark.jobs import JobOutcome, SplitJob, split_run_fingerprint, split_run_key
from benchmark.planning import PlannedRow, plan_rows
from benchmark.splits import Split
from benchmark.statistics.comparisons import compare_results, split_design
from benchmark.statistics.rows import summarize
from benchmark.suite import Suite, SuiteRow
from benchmark.tracking import claims
from benchmark.tracking import parents as parent_runs
from benchmark.tracking.comparisons import log_comparisons
from benchmark.tracking.stops import close_left_running
from benchmark.tracking.tags import TAG
from benchmark.uri_check import check_artifacts
from features.store import FeatureStore


@dataclass
class RowResult:
    row: SuiteRow
    accuracies: list[float] = field(default_factory=list)
    splits: list[int] = field(default_factory=list)  # the split index of each accuracy (for paired comparisons)
    best_epoch: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    n_expected: int = 0
    parent_run_id: str | None = None
    split_run_ids: list[str] = field(default_factory=list)  # the finished split runs behind the cell
    metrics: dict[str, list[float]] = field(
        default_factory=dict
    )  # registered metrics per finished split (MLflow names)
    precision: str = "fp32"
    ceiling: dict[str, float] | None = None  # best reachable accuracy and its se, where the store records it

    @property
    def n(self) -> int:
        return len(self.accuracies)

    @property
    def mean(self) -> float:
        return summarize(self.accuracies).mean

    @property
    def std(self) -> float:
        """Sample standard deviation over splits (ddof=1); NaN with fewer than two splits."""
        return summarize(self.accuracies).std


@dataclass
class RunSummary:
    suite: Suite
    store: FeatureStore
    profile: str
    rows: list[RowResult]
    trained: int
    reused: int
    failed: int
    experiment_id: str
    comparisons: dict = field(default_factory=dict)  # (table, row) -> significance.Comparison with its reference


def run_suite(
    suite: Suite,
    store: FeatureStore,
    profile: Profile,
    splits: list[Split],
    *,
    executor: Executor,
    train_overrides: dict[str, Any] | None = None,
    uri: str | None = None,
    device: str = "auto",
    force: bool = False,
    progress: Any = None,
    precision: str = "auto",
    plugins: tuple[str, ...] = (),
    on_notice: Callable[[str], None] | None = None,
    rope: float = 1.0,
    keep_model: str = "float16",
    first: bool = True,
) -> RunSummary:
    """``precision`` (auto|fp32|bf16) is resolved per configuration here, for the device this process sees.
    ``plugins``: the specs every worker loads (already loaded here); ``on_notice``: one line per row whose
    finished runs came from other code (they are trained again, never served); ``rope`` (accuracy points)
    is the Bayesian comparison's region of practical equivalence; ``keep_model``: the dtype of the weights each
    new split run keeps (float16, float32) or ``none`` (:mod:`benchmark.checkpoints`)."""
    from benchmark.params import resolve_device

    suite = suite.for_dataset(
        store.name, first
    )  # each row's paper number for this dataset (first: the command's first)

    split_source = splits[0].source.split("/")[0] if splits else ""
    planned = plan_rows(
        suite,
        store,
        profile,
        dict(train_overrides or {}),
        split_source,
        precision=precision,
        device=resolve_device(device),
        threads=executor.training_threads(),
    )
    client = tracking.client(uri)
    experiment = tracking.experiment_id(client, store.name)
    check_artifacts(client, experiment)
    tracking.close_orphans(client, experiment)
    ids = store.ids
    split_digests = {s.index: s.digest(ids) for s in splits}
    child_fp = {
        (p.row.table, p.row.name, s.index): split_run_fingerprint(p.config, split_digests[s.index], store.fingerprint)
        for p in planned
        for s in splits
    }
    run_keys = {
        key: split_run_key(p.config, split_digests[key[2]], store.fingerprint)
        for p in planned
        for key in child_fp
        if key[:2] == (p.row.table, p.row.name)
    }
    done_runs = (
        [] if force else tracking.all_finished_split_runs(client, experiment)
    )  # one search for reuse and stale runs
    finished = tracking.finished_split_runs(client, experiment, set(child_fp.values()), runs=done_runs)
    if on_notice:
        for line in _stale_notices(planned, child_fp, run_keys, finished, done_runs):
            on_notice(line)

    parents = {
        p.parent_fingerprint: parent_runs.row_parent(client, experiment, suite, p, store, splits) for p in planned
    }
    settings = {  # row order, setting, paper's number, dataset input: what the suite's MLflow table view needs
        p.parent_fingerprint: parent_runs.open_parent(
            client, parents[p.parent_fingerprint], suite, p.row, p.config, store, split_source
        )
        for p in planned
    }
    jobs, queued = [], set()
    for p in planned:
        for s in splits:
            fp = child_fp[(p.row.table, p.row.name, s.index)]
            if fp in finished or fp in queued:
                continue
            queued.add(fp)
            jobs.append(
                SplitJob(
                    store_path=str(store.path),
                    tracking_uri=tracking.tracking_uri(uri),
                    experiment_id=experiment,
                    parent_run_id=parents[p.parent_fingerprint],
                    suite=suite.name,
                    row=p.row.name,
                    config=p.config,
                    split=s,
                    fingerprint=fp,
                    dataset_fingerprint=store.fingerprint,
                    device=device,
                    force=force,
                    plugins=tuple(plugins),
                    code_fingerprint=p.code_fingerprint,
                    run_key=run_keys[(p.row.table, p.row.name, s.index)],
                    keep_model=keep_model,
                )
            )

    outcomes: dict[str, JobOutcome] = {}
    if progress:
        progress.start(len(jobs), len(child_fp) - len(jobs))
    try:
        n_reused_from_others = _run_sharing_claims(executor, jobs, client, experiment, outcomes, finished, progress)
    except BaseException as exc:  # interrupted or broken: the parents must not stay RUNNING
        if progress:
            progress.stop()
        parent_runs.abandon(client, list(parents.values()), exc)
        close_left_running(client, experiment, f"stopped: {type(exc).__name__}: {exc}"[:500])
        raise
    if progress:
        progress.stop()
    tracking.close_orphans(client, experiment)  # runs left RUNNING by workers that died (their jobs ran again)

    from benchmark import metrics
    from benchmark.kept import mlflow_name

    registered = [mlflow_name(m) for m in metrics.list_metrics() if m != "accuracy"]
    results = []
    for p in planned:
        result = RowResult(
            p.row,
            n_expected=len(splits),
            parent_run_id=parents[p.parent_fingerprint],
            precision=p.config.train.precision,
            ceiling=store.ceiling(p.config.modalities),
        )
        reused_from = set()
        for s in splits:
            fp = child_fp[(p.row.table, p.row.name, s.index)]
            if fp in outcomes and outcomes[fp].status == "FINISHED":
                result.accuracies.append(outcomes[fp].test_acc)
                result.splits.append(s.index)
                result.best_epoch.append(outcomes[fp].test_acc_best_epoch)
                result.split_run_ids.append(outcomes[fp].run_id)
                for name, value in outcomes[fp].metrics.items():
                    result.metrics.setdefault(name, []).append(value)
            elif fp in finished:
                run = finished[fp]
                result.accuracies.append(run.data.metrics["test_acc"])
                result.splits.append(s.index)
                result.best_epoch.append(run.data.metrics.get("test_acc_best_epoch", math.nan))
                result.split_run_ids.append(run.info.run_id)
                for name in registered:
                    if name in run.data.metrics:
                        result.metrics.setdefault(name, []).append(run.data.metrics[name])
                parent = run.data.tags.get("mlflow.parentRunId")
                if parent and parent != result.parent_run_id:
                    reused_from.add(parent)
            elif fp in outcomes:
                result.failures.append(f"split {s.index}: {outcomes[fp].reason}")
        assert result.parent_run_id is not None  # every planned row has its parent by now
        parent_runs.close_row(
            client,
            result.parent_run_id,
            result.row,
            result.split_run_ids,
            result.accuracies,
            result.best_epoch,
            result.n_expected,
            result.ceiling,
            reused_from,
            result.metrics,
        )
        results.append(result)
    parent_runs.finish_suite(client, experiment, suite, store, settings, [p.config.flat() for p in planned])
    comparisons = compare_results(suite, results, splits, rope)
    log_comparisons(client, suite, results, comparisons, split_design(splits))
    return RunSummary(
        suite=suite,
        store=store,
        profile=profile.name,
        rows=results,
        trained=sum(o.status == "FINISHED" for o in outcomes.values()),
        reused=len(child_fp) - len(jobs) + n_reused_from_others,
        failed=sum(o.status == "FAILED" for o in outcomes.values()),
        experiment_id=experiment,
        comparisons=comparisons,
    )


def _stale_notices(
    planned: list[PlannedRow], child_fp: dict, run_keys: dict, finished: dict, done_runs: list
) -> list[str]:
    """ "4 finished runs of 'mine' came from other code: training again", one line per such row.

    A stale run has the same (config, split, dataset) as a split to train but another code identity:
    its ``bench.run_key`` matches, or (runs made before code identities) its ``bench.fingerprint`` is the key."""
    wanted = {key: fp for key, fp in child_fp.items() if fp not in finished}
    if not wanted:
        return []
    keys = {run_keys[key] for key in wanted}
    stale: dict[str, set[str]] = {}
    for run in done_runs:
        tags = run.data.tags
        key = tags.get(f"{TAG}run_key") or tags.get(f"{TAG}fingerprint")
        if key in keys:
            stale.setdefault(key, set()).add(tags.get(f"{TAG}code_fingerprint") or "none")
    lines = []
    for p in planned:
        mine = [key for key in wanted if key[:2] == (p.row.table, p.row.name)]
        n = sum(1 for key in mine if run_keys[key] in stale)
        if n:
            codes = sorted({c for key in mine for c in stale.get(run_keys[key], ())})
            where = (
                "code before code identities"
                if codes == ["none"]
                else f"code {', '.join(c for c in codes if c != 'none')}"
            )
            lines.append(
                f"{n} finished run{'s' if n > 1 else ''} of {p.row.name!r} came from other code "
                f"({where}; now {p.code_fingerprint}): training again"
            )
    return lines


def _run_sharing_claims(
    executor: Executor,
    jobs: list[SplitJob],
    client,
    experiment: str,
    outcomes: dict[str, JobOutcome],
    finished: dict[str, Any],
    progress: Any,
) -> int:
    """Run the jobs; splits other processes claimed are waited for and reused (into ``finished``),
    or trained here when their holder died. Returns how many were reused from other processes."""
    since_ms = int(time.time() * 1000)
    by_fp = {job.fingerprint: job for job in jobs}
    todo, reused = list(jobs), 0
    while todo:
        with closing(
            executor.run(todo, on_epoch=progress.epoch if progress and executor.reports_epochs else None)
        ) as running:
            for outcome in running:  # (closed at once on a stop or an error: the executor stops its workers)
                outcomes[outcome.fingerprint] = outcome
                if progress:
                    progress.job_done(outcome)
        held = {fp for fp, o in outcomes.items() if o.status == claims.CLAIMED}
        todo = []
        while held and not todo:
            done, failed, free = claims.wait_for(
                client, experiment, held, since_ms, on_wait=progress.waiting if progress else None
            )
            for fp, run in done.items():
                finished[fp] = run
                del outcomes[fp]
                reused += 1
            for fp, run in failed.items():
                job = by_fp[fp]
                reason = run.data.tags.get(f"{TAG}failure_reason", "failed in another process")
                outcomes[fp] = JobOutcome(fp, job.row, job.split.index, "FAILED", run.info.run_id, reason=reason)
            held -= set(done) | set(failed) | set(free)
            todo = [by_fp[fp] for fp in free]
            if progress and todo:
                progress.taking_over(len(todo))
    return reused
