"""Executors for independent (config, split) jobs, chosen by name with ``--executor``."""

from __future__ import annotations

from benchmark.executors.base import Executor
from benchmark.params import check_choice

EXECUTORS = ("local",)


def make_executor(name: str = "local", **options) -> Executor:
    check_choice("executor", name, EXECUTORS)
    from benchmark.executors.inprocess import InProcessExecutor

    return InProcessExecutor()


__all__ = ["EXECUTORS", "Executor", "make_executor"]
