"""A tiny suite through worker processes and a Dask LocalCluster, logging to a real MLflow server on
PostgreSQL, gives the same finished runs and accuracies as the in-process executor."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from benchmark.cli import app
from tests.services import mlflow_server, postgres

SUITE = """
name = "tiny"
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
[[rows]]
name = "probe"
model = "linear_probe"
modalities = ["visual", "audio", "skeleton"]
"""


def run_suite(store, suite, uri, *extra):
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            str(suite),
            "--features",
            str(store),
            "--n-splits",
            "2",
            "--epochs",
            "2",
            "--tracking-uri",
            uri,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result


def accuracies(uri, experiment="synthetic-ve8-seed3"):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'split' and attributes.status = 'FINISHED'")
    keys = [(r.data.tags["bench.row"], int(r.data.tags["bench.split"])) for r in runs]
    assert len(keys) == len(set(keys)), "more than one FINISHED run for a (row, split)"
    return {key: r.data.metrics["test_acc"] for key, r in zip(keys, runs)}


@pytest.fixture
def suite(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SUITE)
    return path


@pytest.fixture
def local_accuracies(tiny_store, suite, tmp_path):
    uri = f"sqlite:///{tmp_path / 'local' / 'mlflow.db'}"
    run_suite(tiny_store, suite, uri)
    return accuracies(uri)


def test_processes_executor_matches_local(tiny_store, suite, tmp_path, local_accuracies):
    uri = f"sqlite:///{tmp_path / 'procs' / 'mlflow.db'}"
    run_suite(tiny_store, suite, uri, "--executor", "processes", "--jobs", "2")
    assert accuracies(uri) == pytest.approx(local_accuracies, abs=1e-9)


@pytest.mark.slow
def test_dask_cluster_against_mlflow_server_on_postgres(tiny_store, suite, tmp_path, local_accuracies):
    with postgres() as pg, mlflow_server(f"{pg}/mlflow", tmp_path / "artifacts") as uri:
        run_suite(tiny_store, suite, uri, "--executor", "dask", "--jobs", "2")
        remote = accuracies(uri)
        assert set(remote) == {(row, k) for row in ("full", "probe") for k in range(2)}
        assert remote == pytest.approx(local_accuracies, abs=1e-9)
        again = run_suite(tiny_store, suite, uri, "--executor", "dask", "--jobs", "2")
        assert "trained 0 split runs, reused 4" in again.output
        client = MlflowClient(uri)
        run = next(
            iter(
                client.search_runs(
                    [client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id], "tags.`bench.kind` = 'split'"
                )
            )
        )
        assert "split.json" in [a.path for a in client.list_artifacts(run.info.run_id)]
