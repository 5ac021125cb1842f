"""``bench run``: a suite's rows x splits, with finished runs reused and every run in MLflow.

Order of work: validate the store and every row's configuration (nothing is logged for bad input),
make the splits, find what already FINISHED, run the rest through an executor, then aggregate each
row into its parent run and return the rows' results for the terminal table and the report.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import claims, tracking
from benchmark.tracking_views import rows as views
from benchmark.tracking_views.comparisons import compare_results, log_comparisons, split_design
from benchmark.config import Profile, RunConfig, resolve_config, stable_hash
from benchmark.executors import Executor
from benchmark.jobs import JobOutcome, SplitJob, split_run_fingerprint
from benchmark.params import ParamError
from benchmark.splits import Split
from benchmark.suite import Suite, SuiteRow
from benchmark.uri_check import check_artifacts
from features.store import FeatureStore

T = tracking.TAG


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
    precision: str = "fp32"
    ceiling: dict[str, float] | None = None  # best reachable accuracy and its se, where the store records it

    @property
    def n(self) -> int:
        return len(self.accuracies)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies)) if self.accuracies else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over splits (ddof=1); NaN with fewer than two splits."""
        return float(np.std(self.accuracies, ddof=1)) if self.n > 1 else math.nan


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


@dataclass(frozen=True)
class PlannedRow:
    row: SuiteRow
    config: RunConfig
    parent_fingerprint: str
    n_parameters: int = 0  # trainable parameters of the row's model on this store's dims


def count_parameters(model) -> int:
    """Trainable parameters of a torch model, or an estimator's own ``n_parameters()``."""
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    return int(model.n_parameters())


def plan_rows(
    suite: Suite,
    store: FeatureStore,
    profile: Profile,
    train_overrides: dict[str, Any],
    split_source: str = "",
    *,
    precision: str = "auto",
    device: str = "cpu",
) -> list[PlannedRow]:
    """Resolve and check every runnable row before anything touches MLflow; an error names the suite file and row."""
    planned = []
    for row in suite.runnable_rows:
        try:
            planned += _plan_rows(
                replace(suite, rows=(row,)), store, profile, train_overrides, split_source, precision=precision, device=device
            )
        except ParamError as exc:
            raise ParamError(f"suite {row.origin or suite.name}, row {row.name!r}: {exc}") from None
    return planned


def _plan_rows(
    suite: Suite,
    store: FeatureStore,
    profile: Profile,
    train_overrides: dict[str, Any],
    split_source: str = "",
    *,
    precision: str = "auto",
    device: str = "cpu",
) -> list[PlannedRow]:
    """One row's planning (``device``: resolved, for ``--precision auto``)."""
    from baselines import build_model
    from benchmark.precision import check_precision, with_precision

    check_precision(precision)
    planned, counts = [], {}
    for row in suite.runnable_rows:
        config = resolve_config(
            model=row.model, modalities=list(row.modalities), row_params=row.params, profile=profile, train_overrides=train_overrides
        )
        missing = [m for m in config.modalities if m not in store.arrays]
        if missing:
            raise ParamError(f"row {row.name!r} needs modality {missing[0]!r}, which the store {store.path} does not have")
        if config.train.frames is not None and config.train.frames > store.frames:
            raise ParamError(
                f"profile {profile.name!r} uses frames={config.train.frames} but the store {store.path} has "
                f"{store.frames} frames per video; pass --frames {store.frames} or fewer"
            )
        config = with_precision(config, precision, device, store.dims)
        if config.fingerprint not in counts:  # a dry build catches bad model parameters early
            model = build_model(config.model, {m: store.dims[m] for m in config.modalities}, len(store.classes), config.params)
            counts[config.fingerprint] = count_parameters(model)
        key = stable_hash([suite.name, row.table, row.name, config.fingerprint, store.fingerprint, split_source])
        planned.append(PlannedRow(row, config, key, counts[config.fingerprint]))
    return planned


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
    progress: "Progress | None" = None,
    precision: str = "auto",
    rope: float = 1.0,
) -> RunSummary:
    """``precision`` (auto|fp32|bf16) is resolved per configuration here, for the device this process sees;
    ``rope`` (accuracy points) is the Bayesian comparison's region of practical equivalence."""
    from benchmark.params import resolve_device

    split_source = splits[0].source.split("/")[0] if splits else ""
    planned = plan_rows(suite, store, profile, dict(train_overrides or {}), split_source, precision=precision, device=resolve_device(device))
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
    finished = {} if force else tracking.finished_split_runs(client, experiment, set(child_fp.values()))

    parents = {p.parent_fingerprint: _parent_run(client, experiment, suite, p, store, splits) for p in planned}
    settings = {  # row order, setting, paper's number, dataset input: what the suite's MLflow table view needs
        p.parent_fingerprint: views.open_parent(client, parents[p.parent_fingerprint], suite, p.row, p.config, store, split_source)
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
                )
            )

    outcomes: dict[str, JobOutcome] = {}
    if progress:
        progress.start(len(jobs), len(child_fp) - len(jobs))
    try:
        n_reused_from_others = _run_sharing_claims(executor, jobs, client, experiment, outcomes, finished, progress)
    except BaseException as exc:  # interrupted or broken: the parents must not stay RUNNING
        _abandon_parents(client, list(parents.values()), exc)
        raise
    if progress:
        progress.stop()
    tracking.close_orphans(client, experiment)  # runs left RUNNING by workers that died (their jobs ran again)

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
            elif fp in finished:
                run = finished[fp]
                result.accuracies.append(run.data.metrics["test_acc"])
                result.splits.append(s.index)
                result.best_epoch.append(run.data.metrics.get("test_acc_best_epoch", math.nan))
                result.split_run_ids.append(run.info.run_id)
                parent = run.data.tags.get("mlflow.parentRunId")
                if parent and parent != result.parent_run_id:
                    reused_from.add(parent)
            elif fp in outcomes:
                result.failures.append(f"split {s.index}: {outcomes[fp].reason}")
        _close_parent(client, result, reused_from)
        results.append(result)
    views.finish_suite(client, experiment, suite, store, settings, [p.config.flat() for p in planned])
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


