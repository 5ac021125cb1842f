"""The objective sees only training parts: no test-split id reaches it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.splits import random_splits
from benchmark.tuning.objective import VALIDATION_FRACTION, tuning_parts
from features.store import open_store


def test_no_test_split_id_reaches_the_objective(tiny_store, tracking_uri, record_training):
    result = CliRunner().invoke(
        app,
        [
            "tune",
            "--param",
            "alpha",
            "--values",
            "2,4",
            "--features",
            str(tiny_store),
            "--epochs",
            "1",
            "--n-splits",
            "2",
            "--tracking-uri",
            tracking_uri,
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    store = open_store(tiny_store)
    splits = random_splits(store.labels, store.fingerprint, 2)
    assert len(record_training) == 2 * 2  # two grid points x two splits, in split order
    for i, (train, evaluation) in enumerate(record_training):
        split = splits[i % 2]
        seen = set(train) | set(evaluation)
        assert seen <= set(split.train), "a position outside the split's training part reached training"
        assert not seen & set(split.test), "a test position of the split reached the objective"
        assert not set(train) & set(evaluation), "validation overlaps the fitted part"
        assert abs(len(evaluation) - VALIDATION_FRACTION * len(split.train)) <= 1


def test_validation_parts_are_stratified_seeded_and_inside_the_training_part(tiny_store):
    store = open_store(tiny_store)
    splits = random_splits(store.labels, store.fingerprint, 3)
    parts = tuning_parts(splits, store.labels, store.fingerprint)
    again = tuning_parts(splits, store.labels, store.fingerprint)
    for split, part, same in zip(splits, parts, again):
        assert np.array_equal(part.validation, same.validation)
        assert set(part.fit) | set(part.validation) == set(split.train)
        assert set(store.labels[part.validation]) == set(store.labels)  # every class validated
    assert not np.array_equal(parts[0].validation, parts[1].validation)


def test_report_files_hold_every_trial_and_the_best(tiny_store, tracking_uri, fake_training, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "tune",
            "--param",
            "alpha",
            "--features",
            str(tiny_store),
            "--epochs",
            "2",
            "--n-splits",
            "2",
            "--tracking-uri",
            tracking_uri,
            "--study-name",
            "demo",
        ],
    )
    assert result.exit_code == 0, result.output
    directory = tmp_path / "reports" / "synthetic-ve8-seed3" / "tune-demo"
    table = pd.read_csv(directory / "trials.csv")
    assert sorted(table.alpha) == [2, 4, 8, 16] and set(table.state) == {"complete"}
    assert (table.n_splits == 2).all() and table.val_acc_std.notna().all()
    best = json.loads((directory / "best.json").read_text())["best"]
    assert best["params"] == {"alpha": 4} and "best alpha=4" in result.output
    assert best["val_acc_mean"] == table.val_acc_mean.max()
    assert (directory / "objective.png").stat().st_size > 5000
    assert sum("| complete | " in line for line in (directory / "trials.md").read_text().splitlines()) == 4


def test_evaluate_runs_the_best_setting_under_the_test_protocol_beside_table_3(tiny_store, tracking_uri, fake_training):
    from mlflow.tracking import MlflowClient

    result = CliRunner().invoke(
        app,
        [
            "tune",
            "--param",
            "alpha",
            "--features",
            str(tiny_store),
            "--epochs",
            "1",
            "--n-splits",
            "2",
            "--tracking-uri",
            tracking_uri,
            "--study-name",
            "ev",
            "--evaluate",
            "--eval-splits",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "tuned: alpha=4" in result.output and "43.2" in result.output  # Table 3's number for alpha = 4
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    splits = client.search_runs([experiment], "tags.`bench.kind` = 'split' and tags.`bench.suite` = 'tune-ev'")
    assert sorted(r.data.tags["bench.split"] for r in splits if r.info.status == "FINISHED") == ["0", "1"]
    assert all(r.data.params["params.alpha"] == "4" for r in splits)
    assert all("test_acc" in r.data.metrics for r in splits)  # evaluated on the test parts, as bench run does
