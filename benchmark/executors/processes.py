"""Jobs in local worker processes (``--executor processes --jobs N``).

Workers are spawned (not forked: torch and MLflow clients do not survive a fork well), run one job
at a time (:mod:`benchmark.executors.workers`) and each uses ``cores // N`` torch threads. A worker
that dies (OOM killer, segfault) is replaced, with one line saying so, and only the job it was running
is charged: that job runs again up to ``retries`` times, then fails alone with how its worker died.
Jobs that never started are never charged. On a stop signal every worker is stopped (its run marked
KILLED) before the command exits.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from multiprocessing.connection import wait

from benchmark import faults
from benchmark.executors.base import Executor
from benchmark.executors.workers import Worker, stop_all
from benchmark.jobs import JobOutcome, SplitJob, run_split_job


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class ProcessesExecutor(Executor):
    name = "processes"

    def __init__(
        self,
        jobs: int | None = None,
        retries: int = 2,
        fn: Callable[[SplitJob], JobOutcome] = run_split_job,
        on_notice: Callable[[str], None] | None = None,
    ):
        self.workers = max(1, jobs or os.cpu_count() or 1)
        self.retries = retries
        self.fn = fn
        self.on_notice = on_notice or _stderr

    def training_threads(self) -> int:
        return max(1, (os.cpu_count() or 1) // self.workers)

    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Generator[JobOutcome, None, None]:
        queue, deaths = deque(jobs), Counter[str]()
        threads = self.training_threads()
        context = multiprocessing.get_context("spawn")
        workers: list[Worker] = []
        stopped = True  # until the loop ends normally: an exception or a closed generator stops the workers
        try:
            while queue or any(w.job is not None for w in workers):
                idle = [w for w in workers if w.job is None]
                while queue and (idle or len(workers) < self.workers):
                    worker = idle.pop() if idle else Worker(context, self.fn, threads)
                    if worker not in workers:
                        workers.append(worker)
                    worker.give(queue.popleft())
                busy = [w for w in workers if w.job is not None]
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
                for worker in busy:
                    if worker.conn not in ready and worker.process.sentinel not in ready:
                        continue
                    job, reply = worker.job, worker.receive()
                    if reply is not None:
                        worker.job = None
                        yield self._outcome(job, *reply)
                        continue
                    workers.remove(worker)  # died mid-job: replaced by a fresh one at the next fill
                    deaths[job.fingerprint] += 1
                    how = worker.death()
                    worker.conn.close()
                    where = f"{getattr(job, 'row', '?')} / split {job.split.index}"
                    if deaths[job.fingerprint] > self.retries:
                        self.on_notice(
                            f"a worker process {how} while running {where} (attempt {deaths[job.fingerprint]} of "
                            f"{self.retries + 1}): that split fails; the others go on"
                        )
                        yield JobOutcome(
                            job.fingerprint,
                            job.row,
                            job.split.index,
                            "FAILED",
                            "",
                            reason=f"its worker process died on every attempt ({deaths[job.fingerprint]}; last {how})",
                        )
                    else:
                        self.on_notice(
                            f"a worker process {how} while running {where}; replaced, that split runs again "
                            f"(attempt {deaths[job.fingerprint] + 1} of {self.retries + 1})"
                        )
                        queue.appendleft(job)
            stopped = False
        finally:
            stop_all(workers, signal_them=stopped)

    @staticmethod
    def _outcome(job: SplitJob, kind: str, payload) -> JobOutcome:
        if kind == "ok":
            return payload
        faults.raise_if_fault(payload)  # a full disk, a vanished store or a service gone: stop with one line
        return JobOutcome(
            job.fingerprint, job.row, job.split.index, "FAILED", "", reason=f"{type(payload).__name__}: {payload}"
        )
