"""A real SIGTERM to a real ``bench run`` mid-training (in-process and with worker processes): no process
of it remains, nothing is RUNNING, one line said so (exit 143); the rerun trains each (row, split) once."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.cli import bench

SUITE = """
name = "stop"
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
"""
ROOT = Path(__file__).resolve().parents[2]


def runs(uri: str) -> list:
    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids) if ids else []


def wait_for_training(uri: str, process: subprocess.Popen, limit_s: float = 120) -> None:
    """Until a split run has logged an epoch (the command is mid-training)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if any(
                r.data.tags.get("bench.kind") == "split"
                and r.info.status == "RUNNING"
                and "train_loss" in r.data.metrics
                for r in runs(uri)
            ):
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError(f"bench run never trained: {process.poll()}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    "executor",
    [(), pytest.param(("--executor", "processes", "--jobs", "2"), marks=pytest.mark.slow)],
    ids=["local", "processes"],
)
def test_sigterm_mid_run_stops_everything_and_the_rerun_resumes(tiny_store, tracking_uri, tmp_path, executor):
    suite = tmp_path / "stop.toml"
    suite.write_text(SUITE)
    args = [
        "run",
        "--suite",
        str(suite),
        "--features",
        str(tiny_store),
        "--n-splits",
        "2",
        "--epochs",
        "30",
        "--no-report",
        "--tracking-uri",
        tracking_uri,
        *executor,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_training(tracking_uri, process)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 143, err
    lines = [line for line in err.splitlines() if "stopped" in line or "Traceback" in line or "Error" in line]
    assert lines == [line for line in err.splitlines() if line.startswith("stopped by SIGTERM")] and len(lines) == 1, (
        err
    )
    for _ in range(50):  # the workers were joined before exit; their process group may take a moment to be reaped
        if not group_alive(process.pid):
            break
        time.sleep(0.1)
    assert not group_alive(process.pid), "a process of bench run outlived it"
    statuses = collections.Counter((r.data.tags["bench.kind"], r.info.status) for r in runs(tracking_uri))
    assert statuses[("parent", "KILLED")] == 1 and statuses[("split", "KILLED")] >= 1
    assert not [k for k in statuses if k[1] == "RUNNING"], statuses

    rerun = bench(
        *args[: len(args) - len(executor)]
    )  # in this process (the executor is not part of what a run computes)
    assert rerun.exit_code == 0, rerun.output
    finished = collections.Counter(
        (r.data.tags["bench.row"], r.data.tags["bench.split"])
        for r in runs(tracking_uri)
        if r.data.tags["bench.kind"] == "split" and r.info.status == "FINISHED"
    )
    assert finished == {("full", "0"): 1, ("full", "1"): 1}
