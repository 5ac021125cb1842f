"""Jobs on a Dask distributed cluster (``--executor dask [--scheduler tcp://HOST:PORT]``).

Without ``--scheduler`` a ``LocalCluster`` of ``--jobs`` single-threaded worker processes starts on
127.0.0.1 and stops afterwards. Scheduling, retries and moving the jobs of a dead worker elsewhere
are Dask's (``allowed-failures``); nothing here reimplements them. Each job logs to the shared
tracking URI itself, so workers on other machines need a tracking server every machine can reach
(``bench server``), not a local SQLite file.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

from benchmark import faults
from benchmark.executors.base import Executor
from benchmark.jobs import JobOutcome, SplitJob, run_split_job


def _distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ImportError("the dask executor needs Dask distributed: pip install 'ver-bench[distributed]'") from None
    return distributed


class DaskExecutor(Executor):
    name = "dask"

    def __init__(
        self,
        jobs: int | None = None,
        scheduler: str | None = None,
        retries: int = 1,
        fn: Callable[[SplitJob], JobOutcome] = run_split_job,
    ):
        self.workers = max(1, jobs or 2)
        self.scheduler = scheduler
        self.retries = retries
        self.fn = fn

    def training_threads(self) -> int:
        """One: Dask's workers here run one task at a time, and its nanny starts them with ``OMP_NUM_THREADS=1``.
        Workers on other machines are not measured: ``--precision auto`` is resolved by this machine's
        calibration at one thread (docs/guide/performance.md: pass ``--precision`` when the workers' CPUs differ)."""
        return 1

    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Generator[JobOutcome, None, None]:
        distributed = _distributed()
        cluster = None
        if self.scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
        client = distributed.Client(cluster if cluster is not None else self.scheduler)
        try:
            futures = {client.submit(self.fn, job, pure=False, retries=self.retries): job for job in jobs}
            for future in distributed.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except Exception as exc:
                    faults.raise_if_fault(exc)  # a full disk or a vanished store: stop with one line
                    yield JobOutcome(
                        job.fingerprint, job.row, job.split.index, "FAILED", "", reason=f"{type(exc).__name__}: {exc}"
                    )
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