def _abandon_parents(client, run_ids: list[str], exc: BaseException) -> None:
    status = "KILLED" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "FAILED"
    for run_id in run_ids:
        try:
            client.set_tag(run_id, f"{T}failure_reason", f"{type(exc).__name__}: {exc}"[:5000] or "interrupted")
            client.set_terminated(run_id, status)
        except Exception:  # noqa: BLE001  (the store itself may be what broke; the original error matters)
            pass


def _run_sharing_claims(executor: Executor, jobs: list[SplitJob], client, experiment: str, outcomes: dict[str, JobOutcome],
                        finished: dict[str, Any], progress: "Progress | None") -> int:
    """Run the jobs; splits other processes claimed are waited for and reused (into ``finished``),
    or trained here when their holder died. Returns how many were reused from other processes."""
    since_ms = int(time.time() * 1000)
    by_fp = {job.fingerprint: job for job in jobs}
    todo, reused = list(jobs), 0
    while todo:
        for outcome in executor.run(todo, on_epoch=progress.epoch if progress and executor.reports_epochs else None):
            outcomes[outcome.fingerprint] = outcome
            if progress:
                progress.job_done(outcome)
        held = {fp for fp, o in outcomes.items() if o.status == claims.CLAIMED}
        todo = []
        while held and not todo:
            done, failed, free = claims.wait_for(client, experiment, held, since_ms, on_wait=progress.waiting if progress else None)
            for fp, run in done.items():
                finished[fp] = run
                del outcomes[fp]
                reused += 1
            for fp, run in failed.items():
                job = by_fp[fp]
                reason = run.data.tags.get(f"{T}failure_reason", "failed in another process")
                outcomes[fp] = JobOutcome(fp, job.row, job.split.index, "FAILED", run.info.run_id, reason=reason)
            held -= set(done) | set(failed) | set(free)
            todo = [by_fp[fp] for fp in free]
            if progress and todo:
                progress.taking_over(len(todo))
    return reused


def _parent_run(client, experiment: str, suite: Suite, planned: PlannedRow, store: FeatureStore, splits: list[Split]) -> str:
    """The suite row's parent run: found by fingerprint (any status), else created."""
    existing = tracking.search_all(
        client, [experiment], f"tags.`{T}kind` = '{tracking.PARENT}' and tags.`{T}fingerprint` = '{planned.parent_fingerprint}'"
    )
    if existing:
        run_id = min(existing, key=lambda r: (r.info.start_time or 0, r.info.run_id)).info.run_id
        tracking.set_tags(
            client, run_id, {f"{T}n_expected_splits": len(splits), f"{T}n_parameters": planned.n_parameters, **tracking.owner_tags()}
        )
        client.update_run(run_id, status="RUNNING")
        return run_id
    row, config = planned.row, planned.config
    tags = {
        f"{T}kind": tracking.PARENT,
        f"{T}suite": suite.name,
        f"{T}table": row.table,
        f"{T}row": row.name,
        f"{T}fingerprint": planned.parent_fingerprint,
        f"{T}config_fingerprint": config.fingerprint,
        f"{T}dataset_fingerprint": store.fingerprint,
        f"{T}dataset": store.name,
        f"{T}synthetic": str(store.synthetic).lower(),
        f"{T}random_extractors": ",".join(store.random_extractors),
        f"{T}classes": json.dumps(store.classes),
        f"{T}profile": config.profile,
        f"{T}model": config.model,
        f"{T}modalities": ",".join(config.modalities),
        f"{T}precision": config.train.precision,
        f"{T}split_source": splits[0].source if splits else "",
        f"{T}n_parameters": str(planned.n_parameters),
        f"{T}n_expected_splits": str(len(splits)),
        **tracking.environment_tags("cpu"),
        **tracking.owner_tags(),  # a parent whose process died is closed as an orphan, not left RUNNING
    }
    if row.paper is not None:
        tags[f"{T}paper"] = str(row.paper)
    run = client.create_run(experiment, run_name=f"{suite.name} / {row.name}", tags=tags)
    tracking.log_params(client, run.info.run_id, config.flat())
    return _oldest_parent(client, experiment, planned.parent_fingerprint, run.info.run_id)


