"""A worker process that dies mid-job has its job run again: by our pool restart (processes) or by
Dask's scheduler (dask). The job function is swapped for one that kills its worker on first sight."""

from __future__ import annotations

import os
import signal
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
    return JobOutcome(
        job.fingerprint, job.row, job.split.index, "FINISHED", f"run-{job.fingerprint}-{os.getpid()}", test_acc=0.5
    )


def b_always_dies(job: FakeJob) -> JobOutcome:
    """Job 'b' kills its worker with SIGKILL (what the out-of-memory killer sends) every time it runs."""
    if job.fingerprint == "b":
        with (Path(job.marker_dir) / "b.deaths").open("a") as deaths:
            deaths.write("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FINISHED", f"run-{job.fingerprint}", test_acc=0.5)


def jobs(tmp_path):
    return [FakeJob(name, "row", _Split(i), str(tmp_path)) for i, name in enumerate("abc")]


def test_processes_executor_reruns_the_jobs_of_a_dead_worker(tmp_path):
    outcomes = list(ProcessesExecutor(jobs=2, fn=die_once).run(jobs(tmp_path)))
    assert sorted(o.fingerprint for o in outcomes) == ["a", "b", "c"]
    assert all(o.status == "FINISHED" for o in outcomes)
    assert (tmp_path / "b.seen").exists()


def test_a_job_that_kills_its_worker_three_times_fails_alone(tmp_path):
    """Deaths are charged to the job that was running: 'b' fails after three attempts with how its worker
    died; the jobs queued behind it (one worker: none had started) all finish; one line per death."""
    notices: list[str] = []
    queued = [FakeJob(name, "row", _Split(i), str(tmp_path)) for i, name in enumerate("bacd")]
    outcomes = {
        o.fingerprint: o for o in ProcessesExecutor(jobs=1, fn=b_always_dies, on_notice=notices.append).run(queued)
    }
    assert sorted(outcomes) == ["a", "b", "c", "d"]
    assert {fp: o.status for fp, o in outcomes.items()} == {
        "a": "FINISHED",
        "b": "FAILED",
        "c": "FINISHED",
        "d": "FINISHED",
    }
    assert "SIGKILL" in outcomes["b"].reason and "3" in outcomes["b"].reason
    assert (tmp_path / "b.deaths").read_text() == "xxx"
    assert len(notices) == 3 and all("SIGKILL" in line and "row / split 0" in line for line in notices)
    assert "replaced" in notices[0] and "attempt 2 of 3" in notices[0]
    assert "that split fails" in notices[2] and "attempt 3 of 3" in notices[2]


@pytest.mark.slow
def test_dask_moves_the_job_of_a_dead_worker_elsewhere(tmp_path):
    outcomes = list(DaskExecutor(jobs=2, fn=die_once).run(jobs(tmp_path)))
    assert sorted(o.fingerprint for o in outcomes) == ["a", "b", "c"]
    assert all(o.status == "FINISHED" for o in outcomes)
    assert (tmp_path / "b.seen").exists()
