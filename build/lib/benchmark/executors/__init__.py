"""Executors for independent (config, split) jobs, chosen by name with ``--executor``.

``local`` runs in this process (default; per-epoch progress), ``processes`` in local worker
processes, ``dask`` on a Dask cluster. Only ``local`` can train a configuration's splits together
(``--engine``); workers run one split per job. Each lives in its own module and is imported only when chosen.
"""

from __future__ import annotations

from benchmark.executors.base import Executor
from benchmark.params import ParamError, check_choice

EXECUTORS = ("local", "processes", "dask")


def make_executor(
    name: str = "local", *, jobs: int | None = None, scheduler: str | None = None, engine: str = "auto", compile: bool = False
) -> Executor:
    """``engine``/``compile`` choose the training loop of the local executor (``benchmark.engine.policy``);
    worker executors train one split per job with the plain loop."""
    from benchmark.engine.policy import check_engine

    check_choice("executor", name, EXECUTORS)
    check_engine(engine, name, compile)
    if scheduler is not None and name != "dask":
        raise ParamError("--scheduler is only used with --executor dask")
    if name == "processes":
        from benchmark.executors.processes import ProcessesExecutor

        return ProcessesExecutor(jobs)
    if name == "dask":
        from benchmark.executors.dask import DaskExecutor

        return DaskExecutor(jobs, scheduler)
    from benchmark.executors.inprocess import InProcessExecutor

    return InProcessExecutor(engine, compile)


__all__ = ["EXECUTORS", "Executor", "make_executor"]
