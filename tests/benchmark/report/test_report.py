"""``bench report`` against MLflow databases written by hand (exact numbers) and by a tiny real run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy.stats import ttest_rel
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.report.collect import collect
from benchmark.report.render import render_report
from benchmark.suite import load_suite
from tests.benchmark.report.fake_runs import DATASET_FP, log_suite

NAN_REASON = "loss became NaN at epoch 2"
TABLE2 = {
    "w/o visual branch": [0.40, 0.42, 0.39, 0.41],
    "w/o audio branch": [0.50, 0.47, 0.52, 0.49],
    "w/o skeleton branch": [0.48, None, NAN_REASON, 0.50],
    "Ours": [0.55, 0.53, 0.56, 0.54],
}
OUTPUTS = ("table.md", "table.tex", "table.csv", "index.html")


def read_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "table.csv", comment="#").set_index("row")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """One database for the module (creating one costs seconds); each test uses its own experiment."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def table2(db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("table2")
    uri = db
    log_suite(uri, load_suite("table2"), TABLE2)
    return uri, render_report("table2", "fake-ds", uri, tmp / "report")


def test_csv_numbers_equal_what_the_child_runs_give(table2):
    uri, folder = table2
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("fake-ds").experiment_id
    children = client.search_runs([experiment], "tags.`bench.kind` = 'split' and attributes.status = 'FINISHED'")
    acc = {}
    for run in children:
        acc.setdefault(run.data.tags["bench.row"], {})[int(run.data.tags["bench.split"])] = run.data.metrics
    table = read_csv(folder)
    assert list(table.index) == list(TABLE2)
    for row, splits in acc.items():
        values = 100 * np.array([m["test_acc"] for _, m in sorted(splits.items())])
        assert table.loc[row, "mean"] == pytest.approx(round(values.mean(), 4), abs=1e-9)
        assert table.loc[row, "std"] == pytest.approx(round(values.std(ddof=1), 4), abs=1e-9)
        assert table.loc[row, "n_splits"] == len(values)
        best = 100 * np.mean([m["test_acc_best_epoch"] for m in splits.values()])
        assert table.loc[row, "best_epoch_mean"] == pytest.approx(best, abs=1e-4)
        assert table.loc[row, "best_epoch_gain"] == pytest.approx(best - values.mean(), abs=2e-4)
        paper = load_suite("table2").rows[list(TABLE2).index(row)].paper
        assert table.loc[row, "paper"] == paper
        assert table.loc[row, "delta"] == pytest.approx(values.mean() - paper, abs=1e-4)
        if row != "Ours":
            shared = sorted(set(splits) & set(acc["Ours"]))
            expected = ttest_rel([splits[k]["test_acc"] for k in shared], [acc["Ours"][k]["test_acc"] for k in shared]).pvalue
            assert table.loc[row, "p_value"] == pytest.approx(expected, rel=1e-3)
            assert table.loc[row, "n_paired"] == len(shared)
    assert np.isnan(table.loc["Ours", "p_value"]) and table.loc["Ours", "note"] == "reference"


def test_missing_and_failed_splits_are_shown_with_their_n_and_marked(table2):
    _, folder = table2
    row = read_csv(folder).loc["w/o skeleton branch"]
    assert (row["n_splits"], row["n_expected"], row["status"]) == (2, 4, "incomplete")
    assert "split 1: no run" in row["note"] and f"split 2: FAILED ({NAN_REASON})" in row["note"]
    md = (folder / "table.md").read_text()
    assert re.search(r"\| w/o skeleton branch \| \d+\.\d ± \d+\.\d \| 2/4† \|", md)
    assert f"split 2: FAILED ({NAN_REASON})" in md
    assert "2/4$^\\dagger$" in (folder / "table.tex").read_text()
    assert "2/4†" in (folder / "index.html").read_text()
    assert read_csv(folder).loc["Ours", "status"] == "complete"


def test_every_output_has_the_header_and_the_synthetic_warning(table2):
    _, folder = table2
    for name in OUTPUTS:
        text = (folder / name).read_text()
        for expected in ("SYNTHETIC DATA", DATASET_FP, "fake-ds", "quick", "abc123", "UTC", "ttest_rel"):
            assert expected in text, (name, expected)
        assert "RANDOMLY INITIALISED" not in text
    assert (folder / "table.csv").read_text().startswith("# WARNING: SYNTHETIC DATA")
    assert r"\textbf{SYNTHETIC DATA" in (folder / "table.tex").read_text()


