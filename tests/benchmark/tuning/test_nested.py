"""``bench tune --nested``: no test index of outer split k reaches its inner search or its choice; a
kill -9 then a rerun ends with one child run per outer split; the retraining reuses Table 3's split
run; a rerun trains nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState
from typer.testing import CliRunner

import benchmark.jobs as jobs_module
import benchmark.tuning.objective as objective_module
from benchmark.cli import app
from benchmark.splits import random_splits
from benchmark.training import EpochRecord, SplitResult
from benchmark.tuning.nested_spec import inner_parts
from features.store import open_store

ROOT = Path(__file__).resolve().parents[3]
EXPERIMENT = "synthetic-ve8-seed3"


def nested_args(store, tracking_uri, *extra) -> list[str]:
    return [
        "tune",
        "--param",
        "alpha",
        "--values",
        "2,4",
        "--nested",
        "--n-splits",
        "2",
        "--inner-splits",
        "2",
        "--features",
        str(store),
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--device",
        "cpu",
        *extra,
    ]


def runs(tracking_uri: str, query: str) -> list:
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    return client.search_runs([experiment], query, max_results=1000)


def children(tracking_uri: str):
    (parent,) = runs(tracking_uri, "tags.`bench.kind` = 'nested'")
    return parent, runs(
        tracking_uri, f"tags.`bench.kind` = 'nested_split' and tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )


@pytest.fixture
def recorded(monkeypatch):
    """Wrap the training-and-scoring function where the inner search and the retraining call it;
    every call's (source, train positions, scored positions) in call order."""
    calls: list[tuple[str, np.ndarray, np.ndarray]] = []
    for source, module in (("inner", objective_module), ("retrain", jobs_module)):
        real = module.train_split

        def recording(config, data, labels, train, test, n_classes, _real=real, _source=source, **kwargs):
            calls.append((_source, np.array(train), np.array(test)))
            return _real(config, data, labels, train, test, n_classes, **kwargs)

        monkeypatch.setattr(module, "train_split", recording)
    return calls


def by_outer_split(calls, n_outer: int):
    """Calls grouped per outer split: the inner calls before each retraining belong to it (local executor)."""
    groups, inner = [], []
    for source, train, scored in calls:
        if source == "inner":
            inner.append((train, scored))
        else:
            groups.append((inner, (train, scored)))
            inner = []
    assert len(groups) == n_outer and not inner
    return groups


def test_no_test_index_of_an_outer_split_reaches_its_inner_search_or_its_choice(tiny_store, tracking_uri, recorded):
    result = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri, "--no-prune"))
    assert result.exit_code == 0, result.output
    store = open_store(tiny_store)
    outer = random_splits(store.labels, store.fingerprint, 2)
    for split, (inner, (train, scored)) in zip(outer, by_outer_split(recorded, 2)):
        assert len(inner) == 2 * 2  # two values x two inner splits, all before the test part is scored
        for fit, validation in inner:
            seen = set(fit) | set(validation)
            assert seen <= set(split.train) and not seen & set(split.test), (
                "an outer test index reached the inner search"
            )
            assert not set(fit) & set(validation)
        assert np.array_equal(train, split.train) and np.array_equal(
            scored, split.test
        )  # the only call that scores the test part
    parent, outer_runs = children(tracking_uri)
    assert len(outer_runs) == 2 and {r.info.status for r in outer_runs} == {"FINISHED"}
    assert parent.data.metrics["n_splits"] == 2 and "test_acc_mean" in parent.data.metrics


