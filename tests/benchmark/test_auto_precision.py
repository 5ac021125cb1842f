"""``--precision auto``: bf16 only where the kept calibration measured it faster; stable across commands."""

from __future__ import annotations

import shutil

import pytest
from mlflow.tracking import MlflowClient

import benchmark.precision as precision_module
from benchmark.auto_precision import resolve, resolve_precision
from features.store import PAPER_DIMS
from tests.benchmark.test_calibration import config_of, fake_measure
from tests.benchmark.test_run import children
from tests.cli import bench


@pytest.fixture
def native(monkeypatch):
    """A device with bf16 instructions (so that auto asks the calibration)."""
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: True)


@pytest.mark.parametrize("speedup, expected", [(1.8, "bf16"), (0.6, "fp32")], ids=["bf16-faster", "bf16-slower"])
def test_auto_follows_the_calibration(monkeypatch, native, speedup, expected):
    fake_measure(monkeypatch, speedup)
    config, why = resolve(config_of("paper"), "auto", "cpu", PAPER_DIMS, threads=2)
    assert config.train.precision == expected
    assert why.startswith(f"{expected}: bf16 matmuls {speedup:.2f}x fp32") and "2 threads" in why


def test_auto_measures_nothing_where_the_static_rule_says_fp32(monkeypatch, native):
    calls = fake_measure(monkeypatch, 3.0)
    config, why = resolve(config_of("quick"), "auto", "cpu", PAPER_DIMS)  # 1.37 MFLOP per frame
    assert config.train.precision == "fp32" and "MFLOP per frame" in why and not calls
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: False)
    assert (
        resolve(config_of("paper"), "auto", "cpu", PAPER_DIMS)[1] == "fp32: no native bf16 on this device" and not calls
    )


def test_an_explicit_precision_overrides_the_calibration(monkeypatch, native):
    calls = fake_measure(monkeypatch, 0.5)
    assert resolve_precision("bf16", "cpu", config_of("paper"), PAPER_DIMS) == "bf16"
    assert (
        resolve(config_of("paper"), "fp32", "cpu", PAPER_DIMS)[1] == "fp32: asked for (--precision fp32)" and not calls
    )


def test_two_runs_resolve_auto_alike_and_reuse_each_others_runs(
    tiny_store, tmp_path, tracking_uri, monkeypatch, native
):
    """A fresh measurement would now say fp32 (0.5x), but the kept one (2x) decides: the second command
    trains nothing. Only deleting the kept calibration measures again."""
    monkeypatch.setattr(precision_module, "gains_from_bf16", lambda config, dims: True)  # tiny dims count as wide
    calls = fake_measure(monkeypatch, 2.0, 0.5)
    suite = tmp_path / "one.toml"
    suite.write_text(
        'name = "one"\n[[rows]]\nname = "full"\nmodel = "proposed"\nmodalities = ["visual", "audio", "skeleton"]\n'
    )
    args = (
        "run",
        "--suite",
        suite,
        "--features",
        tiny_store,
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--frames",
        "6",
        "--tracking-uri",
        tracking_uri,
        "--no-report",
    )
    first = bench(*args)
    assert first.exit_code == 0, first.output
    assert "trained 2 split runs" in first.output and "precision bf16" in first.output
    second = bench(*args)
    assert "trained 0 split runs, reused 2" in second.output and "precision bf16" in second.output
    assert len(calls) == 1
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    parent = client.search_runs([experiment], "tags.`bench.kind` = 'parent'")[0]
    assert parent.data.tags["bench.precision_choice"].startswith("bf16: bf16 matmuls 2.00x fp32")
    assert {r.data.tags["bench.precision"] for r in children(client, experiment)} == {"bf16"}

    shutil.rmtree(tmp_path / "cache" / "calibration")
    third = bench(*args)  # measured again (0.5x): fp32, other fingerprints, trained anew
    assert "trained 2 split runs, reused 0" in third.output and "precision fp32" in third.output
