"""Bad input and broken surroundings (issue 12, items 2-6): one line, exit 2, quickly, nothing half-done in MLflow."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from benchmark.cli import app

EXPERIMENT = "synthetic-ve8-seed3"


def bench(*args: str, limit_s: float = 60):
    began = time.monotonic()
    result = CliRunner().invoke(app, list(args))
    assert time.monotonic() - began < limit_s, f"took {time.monotonic() - began:.0f} s"
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def run_args(store, uri, *extra):
    return (
        "run",
        "--suite",
        "table2",
        "--features",
        str(store),
        "--n-splits",
        "1",
        "--epochs",
        "1",
        "--tracking-uri",
        uri,
        "--no-report",
        *extra,
    )


def all_runs(uri):
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return [] if experiment is None else client.search_runs([experiment.experiment_id], "", max_results=1000)


# 2. tracking stores that are not there -----------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "report"])
def test_an_unreachable_server_is_one_line_within_seconds(tiny_store, command):
    uri = "http://127.0.0.1:9"
    args = run_args(tiny_store, uri) if command == "run" else ("report", "--suite", "table2", "--tracking-uri", uri)
    one_line_error(bench(*args, limit_s=30), "http://127.0.0.1:9", "not reachable", "bench server")


@pytest.mark.parametrize(
    "uri, fragment",
    [
        ("foo://bar", "not one MLflow can open"),
        ("not a uri", "not one MLflow can open"),
        ("sqlite://", "names no database file"),
    ],
)
def test_unknown_schemes_are_one_line(tiny_store, uri, fragment):
    one_line_error(bench(*run_args(tiny_store, uri)), fragment)


def test_a_folder_given_as_the_sqlite_file_is_one_line(tiny_store, tmp_path):
    folder = tmp_path / "db-folder"
    folder.mkdir()
    one_line_error(bench(*run_args(tiny_store, f"sqlite:///{folder}")), "is a folder", f"sqlite:///{folder}/mlflow.db")
    assert list(folder.iterdir()) == []


def test_a_read_only_store_refuses_runs_and_is_read_read_only_by_report(tiny_store, tmp_path):
    db = tmp_path / "ro" / "mlflow.db"
    uri = f"sqlite:///{db}"
    assert bench(*run_args(tiny_store, uri), limit_s=600).exit_code == 0
    before = db.read_bytes()
    db.chmod(0o444)
    try:
        one_line_error(bench(*run_args(tiny_store, uri)), "read-only")
        report = bench(
            "report",
            "--suite",
            "table2",
            "--features",
            str(tiny_store),
            "--tracking-uri",
            uri,
            "--out",
            str(tmp_path / "out"),
            limit_s=300,
        )
        assert report.exit_code == 0, report.output
        assert (tmp_path / "out" / "table.md").exists()
        assert db.read_bytes() == before and not Path("file:").exists()
    finally:
        db.chmod(0o644)
    assert [r.info.status for r in all_runs(uri)].count("FINISHED") == 8  # 4 parents, 4 splits


# 4. split files ----------------------------------------------------------------------------------


def write_split_files(folder: Path, store_ids, train_lines: list[str], test_lines: list[str]) -> Path:
    folder.mkdir()
    (folder / "trainlist01.txt").write_text("".join(f"{line}\n" for line in train_lines))
    (folder / "testlist01.txt").write_text("".join(f"{line}\n" for line in test_lines))
    return folder


@pytest.fixture
def lists(tiny_store):
    import pandas as pd

    from features.store import open_store

    index = pd.read_csv(tiny_store / "index.csv", dtype=str)  # ids as VideoEmotion-8 names them: unique file names
    index["id"] = [f"{label}/{label.lower()}_video{n:03d}" for n, label in enumerate(index["label"])]
    index.to_csv(tiny_store / "index.csv", index=False)
    store = open_store(tiny_store)
    ids = [str(i) for i in store.ids]
    by_class = {c: [i for i, label in zip(ids, store.labels) if store.classes[label] == c] for c in store.classes}
    train = [i for members in by_class.values() for i in members[: 2 * len(members) // 3]]
    test = [i for members in by_class.values() for i in members[2 * len(members) // 3 :]]
    return by_class, train, test


@pytest.mark.parametrize("how", ["duplicate", "wrong class folder", "missing class", "empty"])
def test_bad_split_files_are_input_errors_naming_file_and_line(tiny_store, tmp_path, lists, how):
    by_class, train, test = lists
    if how == "duplicate":
        train, fragment = (
            train + [train[0]],
            f"trainlist01.txt:{len(train) + 1}: {train[0]!r} is listed twice (also on line 1)",
        )
    elif how == "wrong class folder":
        anger = by_class["Anger"][0]
        train = [("Joy/" + anger.split("/")[-1] + ".avi") if i == anger else i for i in train]
        fragment = "is in class folder 'Joy' but the store's video"
    elif how == "missing class":
        test, fragment = [i for i in test if i not in by_class["Fear"]], "testlist01.txt: no video of class 'Fear'"
    else:
        test, fragment = [], "testlist01.txt: lists no video"
    folder = write_split_files(tmp_path / "lists", None, train, test)
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    one_line_error(bench(*run_args(tiny_store, uri, "--split-files", str(folder))), fragment)
    assert all_runs(uri) == []


# 5. wrong outcome after an early failure ---------------------------------------------------------


@pytest.mark.parametrize("lr", ["nan", "inf", "-inf"])
def test_non_finite_learning_rates_are_input_errors(tiny_store, tracking_uri, lr):
    one_line_error(bench(*run_args(tiny_store, tracking_uri, "--lr", lr)), "--lr must be a finite number")
    assert all_runs(tracking_uri) == []


def test_cuda_without_a_gpu_leaves_nothing_running(tiny_store, tracking_uri):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    one_line_error(bench(*run_args(tiny_store, tracking_uri, "--device", "cuda")), "no CUDA device")
    assert all_runs(tracking_uri) == []


def test_an_unwritable_artifact_folder_is_an_input_error_and_leaves_nothing_running(tiny_store, tmp_path):
    db = tmp_path / "store" / "mlflow.db"
    artifacts = tmp_path / "store" / "artifacts"
    artifacts.mkdir(parents=True)
    artifacts.chmod(0o555)
    try:
        one_line_error(bench(*run_args(tiny_store, f"sqlite:///{db}")), "artifact folder", "cannot be written")
    finally:
        artifacts.chmod(0o755)
    assert not [r for r in all_runs(f"sqlite:///{db}") if r.info.status == "RUNNING"]


def test_a_report_never_calls_a_row_with_no_split_complete(tiny_store, tracking_uri, tmp_path, monkeypatch):
    import benchmark.runner as runner

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill right after the parents were created

    monkeypatch.setattr(runner, "_run_sharing_claims", killed)
    result = bench(*run_args(tiny_store, tracking_uri))
    assert result.exit_code == 130
    assert {r.info.status for r in all_runs(tracking_uri)} == {"KILLED"}  # parents closed, not left RUNNING
    monkeypatch.undo()
    report = bench(
        "report",
        "--suite",
        "table2",
        "--features",
        str(tiny_store),
        "--tracking-uri",
        tracking_uri,
        "--out",
        str(tmp_path / "out"),
        limit_s=300,
    )
    assert report.exit_code == 0, report.output
    table = (tmp_path / "out" / "table.csv").read_text()
    assert "complete" not in table.replace("incomplete", "")
    assert "Splits: 0" not in (tmp_path / "out" / "table.md").read_text()


# 6. messages -------------------------------------------------------------------------------------


def test_a_suite_parameter_error_names_the_suite_file_and_row(tiny_store, tracking_uri, tmp_path):
    suite = tmp_path / "bad.toml"
    suite.write_text('name = "bad"\n[[rows]]\nname = "no clusters"\nmodel = "proposed"\nparams = {alpha = 0}\n')
    result = bench("run", "--suite", str(suite), "--features", str(tiny_store), "--tracking-uri", tracking_uri)
    one_line_error(result, f"suite {suite}, row 'no clusters':", "alpha")


def test_an_unquoted_comma_in_index_csv_names_the_line(tiny_store, tracking_uri):
    index = tiny_store / "index.csv"
    lines = index.read_text().splitlines()
    first_id = lines[3].split(",")[0]
    lines[3] = lines[3].replace(first_id, first_id + ",extra", 1)
    index.write_text("\n".join(lines) + "\n")
    one_line_error(bench(*run_args(tiny_store, tracking_uri)), "index.csv", "line 4 has 3 fields", "quote")


def test_after_an_unwritable_reports_folder_the_suggested_command_works_as_written(
    tiny_store, tracking_uri, tmp_path, monkeypatch
):
    import shlex
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "reports").write_text("a file where the reports folder should be (also unwritable for root)")
    args = [a for a in run_args(tiny_store, tracking_uri) if a != "--no-report"]
    result = bench(*args, limit_s=600)
    assert result.exit_code == 0, result.output
    suggested = result.output.split("try `")[1].split("`")[0]  # on one line, so that it can be pasted
    words = shlex.split(suggested)
    assert words[:2] == ["bench", "report"] and "--tracking-uri" in words and "--features" in words
    again = bench(*words[1:], limit_s=300)
    assert again.exit_code == 0, again.output
    assert (tmp_path / "tmp" / "bench-report-table2" / "table.md").exists()
