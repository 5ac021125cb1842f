"""``bench run`` puts the comparison with the reference row on the parent runs and in its terminal
table, with the same figures as the report's ``table.csv``, recomputed here from the child runs."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from benchmark.cli import app
from tests.benchmark.report.recompute import corrected

SUITE = """
name = "probes"
title = "two probes"
reference = "all three"
[[rows]]
name = "all three"
model = "linear_probe"
modalities = ["visual", "audio", "skeleton"]
[[rows]]
name = "audio only"
model = "linear_probe"
modalities = ["audio"]
"""


def test_parents_carry_the_corrected_comparison_and_the_table_shows_it(tiny_store, tracking_uri, tmp_path):
    suite = tmp_path / "probes.toml"
    suite.write_text(SUITE)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            str(suite),
            "--features",
            str(tiny_store),
            "--n-splits",
            "4",
            "--tracking-uri",
            tracking_uri,
            "--rope",
            "2",
            "--no-report",
        ],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    for column in ("Diff vs ref", "p Holm", "W/T/L", "P(ref/≈/row)"):
        assert column in result.output
    assert "ROPE ±2 points" in result.output and "p_naive" in result.output

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    accs, sizes = {}, {}
    for run in client.search_runs([experiment], "tags.`bench.kind` = 'split'"):
        row, k = run.data.tags["bench.row"], int(run.data.tags["bench.split"])
        accs.setdefault(row, {})[k] = run.data.metrics["test_acc"]
        sizes[k] = (int(run.data.params["n_train"]), int(run.data.params["n_test"]))
        assert sizes[k][0] + sizes[k][1] == 30 and sizes[k][1] / sizes[k][0] == pytest.approx(
            0.5, abs=0.1
        )  # the tiny store
    expected = corrected(accs["audio only"], accs["all three"], sizes)
    parents = {p.data.tags["bench.row"]: p for p in client.search_runs([experiment], "tags.`bench.kind` = 'parent'")}
    metrics = parents["audio only"].data.metrics
    assert metrics["p_value"] == pytest.approx(expected["p"], rel=1e-6)
    assert metrics["test_acc_diff"] == pytest.approx(expected["diff"] / 100, abs=1e-9)
    assert metrics["test_acc_diff_ci_low"] == pytest.approx(expected["low"] / 100, abs=1e-9)
    assert metrics["test_acc_rope"] == pytest.approx(0.02)
    assert metrics["p_holm"] == pytest.approx(metrics["p_value"])  # one compared row: Holm changes nothing
    assert metrics["wins"] + metrics["ties"] + metrics["losses"] == 4
    assert sum(metrics[k] for k in ("prob_reference_better", "prob_equivalent", "prob_row_better")) == pytest.approx(
        1.0
    )
    assert "p_value" not in parents["all three"].data.metrics
    for parent in parents.values():
        assert parent.data.tags["bench.reference"] == "all three"
        assert parent.data.tags["bench.split_design"] == "random-subsampling"

    report = CliRunner().invoke(
        app,
        [
            "report",
            "--suite",
            str(suite),
            "--features",
            str(tiny_store),
            "--tracking-uri",
            tracking_uri,
            "--out",
            str(out),
            "--rope",
            "2",
        ],
    )
    assert report.exit_code == 0, report.output
    table = pd.read_csv(out / "table.csv").set_index("row")
    assert table.loc["audio only", "p_value"] == pytest.approx(metrics["p_value"], rel=1e-3)
    assert table.loc["audio only", "diff"] == pytest.approx(100 * metrics["test_acc_diff"], abs=1e-4)
    assert table.loc["audio only", "prob_equivalent"] == pytest.approx(metrics["prob_equivalent"], rel=1e-3, abs=1e-4)
    assert table.loc["audio only", "rope"] == 2.0
