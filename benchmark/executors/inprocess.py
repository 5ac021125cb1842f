"""The default executor: jobs in this process (per-epoch progress, easy debugging).

With the vectorised engine (``--engine vectorised``, or ``auto`` on CUDA) the splits of one
configuration train together as one model (:mod:`benchmark.engine`); the MLflow logging is the same
as for the plain loop, one child run per split.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from functools import partial

from benchmark.executors.base import Executor
from benchmark.jobs import JobOutcome, SplitJob, run_config_jobs, run_split_job


class InProcessExecutor(Executor):
    name = "local"
    reports_epochs = True

    def __init__(self, engine: str = "auto", compile: bool = False):
        from benchmark.engine.policy import check_engine

        self.engine = check_engine(engine, "local", compile)
        self.compile = compile

    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Generator[JobOutcome, None, None]:
        for group in _by_configuration(jobs):
            if self._engine_for(group) == "vectorised":
                yield from run_config_jobs(group, on_epoch, compile=self.compile)
                continue
            for job in group:
                yield run_split_job(job, on_epoch=partial(on_epoch, job) if on_epoch else None)

    def _engine_for(self, group: list[SplitJob]) -> str:
        from baselines import get_model
        from benchmark.engine.policy import choose_engine
        from benchmark.params import resolve_device

        job = group[0]
        return choose_engine(
            self.engine,
            resolve_device(job.device),
            model_kind=get_model(job.config.model).kind,
            n_splits=len(group),
            precision=job.config.train.precision,
        )


def _by_configuration(jobs: Sequence[SplitJob]) -> list[list[SplitJob]]:
    """Jobs grouped by (row, configuration, store, device), in first-seen order."""
    groups: dict[tuple, list[SplitJob]] = {}
    for job in jobs:
        key = (job.parent_run_id, job.row, job.config.fingerprint, job.store_path, job.device, job.tracking_uri)
        groups.setdefault(key, []).append(job)
    return list(groups.values())
