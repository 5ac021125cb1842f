"""Jobs in local worker processes (``--executor processes --jobs N``).

Workers are spawned (not forked: torch and MLflow clients do not survive a fork well) and each uses
``cores // N`` torch threads. A worker that dies (OOM killer, segfault) breaks the pool; its jobs are
submitted again to a fresh pool, up to ``retries`` times.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterator, Sequence

from benchmark import faults
from benchmark.executors.base import Executor
from benchmark.jobs import JobOutcome, SplitJob, run_split_job


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


class ProcessesExecutor(Executor):
    name = "processes"

    def __init__(self, jobs: int | None = None, retries: int = 2, fn: Callable[[SplitJob], JobOutcome] = run_split_job):
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self.retries = retries
        self.fn = fn

    def training_threads(self) -> int:
        return max(1, (os.cpu_count() or 1) // self.workers)

    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Iterator[JobOutcome]:
        pending = list(jobs)
        threads = self.training_threads()
        for attempt in range(self.retries + 1):
            if not pending:
                return
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker, initargs=(threads,)) as pool:
                futures = {pool.submit(self.fn, job): job for job in pending}
                pending = []
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in done:
                        try:
                            yield future.result()
                        except BrokenProcessPool:
                            pending.append(futures[future])
                        except Exception as exc:  # noqa: BLE001  (an infrastructure error, not a training one)
                            faults.raise_if_fault(exc)  # a full disk or a vanished store: stop with one line
                            job = futures[future]
                            yield JobOutcome(job.fingerprint, job.row, job.split.index, "FAILED", "", reason=f"{type(exc).__name__}: {exc}")
        for job in pending:
            yield JobOutcome(job.fingerprint, job.row, job.split.index, "FAILED", "", reason="worker process died on every attempt")
