"""A SQLite tracking store is either absent or complete, whatever moment its creating process dies at."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from benchmark import tracking
from benchmark.cli import app

ROOT = Path(__file__).resolve().parents[2]
CREATE = "from benchmark import tracking; import sys; tracking.client(sys.argv[1])"


def kill_during_creation(uri: str, db: Path, delay: float) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", CREATE, uri], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while not list(db.parent.glob(f".{db.name}.creating-*")) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_killing_the_first_creation_at_any_moment_leaves_no_half_made_store(tiny_store, tmp_path):
    db = tmp_path / "mlruns" / "mlflow.db"
    uri = f"sqlite:///{db}"
    outcomes = []
    for delay in (0.0, 0.05, 0.2, 0.5, 1.0):
        kill_during_creation(uri, db, delay)
        outcomes.append(db.exists())
        if db.exists():  # the rename happened: the store is complete and opens as it is
            assert MlflowClient(uri).search_experiments()
            db.unlink()
    assert not all(outcomes), "every kill came after the creation finished: the test did not probe it"
    tracking.client(uri)  # a later creation cleans the leftovers and succeeds
    assert db.exists() and not list(db.parent.glob(".mlflow.db.creating-*"))
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            "table2",
            "--features",
            str(tiny_store),
            "--n-splits",
            "1",
            "--epochs",
            "1",
            "--tracking-uri",
            uri,
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trained 4 split runs" in result.output
