"""``bench tune`` end to end as separate processes: two processes share a grid on one SQLite study,
kill -9 then rerun completes the grid, TPE reaches its target and a rerun adds nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState
from typer.testing import CliRunner

from benchmark.cli import app

ROOT = Path(__file__).resolve().parents[3]


def tune_args(store, tracking_uri, *extra) -> list[str]:
    return [
        "tune",
        "--param",
        "alpha",
        "--features",
        str(store),
        "--epochs",
        "2",
        "--n-splits",
        "2",
        "--tracking-uri",
        tracking_uri,
        "--device",
        "cpu",
        "--study-name",
        "grid",
        *extra,
    ]


def start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", *args],
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def load(storage: str, name: str = "grid"):
    return optuna.load_study(study_name=name, storage=storage)


def check_grid_done_once(study) -> None:
    """Every grid point ran to an end (complete, or pruned by the median pruner) exactly once."""
    ended = [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert sorted(t.params["alpha"] for t in ended) == [2, 4, 8, 16], [
        (t.number, t.state, t.params) for t in study.trials
    ]


def trial_runs(tracking_uri):
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3")
    parents = client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'study'")
    trials = client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'trial'")
    return parents, trials


def test_two_processes_started_together_share_the_grid(tiny_store, tracking_uri, tmp_path):
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [start(tune_args(tiny_store, tracking_uri), tmp_path, log) for log in logs]
    for process in processes:
        assert process.wait(timeout=500) == 0, "\n".join(log.read_text()[-3000:] for log in logs)
    study = load(f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}")
    check_grid_done_once(study)
    parents, trials = trial_runs(tracking_uri)
    assert len(parents) == 1, "both processes log under one parent run"
    finished = [r for r in trials if r.info.status == "FINISHED"]
    assert len(finished) == 4 and {r.data.tags["mlflow.parentRunId"] for r in finished} == {parents[0].info.run_id}
    ran = [int(log.read_text().split("ran ")[1].split()[0]) for log in logs]
    assert sum(ran) == 4, [log.read_text() for log in logs]


def test_kill_9_then_rerun_completes_the_grid(tiny_store, tracking_uri, tmp_path):
    storage = f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}"
    args = tune_args(tiny_store, tracking_uri)
    args[args.index("--epochs") + 1] = "4"  # long enough to be killed mid-trial
    process = start(args, tmp_path, tmp_path / "killed.log")
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            time.sleep(0.5)
            try:
                trials = load(storage).get_trials()
            except Exception:
                continue
            if (
                any(t.state == TrialState.COMPLETE for t in trials)
                and any(t.state == TrialState.RUNNING for t in trials)
                and any(r.info.status == "RUNNING" for r in trial_runs(tracking_uri)[1])
            ):  # training has begun
                break
        else:
            pytest.fail("the search never reached a finished trial: " + (tmp_path / "killed.log").read_text()[-2000:])
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert any(t.state == TrialState.RUNNING for t in load(storage).get_trials())  # left behind by kill -9

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "re-queued killed trials" in result.output
    study = load(storage)
    check_grid_done_once(study)
    assert not [t for t in study.get_trials() if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    parents, trials = trial_runs(tracking_uri)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert sorted(r.info.status for r in trials).count("FINISHED") == 4
    assert [r.data.tags["bench.state"] for r in trials if r.info.status == "KILLED"] == [
        "killed"
    ]  # the killed trial's run, closed
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "ran 0 trials" in again.output and len(load(storage).trials) == len(study.trials)


def test_tpe_reaches_its_target_and_a_rerun_adds_nothing(tiny_store, tracking_uri, tmp_path):
    args = [
        "tune",
        "--param",
        "lr",
        "--param",
        "alpha",
        "--values",
        "alpha=2,4",
        "--trials",
        "3",
        "--features",
        str(tiny_store),
        "--epochs",
        "1",
        "--n-splits",
        "2",
        "--tracking-uri",
        tracking_uri,
        "--device",
        "cpu",
        "--study-name",
        "tpe",
    ]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    study = load(f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}", "tpe")
    assert len(study.trials) == 3 and all(t.state.is_finished() for t in study.trials)
    assert all(1e-5 <= t.params["lr"] <= 1e-2 and t.params["alpha"] in (2, 4) for t in study.trials)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "ran 0 trials" in again.output
    assert len(load(f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}", "tpe").trials) == 3


def test_bad_input_is_one_line_and_exit_2(tiny_store, tracking_uri, tmp_path):
    result = CliRunner().invoke(app, tune_args(tiny_store, tracking_uri, "--values", "2,x"))
    assert result.exit_code == 2 and "'x' is not a number" in result.output
    assert not (tmp_path / "mlruns").exists()
