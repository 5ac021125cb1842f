"""``bench models``: every registry a user can extend is listed, plugins' entries included."""

from __future__ import annotations

import pytest

from tests.cli import bench, flat


@pytest.fixture
def metric_sandbox(plugin_sandbox):
    """Metrics a test's plugin registers are gone afterwards."""
    from benchmark.metrics import registry

    before = dict(registry._METRICS)
    yield
    registry._METRICS.clear()
    registry._METRICS.update(before)


def test_models_lists_metrics_and_corruptions_with_a_plugins_metric(tmp_path, metric_sandbox):
    plugin = tmp_path / "my_metric.py"
    plugin.write_text(
        "from benchmark.metrics import register_metric\n\n"
        "@register_metric('always_half', unit='', description='a constant for the test')\n"
        "def always_half(y_true, scores):\n    return 0.5\n"
    )
    result = bench("models", "--plugin", plugin)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    for metric in ("accuracy", "macro_f1", "balanced_accuracy", "cohen_kappa", "log_loss", "ece", "always_half"):
        assert f"│ {metric} " in result.output, metric
    assert "a constant for the test" in text
    for corruption, levels in (("clean", "0"), ("missing", "1"), ("noise", "0.25, 0.5, 1, 2")):
        assert f"│ {corruption} " in result.output and levels in text