def _oldest_parent(client, experiment: str, fingerprint: str, mine: str) -> str:
    """Processes that started together may each have created the row's parent: all keep the oldest
    (start_time, then run_id) and delete their own."""
    found = tracking.search_all(client, [experiment], f"tags.`{T}kind` = '{tracking.PARENT}' and tags.`{T}fingerprint` = '{fingerprint}'")
    oldest = min(found, key=lambda r: (r.info.start_time or 0, r.info.run_id), default=None)
    if oldest is None or oldest.info.run_id == mine:
        return mine
    client.set_terminated(mine, "KILLED")
    client.delete_run(mine)
    return oldest.info.run_id


def _close_parent(client, result: RowResult, reused_from: set[str]) -> None:
    run_id = result.parent_run_id
    step = views.close_parent(client, run_id, result.row, result.split_run_ids)  # curves first: the cell is the latest value
    tracking.log_metrics(
        client,
        run_id,
        {
            "test_acc_mean": result.mean,
            "test_acc_std": result.std,
            "n_splits": result.n,
            "test_acc_best_epoch_mean": float(np.nanmean(result.best_epoch)) if result.best_epoch else math.nan,
        },
        step=step,
    )
    if result.ceiling:
        tracking.log_metrics(
            client, run_id, {"test_acc_ceiling": result.ceiling["accuracy"], "test_acc_ceiling_se": result.ceiling["se"]}
        )
    tags = {f"{T}n_expected_splits": result.n_expected}
    if reused_from:
        tags[f"{T}reused_children_from"] = ",".join(sorted(reused_from))
    tracking.set_tags(client, run_id, tags)
    status = "FINISHED" if result.n == result.n_expected else "FAILED"
    client.set_terminated(run_id, status, end_time=views.end_time(client, run_id, result.split_run_ids))


class Progress:
    """Rich progress bars over jobs and, for in-process runs, over the current job's epochs."""

    def __init__(self, console=None, epochs: int = 0):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.epochs = epochs
        self.jobs_task = None
        self.epoch_task = None
        self.current: str | None = None

    def start(self, n_jobs: int, n_reused: int) -> None:
        self.bar.start()
        self.jobs_task = self.bar.add_task(f"jobs ({n_reused} reused)", total=n_jobs)
        if self.epochs:
            self.epoch_task = self.bar.add_task("epochs", total=self.epochs, visible=False)

    def epoch(self, job: SplitJob, record) -> None:
        if self.epoch_task is None:
            return
        if self.current != job.run_name:
            self.current = job.run_name
            self.bar.reset(self.epoch_task, total=job.config.train.epochs, visible=True, description=job.run_name)
        self.bar.update(self.epoch_task, completed=record.epoch, description=f"{job.run_name} acc {record.test_acc:.3f}")

    def job_done(self, outcome: JobOutcome) -> None:
        self.bar.advance(self.jobs_task)
        if outcome.status not in ("FINISHED", claims.CLAIMED):
            self.bar.console.print(f"[yellow]{outcome.row} / split {outcome.split} FAILED: {outcome.reason}")

    def waiting(self, holders: list) -> None:
        """Splits other processes train: say which, and by whom, while this one waits for them."""
        who = sorted({f"{r.data.tags.get(f'{T}host', '?')}:{r.data.tags.get(f'{T}pid', '?')}" for r in holders})
        names = ", ".join(sorted(r.info.run_name for r in holders)[:4]) + (" ..." if len(holders) > 4 else "")
        self.bar.console.print(f"waiting for {len(holders)} splits other processes train ({', '.join(who)}): {names}")

    def taking_over(self, n: int) -> None:
        self.bar.console.print(f"[yellow]taking over {n} splits whose process ended without finishing them")
        self.bar.update(self.jobs_task, total=next(t.total for t in self.bar.tasks if t.id == self.jobs_task) + n)

    def stop(self) -> None:
        self.bar.stop()


def store_for(features: Path | None) -> Path:
    """``--features`` or the built-in synthetic store (generated into the cache on first use)."""
    if features is not None:
        return features
    from features.synthetic import default_store_path

    return default_store_path()

