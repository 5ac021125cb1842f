"""``bench report`` against MLflow databases written by hand (exact numbers) and by a tiny real run."""

from __future__ import annotations

import re
import shutil
import subprocess
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
from tests.benchmark.report.recompute import corrected

NAN_REASON = "loss became NaN at epoch 2"
TABLE2 = {
    "w/o visual branch": [0.40, 0.42, 0.39, 0.41],
    "w/o audio branch": [0.50, 0.47, 0.52, 0.49],
    "w/o skeleton branch": [0.48, None, NAN_REASON, 0.50],
    "Ours": [0.55, 0.53, 0.56, 0.54],
}
OUTPUTS = ("table.md", "table.tex", "table.csv", "index.html")


def read_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "table.csv").set_index("row")


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


def _child_runs(uri: str, experiment: str = "fake-ds") -> tuple[dict, dict]:
    """row -> split -> metrics, and row -> split -> (n_train, n_test), of the FINISHED split runs."""
    client = MlflowClient(uri)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    children = client.search_runs([experiment_id], "tags.`bench.kind` = 'split' and attributes.status = 'FINISHED'")
    acc, sizes = {}, {}
    for run in children:
        row, k = run.data.tags["bench.row"], int(run.data.tags["bench.split"])
        acc.setdefault(row, {})[k] = run.data.metrics
        if "n_train" in run.data.params:
            sizes.setdefault(row, {})[k] = (int(run.data.params["n_train"]), int(run.data.params["n_test"]))
    return acc, sizes


def test_csv_numbers_equal_what_the_child_runs_give(table2):
    uri, folder = table2
    acc, sizes = _child_runs(uri)
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
            mine = {k: m["test_acc"] for k, m in splits.items()}
            ours = {k: m["test_acc"] for k, m in acc["Ours"].items()}
            expected = corrected(mine, ours, sizes[row])
            assert table.loc[row, "p_value"] == pytest.approx(expected["p"], rel=1e-3)
            assert table.loc[row, "diff"] == pytest.approx(expected["diff"], abs=1e-4)
            assert (table.loc[row, "diff_ci_low"], table.loc[row, "diff_ci_high"]) == pytest.approx(
                (expected["low"], expected["high"]), abs=1e-4
            )
            naive = ttest_rel([mine[k] for k in shared], [ours[k] for k in shared]).pvalue
            assert table.loc[row, "p_naive"] == pytest.approx(naive, rel=1e-3)
            assert table.loc[row, "p_value"] > table.loc[row, "p_naive"]  # the correction widens, never narrows
            assert table.loc[row, "n_paired"] == len(shared)
            wins = sum(mine[k] > ours[k] for k in shared)
            assert (table.loc[row, "wins"], table.loc[row, "ties"], table.loc[row, "losses"]) == (
                wins,
                0,
                len(shared) - wins,
            )
            probs = table.loc[row, ["prob_reference_better", "prob_equivalent", "prob_row_better"]].astype(float)
            assert probs.sum() == pytest.approx(1.0, abs=1e-3) and table.loc[row, "rope"] == 1.0
    assert np.isnan(table.loc["Ours", "p_value"]) and table.loc["Ours", "note"] == "reference"
    compared = table.drop(index="Ours")
    assert (compared["p_holm"] >= compared["p_value"] - 1e-9).all()


def test_older_runs_without_size_params_take_the_sizes_from_split_json(db, tmp_path):
    accs = {"Ours": [0.55, 0.53, 0.56, 0.54], "w/o audio branch": [0.50, 0.52, 0.49, 0.53]}
    log_suite(
        db, load_suite("table2"), accs, experiment="old-runs", sizes=lambda k: (30 + 2 * k, 15), sizes_in="split.json"
    )
    table = pd.read_csv(render_report("table2", "old-runs", db, tmp_path / "out") / "table.csv").set_index("row")
    sizes = {k: (30 + 2 * k, 15) for k in range(4)}
    expected = corrected(dict(enumerate(accs["w/o audio branch"])), dict(enumerate(accs["Ours"])), sizes)
    assert table.loc["w/o audio branch", "p_value"] == pytest.approx(expected["p"], rel=1e-3)
    assert table.loc["w/o audio branch", "sizes_from"] == "recorded"


def test_runs_without_any_split_sizes_say_the_corrected_test_assumed_them(db, tmp_path):
    accs = {"Ours": [0.55, 0.53, 0.56, 0.54], "w/o audio branch": [0.50, 0.52, 0.49, 0.53]}
    log_suite(db, load_suite("table2"), accs, experiment="no-sizes", sizes_in="none")
    out = render_report("table2", "no-sizes", db, tmp_path / "out")
    table = pd.read_csv(out / "table.csv").set_index("row")
    nominal = {k: (2, 1) for k in range(4)}  # the protocol's 2/3 split: n_test / n_train = 1/2
    expected = corrected(dict(enumerate(accs["w/o audio branch"])), dict(enumerate(accs["Ours"])), nominal)
    row = table.loc["w/o audio branch"]
    assert row["p_value"] == pytest.approx(expected["p"], rel=1e-3)
    assert row["sizes_from"] == "nominal" and "split sizes not recorded" in row["note"]
    assert "assumes the protocol's n_test/n_train = 0.50" in (out / "table.md").read_text()
    assert pd.isna(table.loc["Ours", "sizes_from"])  # the reference is not compared


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
    for name in ("table.md", "table.tex", "table.meta.json", "index.html"):  # the CSV's header is its sidecar
        text = (folder / name).read_text()
        for expected in ("SYNTHETIC DATA", DATASET_FP, "fake-ds", "quick", "abc123", "UTC", "Nadeau", "p_naive"):
            assert expected in text, (name, expected)
        assert "RANDOMLY INITIALISED" not in text
    assert "SYNTHETIC DATA" in (folder / "table.csv").read_text()
    assert r"\textbf{SYNTHETIC DATA" in (folder / "table.tex").read_text()


