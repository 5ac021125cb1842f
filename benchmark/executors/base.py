"""The executor contract: run independent jobs, hand back each outcome as it completes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence

from benchmark.jobs import JobOutcome, SplitJob


class Executor(ABC):
    """Runs :class:`SplitJob` s. Implementations live in their own modules (in-process, processes, Dask)."""

    name: str = ""

    #: Whether per-epoch progress can be shown (only when jobs run in this process).
    reports_epochs: bool = False

    def training_threads(self) -> int:
        """The torch threads each job trains on (``--precision auto`` is calibrated at this count)."""
        import torch

        return torch.get_num_threads()

    @abstractmethod
    def run(self, jobs: Sequence[SplitJob], on_epoch: Callable | None = None) -> Generator[JobOutcome, None, None]:
        """Yield one outcome per job, in completion order."""
