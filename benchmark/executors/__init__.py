"""Executors for independent (config, split) jobs, chosen by name with ``--executor``.

``local`` runs in this process (default; per-epoch progress), ``processes`` in local worker
processes, ``dask`` on a Dask cluster. Only ``local`` can train a configuration's splits together
(``--engine``); workers run one split per job. Each lives in its own module and is imported only when chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from benchmark.executors.base import Executor
from benchmark.params import ParamError, check_choice, check_int

EXECUTORS = ("local", "processes", "dask")


@overload
def make_executor(
    name: str = ...,
    *,
    jobs: int | None = ...,
    scheduler: str | None = ...,
    engine: str = ...,
    compile: bool = ...,
    fn: None = ...,
    on_notice: Callable[[str], None] | None = ...,
) -> Executor: ...


@overload
def make_executor(
    name: str = ...,
    *,
    jobs: int | None = ...,
    scheduler: str | None = ...,
    engine: str = ...,
    compile: bool = ...,
    fn: Callable,
    on_notice: Callable[[str], None] | None = ...,
) -> Executor | None: ...


def make_executor(
    name: str = "local",
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    engine: str = "auto",
    compile: bool = False,
    fn: Callable | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Executor | None:
    """``engine``/``compile`` choose the training loop of the local executor (``benchmark.engine.policy``);
    worker executors train one split per job with the plain loop. ``fn`` replaces the split job that worker
    executors run (nested tuning's outer split); with ``fn``, ``local`` gives None: the caller runs its jobs
    in this process itself, with live output. ``on_notice``: where a worker executor says that a worker died
    and was replaced (one line)."""
    from benchmark.engine.policy import check_engine

    check_choice("executor", name, EXECUTORS)
    if jobs is not None:
        check_int("--jobs", jobs, low=1)
    if fn is None:
        check_engine(engine, name, compile)
    if scheduler is not None and name != "dask":
        raise ParamError("--scheduler is only used with --executor dask")
    extra: dict[str, Any] = {"fn": fn} if fn is not None else {}
    if name == "processes":
        from benchmark.executors.processes import ProcessesExecutor

        return ProcessesExecutor(jobs, on_notice=on_notice, **extra)
    if name == "dask":
        from benchmark.executors.dask import DaskExecutor

        return DaskExecutor(jobs, scheduler, **extra)
    if fn is not None:
        return None
    from benchmark.executors.inprocess import InProcessExecutor

    return InProcessExecutor(engine, compile)


__all__ = ["EXECUTORS", "Executor", "make_executor"]