def test_figures_are_pngs_and_the_page_shows_all_of_them(table2):
    import matplotlib.image

    _, folder = table2
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert pngs == ["accuracy.png", "confusion.png", "curves.png", "per_class.png"]
    page = (folder / "index.html").read_text()
    for name in pngs:
        image = matplotlib.image.imread(folder / name)
        assert image.shape[0] > 200 and image.shape[1] > 200
        assert f'src="{name}"' in page
    assert page.count("<table>") == 1


def test_tex_is_booktabs_and_escaped(table2):
    _, folder = table2
    tex = (folder / "table.tex").read_text()
    for command in (r"\toprule", r"\midrule", r"\bottomrule", r"Accuracy (\%)", r"$\pm$"):
        assert command in tex
    body = tex[tex.index(r"\begin{tabular}") : tex.index(r"\end{tabular}")]
    assert "%" not in body.replace(r"\%", "")


def test_table1_has_modality_checks_and_reported_rows(db, tmp_path):
    uri, experiment = db, "t1"
    accs = {"NeXtVLAD": [0.30, 0.33, 0.31], "Linear probe": [0.25, 0.27, 0.26], "Ours": [0.45, 0.44, 0.47]}
    log_suite(uri, load_suite("table1"), accs, experiment=experiment, synthetic=False, random_extractors="visual,audio")
    folder = render_report("table1", experiment, uri, tmp_path / "out")
    md = (folder / "table.md").read_text()
    assert "| Method | Visual | Audio | Skeleton | Accuracy (%) |" in md
    assert "| SentiBank | ✓ | – | – | reported | — | 35.5 |" in md
    assert "| E-MDBM | ✓ | ✓ | – | reported | — | 40.4 |" in md
    assert re.search(r"\| Ours \| ✓ \| ✓ \| ✓ \| 45\.3 ± 1\.5 \| 3 \| 43\.2 \| \+2\.1 \| ref\. \|", md)
    table = read_csv(folder)
    assert table.loc["SentiBank", "status"] == "reported" and np.isnan(table.loc["SentiBank", "mean"])
    assert table.loc["SentiBank", "paper"] == 35.5
    for name in OUTPUTS:
        text = (folder / name).read_text()
        assert "RANDOMLY INITIALISED EXTRACTORS (audio, visual)" in text and "SYNTHETIC" not in text
    assert r"\checkmark" in (folder / "table.tex").read_text()


def test_table3_is_a_sweep_and_a_single_split_gets_no_test(db, tmp_path):
    uri, experiment = db, "t3"
    accs = {"alpha=2": [0.40], "alpha=4": [0.45, 0.46], "alpha=8": [NAN_REASON, NAN_REASON], "alpha=16": [0.42, 0.40]}
    log_suite(uri, load_suite("table3"), accs, experiment=experiment)
    folder = render_report("table3", experiment, uri, tmp_path / "out")
    md = (folder / "table.md").read_text()
    assert "| α | Accuracy (%) |" in md and "| 16 | 41.0 ± 1.4 | 2 |" in md
    assert "| 2 | 40.0 ± n/a | 1 |" in md
    table = read_csv(folder)
    assert np.isnan(table.loc["alpha=2", "std"]) and np.isnan(table.loc["alpha=2", "p_value"])
    assert "too few for a test" in table.loc["alpha=2", "note"]
    assert table.loc["alpha=8", "status"] == "failed" and "| 8 | — | 0/2† |" in md
    assert (folder / "sweep_alpha.png").exists() and not (folder / "accuracy.png").exists()


