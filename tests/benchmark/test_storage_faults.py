"""A tracking store on a tiny disk: full at creation, full mid-run, its folder vanishing mid-run. Each ends in one
line and exit code 3, leaves no temporary file, and a rerun after the fix finishes every split once.

The disk is a small tmpfs (needs the right to mount, e.g. root; skipped otherwise)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmark import faults, tracking
from benchmark.cli import app

ROOT = Path(__file__).resolve().parents[2]
N_SPLITS, ROWS = 2, 4  # table2


@pytest.fixture
def disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not permitted'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True, capture_output=True)


def run_args(store, uri, epochs=3):
    return [
        "run",
        "--suite",
        "table2",
        "--features",
        str(store),
        "--n-splits",
        str(N_SPLITS),
        "--epochs",
        str(epochs),
        "--tracking-uri",
        uri,
        "--no-report",
    ]


def start(args) -> subprocess.Popen:
    """A separate process, as a user runs it (the runs it leaves RUNNING belong to a process that then dies)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_error_line(stderr: str, db: Path, problem: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert str(db) in lines[0] and problem in lines[0], lines[0]


def finished_splits(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute(
            "select r.tags_row, r.tags_split from (select run_uuid, "
            "max(case when key='bench.row' then value end) tags_row, max(case when key='bench.split' then value end) "
            "tags_split, "
            "max(case when key='bench.kind' then value end) kind from tags group by run_uuid) r "
            "join runs on runs.run_uuid = r.run_uuid where r.kind = 'split' and runs.status = 'FINISHED'"
        ).fetchall()


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if ".creating-" in p.name or p.name.endswith("-journal")]


def test_full_disk_and_vanished_folder_end_in_one_line_and_a_rerun_finishes_every_split_once(disk, tiny_store):
    db = disk / "mlruns" / "mlflow.db"
    uri = f"sqlite:///{db}"

    full = CliRunner().invoke(app, run_args(tiny_store, uri))  # 600 KiB: MLflow's tables do not fit
    assert full.exit_code == faults.EXIT_CODE, full.output
    one_error_line(full.stderr, db, "the disk is full")
    assert not db.exists() and no_temporary_files(disk)

    remount(disk, "size=16m")  # room for the tables, then nearly none left for the runs
    tracking.client(uri)
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * (free - 100 * 1024))
    process = start(run_args(tiny_store, uri))
    _, err = process.communicate(timeout=300)
    assert process.returncode == faults.EXIT_CODE, err
    one_error_line(err, db, "the disk is full")
    assert no_temporary_files(disk)
    before = len(finished_splits(db))
    assert before < ROWS * N_SPLITS

    (disk / "filler").unlink()  # space freed; then the tracking folder vanishes while the run trains
    process = start(run_args(tiny_store, uri))
    deadline = time.time() + 240
    while len(finished_splits(db)) == before and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    (disk / "mlruns").rename(disk / "moved")
    _, err = process.communicate(timeout=300)
    assert process.returncode == faults.EXIT_CODE, err
    one_error_line(err, db, "vanished")
    assert not (disk / "mlruns").exists(), sorted(str(p) for p in (disk / "mlruns").rglob("*"))[
        :20
    ]  # nothing half-made in its place
    (disk / "moved").rename(disk / "mlruns")

    rerun = CliRunner().invoke(app, run_args(tiny_store, uri))
    assert rerun.exit_code == 0, rerun.output
    finished = finished_splits(db)
    assert sorted(set(finished)) == sorted(finished) and len(finished) == ROWS * N_SPLITS  # each (row, split) once
    with sqlite3.connect(db) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    assert no_temporary_files(disk)


def test_sqlite_and_os_errors_are_named_faults_and_others_are_not(tmp_path):
    db = tmp_path / "mlflow.db"
    sqlite3.connect(db).execute("create table t (x)").connection.commit()
    with pytest.raises(sqlite3.OperationalError) as caught:  # what a read-only folder or mount gives SQLite
        sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("insert into t values (1)")
    fault = faults.classify(caught.value, db)
    assert fault is not None and str(db) in str(fault) and "read-only" in str(fault)
    full = faults.classify(OSError(28, "No space left on device", str(tmp_path / "artifacts" / "split.json")))
    assert full is not None and "split.json" in str(full) and "full" in str(full)
    assert faults.classify(ValueError("a training error")) is None
    assert (
        faults.classify(FileNotFoundError(2, "No such file or directory")) is None
    )  # names no file: not a storage fault


def test_a_fault_in_a_worker_process_reaches_the_command_as_one_fault():
    import pickle

    from features.errors import StoreError

    vanished = StoreError("/data/store/visual.npy", "file is missing")
    with pytest.raises(faults.StorageFault) as caught:
        faults.raise_if_fault(pickle.loads(pickle.dumps(vanished)))  # as the processes executor receives it
    assert "/data/store/visual.npy" in str(caught.value) and "vanished" in str(caught.value)
    again = pickle.loads(pickle.dumps(caught.value))
    assert (again.path, again.problem) == (caught.value.path, caught.value.problem)
    faults.raise_if_fault(RuntimeError("a training error"))  # not a fault: the split fails, the suite goes on
