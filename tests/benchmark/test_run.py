"""End to end: ``bench run`` on a tiny store, checked against what MLflow holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from features.store import open_store
from tests.cli import bench

SUITE = """
name = "tiny"
title = "tiny suite"
reference = "full"
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
paper = 43.2
[[rows]]
name = "w/o visual"
model = "proposed"
modalities = ["audio", "skeleton"]
paper = 37.4
[[rows]]
name = "probe"
model = "linear_probe"
modalities = ["visual", "audio", "skeleton"]
"""


@pytest.fixture
def suite_file(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SUITE)
    return path


def children(client, experiment_id, status=None):
    runs = client.search_runs([experiment_id], "tags.`bench.kind` = 'split'", max_results=1000)
    return [r for r in runs if status is None or r.info.status == status]


def run_args(store, suite_file, uri, *extra):
    return (
        "run",
        "--suite",
        str(suite_file),
        "--features",
        str(store),
        "--n-splits",
        "2",
        "--epochs",
        "2",
        "--tracking-uri",
        uri,
        *extra,
    )


def test_run_logs_the_contract_and_reuses_finished_runs(tiny_store, suite_file, tracking_uri):
    result = bench(*run_args(tiny_store, suite_file, tracking_uri))
    assert result.exit_code == 0, result.output
    assert "trained 6 split runs" in result.output
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3")
    assert experiment is not None
    parents = client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'parent'")
    assert sorted(p.data.tags["bench.row"] for p in parents) == ["full", "probe", "w/o visual"]
    finished = children(client, experiment.experiment_id, "FINISHED")
    assert len(finished) == 6
    by_parent = {p.info.run_id: p for p in parents}
    for run in finished:
        tags = run.data.tags
        parent = by_parent[tags["mlflow.parentRunId"]]
        assert tags["bench.row"] == parent.data.tags["bench.row"]
        assert run.info.run_name == f"{tags['bench.row']} / split {tags['bench.split']}"
        for key in (
            "bench.suite",
            "bench.fingerprint",
            "bench.dataset_fingerprint",
            "mlflow.source.git.commit",
            "bench.versions",
            "bench.device",
        ):
            assert tags.get(key), key
        assert run.data.params["train.epochs"] == "2"
        assert "test_acc_best_epoch" in run.data.metrics
        assert run.data.metrics["test_acc_best_epoch"] >= run.data.metrics["test_acc"]
        history = client.get_metric_history(run.info.run_id, "test_acc")
        if tags["bench.row"] != "probe":
            assert [m.step for m in sorted(history, key=lambda m: m.step)] == [1, 2]
            assert len(client.get_metric_history(run.info.run_id, "train_loss")) == 2
        split = json.loads(Path(client.download_artifacts(run.info.run_id, "split.json")).read_text())
        assert len(split["train"]) == 20 and len(split["test"]) == 10
        assert not set(split["train"]) & set(split["test"])
    for parent in parents:
        accs = [r.data.metrics["test_acc"] for r in finished if r.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        assert parent.data.metrics["n_splits"] == 2
        assert parent.data.metrics["test_acc_mean"] == pytest.approx(np.mean(accs))
        assert parent.data.metrics["test_acc_std"] == pytest.approx(np.std(accs, ddof=1))
        assert parent.info.status == "FINISHED"
        # the synthetic store's best reachable accuracy for the row's modalities, beside the row
        modalities = parent.data.tags["bench.modalities"].split(",")
        assert parent.data.metrics["test_acc_ceiling"] == open_store(tiny_store).ceiling(modalities)["accuracy"]
    words = " ".join(result.output.split())  # rich wraps the narrow test terminal
    assert "reachable" in words and "best reachable: accuracy of the Bayes rule that knows the generator" in words

    again = bench(*run_args(tiny_store, suite_file, tracking_uri))
    assert again.exit_code == 0 and "trained 0 split runs, reused 6" in again.output
    assert len(children(client, experiment.experiment_id)) == 6
    assert len(client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'parent'")) == 3

    forced = bench(*run_args(tiny_store, suite_file, tracking_uri, "--force"))
    assert "trained 6 split runs" in forced.output
    assert len(children(client, experiment.experiment_id, "FINISHED")) == 12


def test_a_row_shared_by_two_suites_is_trained_once(tiny_store, suite_file, tracking_uri, tmp_path):
    bench(*run_args(tiny_store, suite_file, tracking_uri))
    other = tmp_path / "other.toml"
    other.write_text(
        'name = "other"\n[[rows]]\nname = "Ours (again)"\nmodel = "proposed"\nmodalities = ["visual", "audio", '
        '"skeleton"]\n'
    )
    result = bench(*run_args(tiny_store, other, tracking_uri))
    assert result.exit_code == 0 and "trained 0 split runs, reused 2" in result.output


def test_invalid_store_fails_before_anything_is_logged(tiny_store, suite_file, tmp_path):
    (tiny_store / "audio.npy").unlink()
    uri = f"sqlite:///{tmp_path / 'fresh' / 'mlflow.db'}"
    result = bench(*run_args(tiny_store, suite_file, uri))
    assert result.exit_code == 2
    assert "audio.npy: missing" in result.output
    assert not (tmp_path / "fresh").exists()


def test_nan_loss_marks_the_split_failed_and_the_suite_goes_on(tiny_store, suite_file, tracking_uri):
    result = bench(*run_args(tiny_store, suite_file, tracking_uri, "--lr", "1e30"))
    assert result.exit_code == 1
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    failed = children(client, experiment, "FAILED")
    assert failed and all("loss became" in r.data.tags["bench.failure_reason"] for r in failed)
    assert len(children(client, experiment, "FINISHED")) == 2  # the probe has no learning rate
    assert "0/2" in result.output and "FAILED" in result.output


def test_kill_9_then_rerun_finishes_with_one_finished_run_per_split(tiny_store, suite_file, tracking_uri, tmp_path):
    args = [
        sys.executable,
        "-m",
        "benchmark.cli",
        *run_args(tiny_store, suite_file, tracking_uri)[:-2],
        "--tracking-uri",
        tracking_uri,
    ]
    args[args.index("--epochs") + 1] = "40"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    client = MlflowClient(tracking_uri)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            experiment = (
                client.get_experiment_by_name("synthetic-ve8-seed3")
                if (tmp_path / "mlruns" / "mlflow.db").exists()
                else None
            )
            if (
                experiment
                and len(children(client, experiment.experiment_id, "FINISHED")) >= 1
                and children(client, experiment.experiment_id, "RUNNING")
            ):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the run never reached a finished split")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    experiment_id = experiment.experiment_id
    assert children(client, experiment_id, "RUNNING")  # left behind by kill -9

    result = bench(
        *run_args(tiny_store, suite_file, tracking_uri)[:-2], "--tracking-uri", tracking_uri, "--epochs", "40"
    )
    assert result.exit_code == 0, result.output
    finished = children(client, experiment_id, "FINISHED")
    keys = [(r.data.tags["bench.row"], r.data.tags["bench.split"]) for r in finished]
    assert sorted(keys) == sorted({(row, str(k)) for row in ("full", "w/o visual", "probe") for k in range(2)})
    assert not children(client, experiment_id, "RUNNING")
    assert children(client, experiment_id, "KILLED")


def test_profile_needing_more_frames_than_the_store_has_is_an_input_error(tiny_store, suite_file, tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh' / 'mlflow.db'}"
    result = bench(*run_args(tiny_store, suite_file, uri, "--frames", "50"))
    assert result.exit_code == 2 and "pass --frames 12 or fewer" in result.output
    assert not (tmp_path / "fresh").exists()


COSTS_SUITE = """
name = "costs"
reference = "full"
costs = true
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
params = { proj_dims = { visual = 16, audio = 16, skeleton = 16 }, ff_dim = 32, mlp_hidden = 16 }
[[rows]]
name = "gmu"
model = "fusion_gmu"
modalities = ["visual", "audio", "skeleton"]
params = { proj_dims = { visual = 16, audio = 16, skeleton = 16 }, ff_dim = 32, mlp_hidden = 16, fusion_dim = 16 }
"""


def test_costs_are_logged_and_reported_beside_accuracy(tiny_store, tracking_uri, tmp_path):
    import pandas as pd

    from baselines import build_model
    from benchmark.config import get_profile, resolve_config
    from benchmark.suite import load_suite
    from features.store import open_store

    path = tmp_path / "costs.toml"
    path.write_text(COSTS_SUITE)
    result = bench(*run_args(tiny_store, path, tracking_uri, "--epochs", "2"))
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3")
    store = open_store(tiny_store)
    suite = load_suite(str(path))
    for parent in client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'parent'"):
        row = next(r for r in suite.rows if r.name == parent.data.tags["bench.row"])
        config = resolve_config(
            model=row.model, modalities=list(row.modalities), row_params=row.params, profile=get_profile("quick")
        )
        model = build_model(row.model, store.dims, len(store.classes), config.params)
        assert int(parent.data.tags["bench.n_parameters"]) == sum(p.numel() for p in model.parameters())
    for run in children(client, experiment.experiment_id, "FINISHED"):
        seconds = client.get_metric_history(run.info.run_id, "epoch_seconds")
        assert sorted(m.step for m in seconds) == [1, 2] and all(m.value > 0 for m in seconds)
        assert run.data.metrics["seconds_per_epoch"] == pytest.approx(np.mean([m.value for m in seconds]))
    table = next(Path("reports").rglob("table.md")).read_text()
    assert "| Params | s/epoch |" in table
    csv = pd.read_csv(next(Path("reports").rglob("table.csv")), comment="#")
    counts = dict(zip(csv["row"], csv["n_parameters"]))
    parents = {
        p.data.tags["bench.row"]: int(p.data.tags["bench.n_parameters"])
        for p in client.search_runs([experiment.experiment_id], "tags.`bench.kind` = 'parent'")
    }
    assert counts == parents and counts["gmu"] != counts["full"]
    assert (csv["seconds_per_epoch"] > 0).all()
