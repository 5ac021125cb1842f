"""A user's model beside built-in rows: trained, reported, listed; stale after an edit, reused after a revert."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.cli import bench, flat

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gru_attention"

SUITE = """
name = "mine"
title = "mine beside ours"
reference = "Ours"
plugins = ["models/user_models.py"]
[[rows]]
name = "Ours"
model = "proposed"
[[rows]]
name = "Mine"
model = "user_mean_mlp"
[[rows]]
name = "Mine w/o audio"
model = "user_mean_mlp"
modalities = ["visual", "skeleton"]
"""


@pytest.fixture
def user_dir(tmp_path) -> Path:
    """A folder outside the repository: the user's model file and a suite that names it."""
    folder = tmp_path / "work"
    (folder / "models").mkdir(parents=True)
    shutil.copy(FIXTURES / "user_models.py", folder / "models" / "user_models.py")
    (folder / "mine.toml").write_text(SUITE)
    return folder


def trained(output: str) -> int:
    return int(re.search(r"trained (\d+) split runs", output).group(1))


def test_plugin_row_trains_goes_stale_on_edit_and_is_found_again_on_revert(
    user_dir, tiny_store, tracking_uri, plugin_sandbox
):
    args = [
        "run",
        "--suite",
        user_dir / "mine.toml",
        "-f",
        tiny_store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
    ]
    first = bench(*args)
    assert first.exit_code == 0, first.output
    assert trained(first.output) == 6

    report = bench(
        "report",
        "--suite",
        user_dir / "mine.toml",
        "-f",
        tiny_store,
        "--tracking-uri",
        tracking_uri,
        "--out",
        user_dir / "report",
    )
    assert report.exit_code == 0, report.output
    table = pd.read_csv(user_dir / "report" / "table.csv")
    assert list(table["row"]) == ["Ours", "Mine", "Mine w/o audio"] and (table["n_splits"] == 2).all()

    listed = bench("models", "--plugin", user_dir / "models" / "user_models.py")
    assert "user_mean_mlp" in listed.output
    from baselines import get_model

    assert get_model("user_mean_mlp").origin == str((user_dir / "models" / "user_models.py").resolve())

    source = user_dir / "models" / "user_models.py"
    original = source.read_text()
    source.write_text(original.replace("SCALE = 1.0", "SCALE = 2.0"))
    edited = bench(*args)
    assert edited.exit_code == 0, edited.output
    assert trained(edited.output) == 4  # the two plugin rows, not Ours
    text = flat(edited.output)
    assert "2 finished runs of 'Mine' came from other code" in text and "training again" in text
    assert "2 finished runs of 'Mine w/o audio' came from other code" in text and "'Ours' came" not in text

    source.write_text(original)
    reverted = bench(*args)
    assert reverted.exit_code == 0, reverted.output
    assert trained(reverted.output) == 0 and "came from other code" not in flat(reverted.output)

    client = MlflowClient(tracking_uri)
    runs = client.search_runs(
        ["1"], "tags.`bench.kind` = 'split' and tags.`bench.model` = 'user_mean_mlp'", max_results=100
    )
    codes = {r.data.tags["bench.code_fingerprint"] for r in runs}
    assert len(runs) == 8 and len(codes) == 2
    artifacts = {a.path for a in client.list_artifacts(runs[0].info.run_id, "code")}
    assert {"code/identity.json", "code/user_models.py"} <= artifacts
    identity = json.loads(Path(client.download_artifacts(runs[0].info.run_id, "code/identity.json")).read_text())
    assert identity["fingerprint"] == runs[0].data.tags["bench.code_fingerprint"]
    assert "benchmark.training" in identity["modules"]

    # the report after the revert: each row holds one code identity (the latest parent's)
    again = bench(
        "report",
        "--suite",
        user_dir / "mine.toml",
        "-f",
        tiny_store,
        "--tracking-uri",
        tracking_uri,
        "--out",
        user_dir / "report2",
    )
    assert again.exit_code == 0, again.output
    table = pd.read_csv(user_dir / "report2" / "table.csv")
    assert (table["n_splits"] == 2).all()


