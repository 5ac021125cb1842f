"""Table 3's "alpha chosen on validation (nested)" row, from an MLflow database written by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy.stats import ttest_rel

from benchmark import tracking
from benchmark.report.render import render_report
from benchmark.suite import load_suite
from tests.benchmark.report.fake_runs import DATASET_FP, default_sizes, log_suite
from tests.benchmark.report.recompute import corrected

TABLE3 = {
    "alpha=2": [0.40, 0.42, 0.41, 0.43],
    "alpha=4": [0.45, 0.44, 0.47, 0.46],
    "alpha=8": [0.50, 0.48, 0.52, 0.47],  # the best row by its mean
    "alpha=16": [0.39, 0.40, 0.38, 0.41],
}
NESTED = {0: (0.47, "8"), 1: (0.44, "4"), 2: (0.49, "8")}  # outer split -> (test accuracy, chosen alpha)
ROW = "alpha chosen on validation (nested)"


def log_nested(uri: str, outer: dict, *, params: str = "alpha", epochs: int = 3, experiment: str = "fake-ds") -> str:
    client = MlflowClient(uri)
    exp = tracking.experiment_id(client, experiment)
    parent = client.create_run(
        exp,
        run_name="nested / fake",
        tags={
            "bench.kind": "nested",
            "bench.params": params,
            "bench.dataset_fingerprint": DATASET_FP,
            "bench.profile": "quick",
            "bench.split_source": "random-stratified-2/3",
            "bench.n_expected_splits": str(len(outer)),
        },
    ).info.run_id
    tracking.log_params(client, parent, {"train.epochs": epochs})
    for k, (acc, chosen) in outer.items():
        child = client.create_run(
            exp,
            run_name=f"fake / outer split {k}",
            tags={"mlflow.parentRunId": parent, "bench.kind": "nested_split", "bench.split": str(k)},
        ).info.run_id
        tracking.log_params(client, child, {"chosen.alpha": chosen})
        tracking.log_metrics(client, child, {"test_acc": acc})
        client.set_terminated(child, "FINISHED")
    client.set_terminated(parent, "FINISHED")
    return parent


@pytest.fixture
def uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_the_nested_row_its_chosen_values_and_the_selection_bias(uri, tmp_path):
    log_suite(uri, load_suite("table3"), TABLE3)
    log_nested(uri, NESTED)
    folder = render_report("table3", "fake-ds", uri, tmp_path / "report")
    table = pd.read_csv(folder / "table.csv", comment="#").set_index("row")
    nested = 100 * np.array([acc for acc, _ in NESTED.values()])
    assert table.loc[ROW, "mean"] == pytest.approx(nested.mean(), abs=1e-4)
    assert table.loc[ROW, "std"] == pytest.approx(nested.std(ddof=1), abs=1e-4)
    assert table.loc[ROW, "n_splits"] == 3 and table.loc[ROW, "status"] == "complete"
    sizes = {k: default_sizes(k) for k in NESTED}  # the nested row's splits are the table's: their sizes
    reference = dict(enumerate(TABLE3["alpha=4"][:3]))
    mine = {k: acc for k, (acc, _) in NESTED.items()}
    assert table.loc[ROW, "p_value"] == pytest.approx(corrected(mine, reference, sizes)["p"], rel=1e-3)
    assert table.loc[ROW, "p_naive"] == pytest.approx(
        ttest_rel(nested / 100, list(reference.values())).pvalue, rel=1e-3
    )
    best = 100 * np.array(TABLE3["alpha=8"][:3])
    bias = (best - nested).mean()
    p = corrected(dict(enumerate(TABLE3["alpha=8"][:3])), mine, sizes)["p"]
    note = table.loc[ROW, "note"]
    assert "split 0: 8; split 1: 4; split 2: 8" in note
    assert (
        f"best row (alpha=8, picked on test accuracy) − nested = {bias:+.1f} points over the 3 splits both finished"
        in note
    )
    assert (
        f"corrected resampled t-test p = {p:.3g}" in note
        and f"naive paired t-test p = {ttest_rel(best, nested).pvalue:.3g}" in note
    )
    markdown = (folder / "table.md").read_text()
    assert f"| {ROW} | {nested.mean():.1f} ± {nested.std(ddof=1):.1f} | 3 |" in markdown
    assert f"- {ROW}: value chosen on validation" in markdown
    assert ROW in (folder / "index.html").read_text() and ROW in (folder / "table.tex").read_text()


def test_no_nested_row_without_a_nested_evaluation_of_alpha_alone_in_the_same_setting(uri, tmp_path):
    log_suite(uri, load_suite("table3"), TABLE3)
    log_nested(uri, NESTED, params="alpha,lr")  # another search
    log_nested(uri, NESTED, epochs=5)  # another setting (training parameters)
    folder = render_report("table3", "fake-ds", uri, tmp_path / "report")
    assert ROW not in pd.read_csv(folder / "table.csv", comment="#")["row"].tolist()


def test_other_tables_are_unchanged_by_a_nested_evaluation(uri, tmp_path):
    log_suite(uri, load_suite("table2"), {"Ours": [0.5, 0.52], "w/o audio branch": [0.45, 0.44]})
    log_nested(uri, NESTED)
    folder = render_report("table2", "fake-ds", uri, tmp_path / "report")
    assert ROW not in (folder / "table.md").read_text()
