"""The default executor: jobs one after another in this process (per-epoch progress, easy debugging)."""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

from benchmark.executors.base import Executor
from benchmark.jobs import JobOutcome, SplitJob, run_split_job


class InProcessExecutor(Executor):
    name = "local"
    reports_epochs = True

    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Iterator[JobOutcome]:
        for job in jobs:
            yield run_split_job(job, on_epoch=(lambda record, job=job: on_epoch(job, record)) if on_epoch else None)