def test_the_choice_follows_validation_even_where_the_test_part_prefers_another_value(
    tiny_store, tracking_uri, monkeypatch
):
    """Validation favours alpha = 4 and each outer split's test part favours alpha = 2: a test index of
    the outer split reaching its inner search or its selection would move the choice to 2."""
    store = open_store(tiny_store)
    outer = random_splits(store.labels, store.fingerprint, 2)
    current = {"k": 0}  # the local executor runs outer splits in order; each ends with its retraining

    def fake_for(source: str):
        def fake(config, data, labels, train, test, n_classes, *, seed, device="cpu", on_epoch=None):
            own_test = set(map(int, outer[current["k"]].test))
            prefers = 2 if own_test & set(map(int, test)) else 4
            acc = 0.9 if config.params["alpha"] == prefers else 0.3
            records = [EpochRecord(e, 1.0, acc) for e in range(1, config.train.epochs + 1)]
            for record in records:
                if on_epoch:
                    on_epoch(record)
            if source == "retrain":
                current["k"] += 1
            return SplitResult(acc, acc, config.train.epochs, np.zeros(len(test), np.int64), records)

        return fake

    monkeypatch.setattr(objective_module, "train_split", fake_for("inner"))
    monkeypatch.setattr(jobs_module, "train_split", fake_for("retrain"))
    result = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri))
    assert result.exit_code == 0, result.output
    assert current["k"] == 2
    _, outer_runs = children(tracking_uri)
    assert sorted(r.data.params["chosen.alpha"] for r in outer_runs) == ["4", "4"]
    assert all(r.data.metrics["inner_val_acc"] == pytest.approx(0.9) for r in outer_runs)
    assert all(
        r.data.metrics["test_acc"] == pytest.approx(0.3) for r in outer_runs
    )  # alpha = 4 on a test part that prefers 2


def test_inner_parts_stay_inside_the_outer_training_part(tiny_store):
    store = open_store(tiny_store)
    outer = random_splits(store.labels, store.fingerprint, 2)
    parts = [inner_parts(s, store.labels, store.fingerprint, 3) for s in outer]
    for split, inner in zip(outer, parts):
        assert len(inner) == 3 and len({tuple(p.validation) for p in inner}) == 3
        for part in inner:
            assert set(part.fit) | set(part.validation) == set(split.train)
            assert set(store.labels[part.validation]) == set(store.labels)  # stratified: every class validated
    assert not np.array_equal(parts[0][0].validation, parts[1][0].validation)
    again = inner_parts(outer[0], store.labels, store.fingerprint, 3)
    assert all(np.array_equal(a.validation, b.validation) for a, b in zip(parts[0], again))


def test_retraining_reuses_table3_split_runs_a_rerun_trains_nothing_and_the_report_shows_the_row(
    tiny_store, tracking_uri, tmp_path
):
    run = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            "table3",
            "--features",
            str(tiny_store),
            "--n-splits",
            "2",
            "--epochs",
            "1",
            "--tracking-uri",
            tracking_uri,
            "--device",
            "cpu",
            "--no-report",
        ],
    )
    assert run.exit_code == 0, run.output
    first = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri))
    assert first.exit_code == 0, first.output
    assert "trained 0 split runs" in first.output
    table3_runs = {
        r.info.run_id for r in runs(tracking_uri, "tags.`bench.kind` = 'split' and tags.`bench.suite` = 'table3'")
    }
    _, outer_runs = children(tracking_uri)
    assert {r.data.tags["bench.split_run_reused"] for r in outer_runs} == {"true"}
    assert {r.data.tags["bench.split_run"] for r in outer_runs} <= table3_runs
    trials = runs(tracking_uri, "tags.`bench.kind` = 'trial'")
    assert len(trials) == 2 * 2 and sorted(r.data.tags["bench.outer_split"] for r in trials) == ["0", "0", "1", "1"]
    assert {r.data.tags["mlflow.parentRunId"] for r in trials} == {r.info.run_id for r in outer_runs}

    again = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri))
    assert again.exit_code == 0 and "ran 0 inner trials and trained 0 split runs" in again.output, again.output
    assert len(children(tracking_uri)[1]) == 2 and len(runs(tracking_uri, "tags.`bench.kind` = 'trial'")) == 4

    report = CliRunner().invoke(
        app, ["report", "--suite", "table3", "--features", str(tiny_store), "--tracking-uri", tracking_uri]
    )
    assert report.exit_code == 0, report.output
    table = (tmp_path / "reports" / EXPERIMENT / "table3" / "table.md").read_text()
    assert "| alpha chosen on validation (nested) |" in table and "Selection bias = best row" in table


