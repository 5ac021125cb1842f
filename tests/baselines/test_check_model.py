"""``bench check-model``: passes on a sound model, fails naming the broken check."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from baselines.contract import check_model
from baselines.plugins import load_plugins
from benchmark.cli import app

USER_MODELS = str(Path(__file__).resolve().parents[1] / "fixtures" / "user_models.py")


def test_sound_model_passes_every_check(plugin_sandbox):
    result = CliRunner().invoke(app, ["check-model", "user_mean_mlp", "--plugin", USER_MODELS])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output


@pytest.mark.parametrize(
    "model,failing,reason",
    [
        ("user_dead_parameter", "gradients reach every parameter", "unused.weight"),
        ("user_mask_leak", "masked frames do not matter", "changed the output"),
    ],
)
def test_broken_model_fails_and_names_the_check(model, failing, reason, plugin_sandbox):
    load_plugins([USER_MODELS])
    results = {r.check: r for r in check_model(model)}
    assert results[failing].passed is False and reason in results[failing].reason
    assert [name for name, r in results.items() if r.passed is False] == [failing]
    output = CliRunner().invoke(app, ["check-model", model, "--plugin", USER_MODELS])
    assert output.exit_code == 1
    assert f"1 check(s) failed: {failing}" in " ".join(output.output.split())


def test_check_model_at_a_stores_dims(tiny_store, plugin_sandbox):
    result = CliRunner().invoke(
        app, ["check-model", "user_mean_mlp", "--plugin", USER_MODELS, "--features", str(tiny_store)]
    )
    assert result.exit_code == 0, result.output
    assert "'visual': 24" in " ".join(result.output.split())


def test_unknown_model_is_an_input_error():
    result = CliRunner().invoke(app, ["check-model", "no_such_model"])
    assert result.exit_code == 2 and "unknown model 'no_such_model'" in result.output
