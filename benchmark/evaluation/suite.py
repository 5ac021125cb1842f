"""``bench evaluate --suite S``: every FINISHED split run of the suite's rows (as ``bench report`` finds
them) that kept its model, under every registered corruption, through an executor; finished evaluations
are reused. Runs that cannot be evaluated are said once per row: no kept model, or model code changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from benchmark import tracking
from benchmark.evaluation import corruptions as cr
from benchmark.evaluation.evaluate import EvaluationJob, SplitRef, eval_key, run_evaluation_job
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Experiment


@dataclass
class EvaluationSummary:
    evaluated: int = 0  # evaluation runs logged now
    reused: int = 0  # evaluation runs found FINISHED
    failed: list[str] = field(default_factory=list)  # "row / split k: reason"
    notices: list[str] = field(default_factory=list)
    split_runs: int = 0


def plan(
    suite: Any,
    store: Any,
    uri: str | None,
    *,
    corruptions: list[str] | None = None,
    plugins: tuple[str, ...] = (),
    measure_cost: bool = True,
) -> tuple[list[EvaluationJob], EvaluationSummary, str]:
    """The jobs still to do, what was reused and every notice; the experiment id."""
    from benchmark.code_identity import code_fingerprint
    from benchmark.report.collect import collect
    from benchmark.tracking import evaluations

    collected = collect(suite, store.name, uri, dataset_fingerprint=store.fingerprint)
    client = tracking.client(uri, create=False)
    experiment = cast("Experiment", client.get_experiment_by_name(store.name)).experiment_id  # collect found it
    tracking.close_orphans(client, experiment)  # evaluations a killed bench evaluate left RUNNING
    done = evaluations.finished(client, experiment)
    wanted = cr.instances(list(store.modalities), corruptions)
    summary, jobs = EvaluationSummary(), []
    for row in collected.rows:
        no_model, other_code, costed = (
            0,
            set(),
            False,
        )  # cost: measured on one model per row (the first to evaluate clean)
        for record in row.finished:
            run = client.get_run(record.run_id)
            tags = run.data.tags
            if not tags.get(f"{TAG}kept_model"):
                no_model += 1
                continue
            model = tags.get(f"{TAG}model", "")
            trained_with, now = tags.get(f"{TAG}code_fingerprint", ""), code_fingerprint(model)
            if trained_with != now:
                other_code.add((trained_with, now))
                continue
            summary.split_runs += 1
            keys = [eval_key(record.run_id, i) for i in wanted]
            todo = [(i, k) for i, k in zip(wanted, keys) if k not in done]
            summary.reused += len(wanted) - len(todo)
            if todo:
                cost_here = measure_cost and not costed and any(i.corruption == "clean" for i, _ in todo)
                costed = costed or cost_here
                jobs.append(
                    EvaluationJob(
                        str(store.path),
                        tracking.tracking_uri(uri),
                        experiment,
                        record.run_id,
                        row.row.name,
                        SplitRef(record.split),
                        tuple(i for i, _ in todo),
                        tuple(k for _, k in todo),
                        plugins,
                        cost_here,
                    )
                )
        name = row.row.name
        if no_model:
            summary.notices.append(
                f"{name}: {no_model} split run{'s' if no_model > 1 else ''} kept no model (trained before models "
                "were kept, or with --no-keep-models): not evaluated; `bench run --force` retrains them"
            )
        for trained_with, now in sorted(other_code):
            summary.notices.append(
                f"{name}: model code changed since training ({trained_with or 'unknown'} -> {now}): not evaluated "
                "with the new code; `bench run` trains the row again, then evaluate"
            )
    return jobs, summary, experiment


def run_jobs(
    jobs: list[EvaluationJob], executor: Any, summary: EvaluationSummary, on_done: Callable[[Any], None] | None = None
) -> None:
    """In this process (``executor`` None) or through a worker executor; outcomes counted into ``summary``."""
    from contextlib import closing

    by_run = {job.split_run_id: job for job in jobs}
    if executor is None:
        for outcome in (run_evaluation_job(job) for job in jobs):
            _count(outcome, by_run, summary, on_done)
        return
    with closing(executor.run(jobs)) as outcomes:  # a stop cancels the workers' jobs
        for outcome in outcomes:
            _count(outcome, by_run, summary, on_done)


def _count(outcome: Any, by_run: dict, summary: EvaluationSummary, on_done: Callable[[Any], None] | None) -> None:
    job = by_run[outcome.fingerprint]
    if outcome.status == "FINISHED":
        summary.evaluated += len(job.instances)
    else:
        summary.failed.append(f"{job.row} / split {job.split.index}: {outcome.reason}")
    if on_done:
        on_done(outcome)