def test_csv_loads_with_no_options_and_carries_the_warning_and_a_sidecar(table2):
    import json

    _, folder = table2
    table = pd.read_csv(folder / "table.csv")  # no options: a plain CSV, one row per suite row
    assert list(table["row"]) == list(TABLE2)
    assert list(table.columns[:3]) == ["warning", "table", "row"]
    assert table["warning"].str.startswith("SYNTHETIC DATA").all()
    meta = json.loads((folder / "table.meta.json").read_text())
    assert meta["synthetic"] is True and meta["warnings"][0].startswith("SYNTHETIC DATA")
    assert (
        meta["dataset_fingerprints"] == [DATASET_FP] and meta["commits"] == ["abc123"] and meta["units"]["mean"] == "%"
    )


def test_real_data_leaves_the_warning_column_empty(db, tmp_path):
    log_suite(db, load_suite("table2"), {"Ours": [0.5, 0.6]}, experiment="real", synthetic=False)
    table = pd.read_csv(render_report("table2", "real", db, tmp_path / "out") / "table.csv", keep_default_na=False)
    assert (table["warning"] == "").all()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (make test installs it)")
@pytest.mark.parametrize("suite", ["table1", "table2", "table3", "all"])
def test_tex_compiles_with_pdflatex(db, tmp_path, suite):
    accs = {
        "Ours": [0.45, 0.44],
        "alpha=2": [0.40, 0.41],
        "w/o audio branch": [0.40, NAN_REASON],
        "NeXtVLAD": [0.3, 0.31],
    }
    log_suite(db, load_suite(suite), accs, experiment=f"tex-{suite}", random_extractors="visual")
    folder = render_report(suite, f"tex-{suite}", db, tmp_path / "out")
    document = tmp_path / "doc.tex"
    document.write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,amssymb}\n\\begin{document}\n"
        f"\\input{{{folder / 'table.tex'}}}\n\\end{{document}}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_figures_are_pngs_and_pdfs_and_the_page_shows_all_of_them(table2):
    import matplotlib.image

    _, folder = table2
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert pngs == ["accuracy.png", "confusion.png", "curves.png", "forest.png", "per_class.png"]
    page = (folder / "index.html").read_text()
    for name in pngs:
        image = matplotlib.image.imread(folder / name)
        assert image.shape[0] > 800 and image.shape[1] > 800  # 200 dpi
        assert f'src="{name}"' in page
        pdf = (folder / name).with_suffix(".pdf")
        assert pdf.read_bytes().startswith(b"%PDF") and f'href="{pdf.name}"' in page
        # the banner strip is inside the canvas: the top rows of pixels are the banner's red
        top = image[2, image.shape[1] // 2, :3]
        assert top[0] > 0.6 and top[1] < 0.35 and top[2] < 0.35, (name, top)
    assert page.count("<table>") == 1


def test_figures_use_titles_draw_chance_and_reference_and_label_the_paper_as_other_data(db, tmp_path, monkeypatch):
    import matplotlib.text

    from benchmark.report import figures

    texts: dict[str, list[str]] = {}
    finish = figures._finish

    def spy(fig, path, header, suptitle=None):
        texts[path.name] = [t.get_text() for t in fig.findobj(matplotlib.text.Text)] + [suptitle or ""]
        return finish(fig, path, header, suptitle)

    monkeypatch.setattr(figures, "_finish", spy)
    log_suite(db, load_suite("table2"), TABLE2, experiment="figs")
    render_report("table2", "figs", db, tmp_path / "out")
    accuracy = texts["accuracy.png"]
    assert any(
        t.startswith("Ablation study of the main components (paper Table 2): accuracy per row") for t in accuracy
    )
    assert not any(t.startswith("table2") for name in texts for t in texts[name])  # no internal ids in titles
    assert "chance (33.3%)" in accuracy and "reference row (Ours)" in accuracy and "Ours\n(reference)" in accuracy
    assert "paper's number on real VE-8 (different data: not a target)" in accuracy and "43.2" in accuracy


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
    result = CliRunner().invoke(
        app, ["report", "--suite", "table2", "--tracking-uri", f"sqlite:///{tmp_path / 'no.db'}"]
    )
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
    skipped = CliRunner().invoke(
        app, ["run", *args, "--features", str(tiny_store), "--n-splits", "2", "--epochs", "1", "--no-report"]
    )
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
