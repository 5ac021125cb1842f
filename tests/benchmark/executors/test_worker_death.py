"""A worker process that dies mid-job has its job run again: by our pool restart (processes) or by
Dask's scheduler (dask). The job function is swapped for one that kills its worker on first sight."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmark.executors.dask import DaskExecutor
from benchmark.executors.processes import ProcessesExecutor
from benchmark.jobs import JobOutcome


@dataclass(frozen=True)
class _Split:
    index: int


@dataclass(frozen=True)
class FakeJob:
    fingerprint: str
    row: str
    split: _Split
    marker_dir: str


def die_once(job: FakeJob) -> JobOutcome:
    """Kill the worker the first time job 'b' runs; succeed otherwise."""
    marker = Path(job.marker_dir) / f"{job.fingerprint}.seen"
    if job.fingerprint == "b" and not marker.exists():
        marker.write_text("died here once")
        os._exit(17)
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FINISHED", f"run-{job.fingerprint}-{os.getpid()}", test_acc=0.5)


def jobs(tmp_path):
    return [FakeJob(name, "row", _Split(i), str(tmp_path)) for i, name in enumerate("abc")]


def test_processes_executor_reruns_the_jobs_of_a_dead_worker(tmp_path):
    outcomes = list(ProcessesExecutor(jobs=2, fn=die_once).run(jobs(tmp_path)))
    assert sorted(o.fingerprint for o in outcomes) == ["a", "b", "c"]
    assert all(o.status == "FINISHED" for o in outcomes)
    assert (tmp_path / "b.seen").exists()


@pytest.mark.slow
def test_dask_moves_the_job_of_a_dead_worker_elsewhere(tmp_path):
    outcomes = list(DaskExecutor(jobs=2, fn=die_once).run(jobs(tmp_path)))
    assert sorted(o.fingerprint for o in outcomes) == ["a", "b", "c"]
    assert all(o.status == "FINISHED" for o in outcomes)
    assert (tmp_path / "b.seen").exists()