def test_plugin_trains_in_worker_processes(user_dir, tiny_store, tracking_uri, plugin_sandbox):
    result = bench(
        "run",
        "--suite",
        user_dir / "mine.toml",
        "-f",
        tiny_store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--executor",
        "processes",
        "--jobs",
        "2",
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert trained(result.output) == 6 and "FAILED" not in result.output


def with_extra_modality(store: Path, name: str, dim: int) -> Path:
    """The tiny store plus a modality the paper does not have (the format accepts any name)."""
    meta = json.loads((store / "meta.json").read_text())
    n, frames = np.load(store / "visual.npy", mmap_mode="r").shape[:2]
    rng = np.random.default_rng(0)
    np.save(store / f"{name}.npy", rng.standard_normal((n, frames, dim)).astype(np.float32))
    meta["modalities"][name] = {"dim": dim, "extractor": "test noise"}
    (store / "meta.json").write_text(json.dumps(meta))
    return store


def test_any_modality_the_store_declares(user_dir, tiny_store, tracking_uri, plugin_sandbox):
    store = with_extra_modality(tiny_store, "face", 7)
    suite = user_dir / "face.toml"
    suite.write_text(
        'plugins = ["models/user_models.py"]\n[[rows]]\nname = "Mine + face"\nmodel = "user_mean_mlp"\nmodalities = '
        '["visual", "face"]\n'
    )
    result = bench(
        "run",
        "--suite",
        suite,
        "-f",
        store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert trained(result.output) == 2
    run = MlflowClient(tracking_uri).search_runs(["1"], "tags.`bench.kind` = 'split'")[0]
    assert run.data.params["modalities"] == "visual,face"

    suite.write_text('[[rows]]\nname = "Ours + face"\nmodel = "proposed"\nmodalities = ["visual", "face"]\n')
    refused = bench(
        "run", "--suite", suite, "-f", store, "--n-splits", "2", "--epochs", "1", "--tracking-uri", tracking_uri
    )
    assert refused.exit_code == 2
    assert "model 'proposed' models only visual, audio, skeleton; it has no branch for modality 'face'" in flat(
        refused.output
    )


def test_tune_any_registered_model(user_dir, tiny_store, tracking_uri, plugin_sandbox, tmp_path):
    result = bench(
        "tune",
        "--model",
        "user_mean_mlp",
        "--plugin",
        user_dir / "models" / "user_models.py",
        "--param",
        "hidden",
        "-f",
        tiny_store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--storage",
        f"sqlite:///{tmp_path / 'optuna.db'}",
    )
    assert result.exit_code == 0, result.output
    assert "ran 2 trials" in result.output and re.search(r"best hidden=(8|16)", result.output)
    refused = bench(
        "tune",
        "--model",
        "user_mean_mlp",
        "--plugin",
        user_dir / "models" / "user_models.py",
        "--param",
        "alpha",
        "-f",
        tiny_store,
    )
    assert refused.exit_code == 2 and "not searchable for model 'user_mean_mlp'" in flat(refused.output)


def test_python_api_returns_the_table(user_dir, tiny_store, tracking_uri, plugin_sandbox, monkeypatch):
    from benchmark.api import run

    monkeypatch.chdir(user_dir)
    suite = {
        "name": "api",
        "reference": "Ours",
        "plugins": ["models/user_models.py"],
        "rows": [{"name": "Ours", "model": "proposed"}, {"name": "Mine", "model": "user_mean_mlp"}],
    }
    table = run(suite, features=tiny_store, n_splits=2, epochs=1, tracking_uri=tracking_uri, progress=False)
    assert list(table["row"]) == ["Ours", "Mine"] and (table["n_splits"] == 2).all()
    assert table.attrs["trained"] == 4
    again = run(suite, features=tiny_store, n_splits=2, epochs=1, tracking_uri=tracking_uri, progress=False)
    assert again.attrs["trained"] == 0 and again["mean"].tolist() == table["mean"].tolist()


def test_example_suite_runs_on_a_tiny_store(tiny_store, tracking_uri, plugin_sandbox):
    """CI runs the example: the GRU plugin beside Ours and the three "w/o" rows."""
    result = bench(
        "run",
        "--suite",
        EXAMPLE / "suite.toml",
        "-f",
        tiny_store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert trained(result.output) == 10 and "GRU + attention" in result.output
