"""bench evaluate on kept models: a store where only the skeleton carries the class (the project's generator,
the other modalities shuffled across videos), the clean evaluation reproducing the logged accuracy, reuse, and
a kill -9 mid-way; registered metrics filled by bench report with nothing trained."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from features.synthetic import make_synthetic_store
from tests.cli import bench

COUNTS = {c: 16 for c in ("Anger", "Anticipation", "Disgust", "Fear", "Joy", "Sadness", "Surprise", "Trust")}
DIMS = {"visual": 16, "audio": 12, "skeleton": 12}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """table2 on a store whose visual and audio are shuffled across videos (only the skeleton carries the class)."""
    root = tmp_path_factory.mktemp("evaluate")
    store = make_synthetic_store(root / "store", counts=COUNTS, dims=DIMS, frames=8, seed=5)
    rng = np.random.default_rng(0)
    for modality in ("visual", "audio"):
        path = store / f"{modality}.npy"
        array = np.load(path)
        np.save(path, array[rng.permutation(len(array))])
        mask = store / f"{modality}.mask.npy"
        if mask.exists():
            mask.unlink()
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    result = bench(
        "run",
        "--suite",
        "table2",
        "--features",
        store,
        "--n-splits",
        2,
        "--epochs",
        8,
        "--frames",
        4,
        "--tracking-uri",
        uri,
        "--kept-dtype",
        "float32",
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    return store, uri, root


def _evaluate(store, uri, *extra):
    return bench(
        "evaluate",
        "--suite",
        "table2",
        "--features",
        store,
        "--tracking-uri",
        uri,
        "--corruption",
        "clean",
        "--corruption",
        "missing",
        "--corruption",
        "noise",
        "--no-cost",
        *extra,
    )


def _evaluation_runs(uri: str) -> list:
    client = mlflow.MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, "tags.`bench.kind` = 'evaluation'", max_results=5000)


def test_missing_skeleton_is_chance_and_unused_modalities_change_nothing(trained):
    store, uri, _root = trained
    result = _evaluate(store, uri, "--no-report")
    assert result.exit_code == 0, result.output
    client = mlflow.MlflowClient(uri)
    split_runs = {
        r.info.run_id: r
        for r in client.search_runs(
            [e.experiment_id for e in client.search_experiments()], "tags.`bench.kind` = 'split'"
        )
    }
    frame = pd.DataFrame(
        [
            {
                "row": r.data.tags["bench.row"],
                "split_run": r.data.tags["bench.split_run_id"],
                "instance": r.data.tags["bench.instance"],
                "acc": r.data.metrics["test_acc"],
            }
            for r in _evaluation_runs(uri)
        ]
    )
    full = frame[frame["row"] == "Ours"]
    clean = full[full["instance"] == "clean"]["acc"].mean()
    no_skeleton = full[full["instance"] == "missing/skeleton@1"]["acc"].mean()
    # the VE-8-shaped generator's skeleton alone separates some classes only: well above chance, not perfect
    assert clean > 0.2 and clean - no_skeleton > 0.08, f"the full model should learn from the skeleton ({clean:.2f})"
    assert abs(no_skeleton - 1 / 8) < 0.08, (
        f"without the skeleton at test time the full model is at chance, got {no_skeleton:.3f}"
    )
    for _run_id, group in frame[frame["row"] == "w/o skeleton branch"].groupby("split_run"):
        by = dict(zip(group["instance"], group["acc"]))
        untouched = [k for k in by if k.startswith(("missing/skeleton", "noise/skeleton"))]
        assert len(untouched) == 5 and all(by[k] == by["clean"] for k in untouched)
    # the clean evaluation of a float32 kept model reproduces the accuracy its split run logged, exactly
    for run in _evaluation_runs(uri):
        if run.data.tags["bench.instance"] == "clean":
            assert (
                run.data.metrics["test_acc"] == split_runs[run.data.tags["bench.split_run_id"]].data.metrics["test_acc"]
            )


def test_second_evaluate_reuses_everything(trained):
    store, uri, _ = trained
    assert _evaluate(store, uri).exit_code == 0
    before = len(_evaluation_runs(uri))
    again = _evaluate(store, uri)
    assert again.exit_code == 0 and "evaluated 0 " in again.output
    assert len(_evaluation_runs(uri)) == before


def test_kill_mid_way_then_rerun_evaluates_each_pair_once(trained, tmp_path):
    store, uri, _root = trained
    db = Path(uri[len("sqlite:///") :])
    copy = tmp_path / "mlruns"
    subprocess.run(["cp", "-r", str(db.parent), str(copy)], check=True)
    copy_uri = f"sqlite:///{copy / 'mlflow.db'}"
    client = mlflow.MlflowClient(copy_uri)
    for run in _evaluation_runs(copy_uri):
        client.delete_run(run.info.run_id)
    command = [
        sys.executable,
        "-m",
        "benchmark.cli",
        "evaluate",
        "--suite",
        "table2",
        "--features",
        str(store),
        "--tracking-uri",
        copy_uri,
        "--corruption",
        "clean",
        "--corruption",
        "noise",
        "--no-cost",
        "--no-report",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    deadline = time.time() + 120
    while (
        time.time() < deadline
        and len([r for r in _evaluation_runs(copy_uri) if r.info.lifecycle_stage == "active"]) < 10
    ):
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = len([r for r in _evaluation_runs(copy_uri) if r.info.status == "FINISHED"])
    rerun = bench(
        "evaluate",
        "--suite",
        "table2",
        "--features",
        store,
        "--tracking-uri",
        copy_uri,
        "--corruption",
        "clean",
        "--corruption",
        "noise",
        "--no-cost",
        "--no-report",
    )
    assert rerun.exit_code == 0, rerun.output
    finished = [r for r in _evaluation_runs(copy_uri) if r.info.status == "FINISHED"]
    keys = [r.data.tags["bench.eval_key"] for r in finished]
    assert len(keys) == len(set(keys)) == 8 * 13, (
        partial,
        len(keys),
    )  # 8 split runs x (clean + 3 modalities x 4 levels)
    assert 0 < partial < len(keys)


def test_plugin_metric_and_macro_f1_in_table_csv(trained, tmp_path):
    store, uri, _ = trained
    plugin = tmp_path / "top2.py"
    plugin.write_text(
        "import numpy as np\nfrom benchmark.metrics import register_metric\n\n"
        "@register_metric('top2_accuracy', label='Top-2')\n"
        "def top2(y_true, scores):\n    return float(np.mean([y in np.argsort(s)[-2:] for y, s in zip(y_true, "
        "scores)]))\n"
    )
    out = tmp_path / "report"
    result = bench(
        "report", "--suite", "table2", "--features", store, "--tracking-uri", uri, "--out", out, "--plugin", plugin
    )
    assert result.exit_code == 0, result.output
    assert "trained" not in result.output
    table = pd.read_csv(out / "table.csv")
    measured = table[table["n_splits"] > 0]
    assert measured["top2_accuracy"].notna().all() and (measured["top2_accuracy"] >= measured["mean"] - 1e-9).all()
    # macro_f1 recomputed from the child runs' predictions.csv with scikit-learn, independently of the report
    client = mlflow.MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    for _, row in measured.iterrows():
        runs = client.search_runs(
            experiments,
            f"tags.`bench.kind` = 'split' and tags.`bench.row` = '{row['row']}' and attributes.status = 'FINISHED'",
        )
        with tempfile.TemporaryDirectory() as tmp:
            scores = [
                f1_score(p["label"], p["prediction"], average="macro")
                for p in (pd.read_csv(client.download_artifacts(r.info.run_id, "predictions.csv", tmp)) for r in runs)
            ]
        assert row["macro_f1"] == pytest.approx(100 * np.mean(scores), abs=1e-3)
