"""Two datasets in one command and one table: a random-split store beside one with an official single split.
The long CSV pivots back to the wide one; on the single-split dataset each row's p in table.csv is McNemar's
test recomputed here from the child runs' predictions.csv (statsmodels, independently of the report code)."""

from __future__ import annotations

import tempfile

import mlflow
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from tests.cli import bench


def test_two_datasets_one_table_and_mcnemar_on_the_single_split(
    tiny_store, tiny_ekman_store, tracking_uri, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    args = [
        "--suite",
        "table2",
        "--features",
        tiny_store,
        "--features",
        tiny_ekman_store,
        "--tracking-uri",
        tracking_uri,
    ]
    result = bench("run", *args, "--epochs", 2)
    assert result.exit_code == 0, result.output
    again = bench("run", *args, "--epochs", 2, "--no-report")
    assert again.exit_code == 0 and "trained 0 split runs" in again.output
    report = bench("report", *args, "--out", tmp_path / "combined")
    assert report.exit_code == 0, report.output
    long = pd.read_csv(tmp_path / "combined" / "table_long.csv")
    wide = pd.read_csv(tmp_path / "combined" / "table.csv")
    pivot = long.pivot(index=["table", "row"], columns=["dataset", "metric"], values="value")
    pivot.columns = [f"{d}:{m}" for d, m in pivot.columns]
    pd.testing.assert_frame_equal(
        pivot.reset_index().set_index(["table", "row"]).sort_index(),
        wide.set_index(["table", "row"]).sort_index(),
        check_like=True,
    )
    datasets = list(dict.fromkeys(long["dataset"]))
    assert len(datasets) == 2 and all(f"{d}:mean" in wide for d in datasets)

    client = mlflow.MlflowClient(tracking_uri)
    ekman = next(d for d in datasets if "ekman" in d)
    experiment = client.get_experiment_by_name(ekman).experiment_id
    correct = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in client.search_runs([experiment], "tags.`bench.kind` = 'split' and attributes.status = 'FINISHED'"):
            frame = pd.read_csv(
                client.download_artifacts(run.info.run_id, "predictions.csv", tmp), dtype=str
            ).sort_values("id")
            correct[run.data.tags["bench.row"]] = (frame["label"] == frame["prediction"]).to_numpy()
    per_dataset = pd.read_csv(tmp_path / "combined" / ekman / "table.csv")
    reference = correct["Ours"]
    for _, row in per_dataset[per_dataset["row"] != "Ours"].iterrows():
        mine = correct[row["row"]]
        b, c = int(np.sum(mine & ~reference)), int(np.sum(~mine & reference))
        a, d = int(np.sum(mine & reference)), int(np.sum(~mine & ~reference))
        expected = mcnemar([[a, b], [c, d]], exact=b + c < 25, correction=True).pvalue
        assert row["test"].startswith("McNemar")
        assert row["p_value"] == pytest.approx(min(1.0, expected), rel=1e-3)
    assert (
        pd.read_csv(tmp_path / "combined" / next(d for d in datasets if d != ekman) / "table.csv")["test"].dropna()
        == "corrected t-test"
    ).all()
