"""Errors raised for bad feature stores."""

from __future__ import annotations

from pathlib import Path


class StoreError(ValueError):
    """A store is unusable. The message is one line: the file, then what is wrong with it."""

    def __init__(self, file: str | Path, problem: str):
        self.file = Path(file)
        self.problem = problem
        super().__init__(f"{self.file}: {problem}")

    def __reduce__(self):  # raised in a worker process, it crosses back pickled
        return (type(self), (self.file, self.problem))