def start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", *args],
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_kill_9_in_the_middle_then_a_rerun_ends_with_one_child_per_outer_split(tiny_store, tracking_uri, tmp_path):
    args = nested_args(tiny_store, tracking_uri, "--study-name", "nest")
    args[args.index("--epochs") + 1] = (
        "12"  # long enough to be seen running and killed mid-trial (4 was missed once by the poll)
    )
    storage = f"sqlite:///{tmp_path / 'mlruns' / 'optuna.db'}"
    process = start(args, tmp_path, tmp_path / "killed.log")
    deadline = time.time() + 400
    try:
        while time.time() < deadline:
            time.sleep(0.1)
            try:
                trials = optuna.load_study(study_name="nest-outer1", storage=storage).get_trials()
            except Exception:  # outer split 1's study does not exist yet
                continue
            if any(t.state == TrialState.RUNNING for t in trials) and any(
                r.info.status == "RUNNING" for r in runs(tracking_uri, "tags.`bench.kind` = 'trial'")
            ):
                break  # outer split 0 is done, split 1 is training
        else:
            pytest.fail(
                "the nested search never reached outer split 1: " + (tmp_path / "killed.log").read_text()[-2000:]
            )
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    parent, outer_runs = children(tracking_uri)
    assert parent.info.status == "RUNNING" and sorted(r.info.status for r in outer_runs) == ["FINISHED", "RUNNING"]

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 finished before" in result.output and "re-queued killed trials" in result.output
    parent, outer_runs = children(tracking_uri)
    assert parent.info.status == "FINISHED" and parent.data.metrics["n_splits"] == 2
    assert sorted(r.data.tags["bench.split"] for r in outer_runs) == ["0", "1"]  # one child per outer split
    assert all(
        r.info.status == "FINISHED" and "test_acc" in r.data.metrics and "chosen.alpha" in r.data.params
        for r in outer_runs
    )
    for k in (0, 1):
        study = optuna.load_study(study_name=f"nest-outer{k}", storage=storage)
        ended = [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
        assert sorted(t.params["alpha"] for t in ended) == [2, 4]
    killed = [r for r in runs(tracking_uri, "tags.`bench.kind` = 'trial'") if r.info.status == "KILLED"]
    assert [r.data.tags["bench.state"] for r in killed] == ["killed"]
    assert np.mean([r.data.metrics["test_acc"] for r in outer_runs]) == pytest.approx(
        parent.data.metrics["test_acc_mean"]
    )


@pytest.mark.slow
def test_outer_splits_spread_over_worker_processes(tiny_store, tracking_uri):
    result = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri, "--executor", "processes", "--jobs", "2"))
    assert result.exit_code == 0, result.output
    parent, outer_runs = children(tracking_uri)
    assert parent.info.status == "FINISHED" and len(outer_runs) == 2
    pids = {r.data.tags["bench.pid"] for r in runs(tracking_uri, "tags.`bench.kind` = 'trial'")}
    assert str(os.getpid()) not in pids and len(pids) >= 1  # trained in workers, not in this process


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--inner-splits", "2"], "--inner-splits is only used with --nested"),
        (["--executor", "processes"], "--executor is only used with --nested"),
    ],
)
def test_nested_options_without_nested_are_one_line_and_exit_2(tiny_store, tracking_uri, tmp_path, extra, message):
    args = ["tune", "--param", "alpha", "--features", str(tiny_store), "--tracking-uri", tracking_uri, *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "mlruns").exists()


def test_nested_with_evaluate_is_refused(tiny_store, tracking_uri, tmp_path):
    result = CliRunner().invoke(app, nested_args(tiny_store, tracking_uri, "--evaluate"))
    assert result.exit_code == 2 and "exclude each other" in result.output
    assert not (tmp_path / "mlruns").exists()