def test_the_latest_setting_wins_and_settings_never_mix(db, tmp_path):
    uri, experiment = db, "latest"
    suite = load_suite("table2")
    log_suite(uri, suite, {"Ours": [0.9, 0.9], "w/o audio branch": [0.9, 0.9]}, experiment=experiment, epochs=2)
    log_suite(uri, suite, {"Ours": [0.5, 0.6, 0.7]}, experiment=experiment, epochs=3)
    collected = collect(suite, experiment, uri)
    rows = {r.row.name: r for r in collected.rows}
    assert [s.test_acc for s in rows["Ours"].finished] == [0.5, 0.6, 0.7]
    assert rows["w/o audio branch"].parent_id is None  # only ran with 2 epochs
    assert rows["w/o audio branch"].problems == ["no run of this row yet"]
    folder = render_report(suite, experiment, uri, tmp_path / "out")
    table = read_csv(folder)
    assert table.loc["w/o audio branch", "status"] == "not run" and table.loc["w/o audio branch", "n_expected"] == 3
    assert "| w/o audio branch | — | 0/3† |" in (folder / "table.md").read_text()
    assert table.loc["Ours", "mean"] == pytest.approx(60.0)


def test_no_runs_yet_is_one_clear_line(db, tmp_path):
    uri, experiment = db, "none"
    result = CliRunner().invoke(app, ["report", "--suite", "table2", "--tracking-uri", f"sqlite:///{tmp_path / 'no.db'}"])
    assert result.exit_code == 2 and "no runs yet: there is no tracking database" in result.output
    assert not (tmp_path / "no.db").exists()
    result = CliRunner().invoke(app, ["report", "--suite", "table2", "--tracking-uri", uri, "--experiment", experiment])
    assert result.exit_code == 2
    assert "no runs yet" in result.output and "bench run --suite table2" in result.output
    log_suite(uri, load_suite("table3"), {"alpha=4": [0.4, 0.5]}, experiment=experiment)
    result = CliRunner().invoke(app, ["report", "--suite", "table2", "--tracking-uri", uri, "--experiment", experiment])
    assert result.exit_code == 2 and "has no runs of suite 'table2'" in result.output


MINI = """
name = "mini"
title = "mini suite"
layout = "ablation"
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
"""


@pytest.mark.slow
def test_bench_run_ends_with_the_report_and_bench_report_agrees(tiny_store, tracking_uri, tmp_path):
    suite = tmp_path / "mini.toml"
    suite.write_text(MINI)
    args = ["--suite", str(suite), "--tracking-uri", tracking_uri]
    result = CliRunner().invoke(app, ["run", *args, "--features", str(tiny_store), "--n-splits", "2", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    folder = Path("reports") / "synthetic-ve8-seed3" / "mini"
    assert "report: " in result.output and all((folder / name).exists() for name in OUTPUTS)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    table = read_csv(folder)
    for row in ("full", "w/o visual"):
        runs = client.search_runs([experiment], f"tags.`bench.kind` = 'split' and tags.`bench.row` = '{row}'")
        values = 100 * np.array([r.data.metrics["test_acc"] for r in runs])
        assert table.loc[row, "n_splits"] == len(values) == 2
        assert table.loc[row, "mean"] == pytest.approx(round(values.mean(), 4), abs=1e-9)
        assert table.loc[row, "std"] == pytest.approx(round(values.std(ddof=1), 4), abs=1e-9)
    again = CliRunner().invoke(app, ["report", *args, "--features", str(tiny_store), "--out", "again"])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(read_csv(Path("again")), table)
    skipped = CliRunner().invoke(app, ["run", *args, "--features", str(tiny_store), "--n-splits", "2", "--epochs", "1", "--no-report"])
    assert skipped.exit_code == 0 and "report: " not in skipped.output


def test_best_reachable_column_only_where_the_store_records_ceilings(db, table2, tmp_path):
    _, plain = table2
    assert "Best reachable" not in (plain / "table.md").read_text()
    assert read_csv(plain)["ceiling"].isna().all()
    ceilings = {"w/o visual branch": 0.754, "w/o audio branch": 0.864, "w/o skeleton branch": 0.858, "Ours": 0.949}
    log_suite(db, load_suite("table2"), TABLE2, experiment="fake-ceilings", ceilings=ceilings)
    folder = render_report("table2", "fake-ceilings", db, tmp_path / "report")
    markdown = (folder / "table.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| Method"))
    assert header.rstrip(" |").endswith("Best reachable (%)")
    ours = next(line for line in markdown.splitlines() if line.startswith("| Ours"))
    assert ours.rstrip(" |").endswith("94.9")
    assert "Bayes rule" in markdown
    assert read_csv(folder)["ceiling"].round(1).to_dict() == {row: round(100 * c, 1) for row, c in ceilings.items()}
    assert "Best reachable" in (folder / "table.tex").read_text()
