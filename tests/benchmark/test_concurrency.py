"""Several ``bench run`` processes on one tracking store train each (configuration, split) once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.services import mlflow_server

ROOT = Path(__file__).resolve().parents[2]
N_SPLITS = 2


def start_run(store: Path, uri: str, cwd: Path) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "benchmark.cli",
        "run",
        "--suite",
        "table2",
        "--features",
        str(store),
        "--n-splits",
        str(N_SPLITS),
        "--epochs",
        "3",
        "--tracking-uri",
        uri,
        "--no-report",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "COLUMNS": "160"}
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.lstrip().startswith("│") and "±" in line]


def check_concurrent_runs(store: Path, uri: str, cwd: Path, n: int) -> list[str]:
    processes = [start_run(store, uri, cwd) for _ in range(n)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output
    tables = [table_lines(o) for o in outputs]
    assert len(tables[0]) == 4 and all(t == tables[0] for t in tables), outputs
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    children = client.search_runs([experiment], "tags.`bench.kind` = 'split'", max_results=1000)
    finished = sorted(
        (r.data.tags["bench.row"], r.data.tags["bench.split"]) for r in children if r.info.status == "FINISHED"
    )
    rows = ["Ours", "w/o audio branch", "w/o skeleton branch", "w/o visual branch"]
    assert finished == sorted((row, str(k)) for row in rows for k in range(N_SPLITS))
    assert all(r.info.status == "FINISHED" for r in children)  # losers deleted themselves: nothing RUNNING or KILLED
    parents = client.search_runs([experiment], "tags.`bench.kind` = 'parent'")
    assert sorted(p.data.tags["bench.row"] for p in parents) == rows
    assert all(p.info.status == "FINISHED" for p in parents)
    trained = sum(int(o.split("trained ")[1].split()[0]) for o in outputs)
    assert trained == len(rows) * N_SPLITS, outputs
    return outputs


def test_three_processes_on_one_sqlite_store_train_each_split_once(tiny_store, tracking_uri, tmp_path):
    check_concurrent_runs(tiny_store, tracking_uri, tmp_path, 3)


def test_two_processes_on_one_bench_server_train_each_split_once(tiny_store, tmp_path):
    with mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts") as uri:
        check_concurrent_runs(tiny_store, uri, tmp_path, 2)
