"""Executors for independent (config, split) jobs, chosen by name with ``--executor``.

``local`` runs in this process (default; per-epoch progress), ``processes`` in local worker
processes, ``dask`` on a Dask cluster. Each lives in its own module and is imported only when chosen.
"""

from __future__ import annotations

from benchmark.executors.base import Executor
from benchmark.params import ParamError, check_choice

EXECUTORS = ("local", "processes", "dask")


def make_executor(name: str = "local", *, jobs: int | None = None, scheduler: str | None = None) -> Executor:
    check_choice("executor", name, EXECUTORS)
    if scheduler is not None and name != "dask":
        raise ParamError("--scheduler is only used with --executor dask")
    if name == "processes":
        from benchmark.executors.processes import ProcessesExecutor

        return ProcessesExecutor(jobs)
    if name == "dask":
        from benchmark.executors.dask import DaskExecutor

        return DaskExecutor(jobs, scheduler)
    from benchmark.executors.inprocess import InProcessExecutor

    return InProcessExecutor()


__all__ = ["EXECUTORS", "Executor", "make_executor"]
