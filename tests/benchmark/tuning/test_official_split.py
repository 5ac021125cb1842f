"""`bench tune` on a store with one official split: validation parts come from its training list only,
no test id is ever used in a trial, and a nested evaluation says its number comes from one split."""

from __future__ import annotations

import numpy as np
from mlflow.tracking import MlflowClient

from benchmark.protocol import resolve_protocol
from features.store import open_store
from tests.cli import bench, flat


def official(store_path):
    store = open_store(store_path)
    (split,) = resolve_protocol(store).splits(store)
    return store, split


def test_tune_carves_every_validation_part_from_the_official_training_list(
    tiny_ekman_store, tracking_uri, record_training
):
    result = bench(
        "tune",
        "--param",
        "alpha",
        "--values",
        "2,4",
        "--features",
        tiny_ekman_store,
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--device",
        "cpu",
        "--no-prune",
    )
    assert result.exit_code == 0, result.output
    store, split = official(tiny_ekman_store)
    test_ids = set(store.ids[split.test])
    assert len(record_training) == 2 * 3  # two values x the default three validation parts
    validations = []
    for fit, validation in record_training:
        used = set(store.ids[fit]) | set(store.ids[validation])
        assert not used & test_ids, "a test id of the official split was used in a trial"
        assert used <= set(store.ids[split.train]) and not set(fit) & set(validation)
        validations.append(tuple(validation))
    assert len(set(validations)) == 3  # three different parts of the one training list
    assert "3 validation parts of 20%, all from the official training list(s)" in flat(result.output)
    client = MlflowClient(tracking_uri)
    (study,) = client.search_runs(
        [client.get_experiment_by_name("synthetic-ekman6-seed3").experiment_id], "tags.`bench.kind` = 'study'"
    )
    assert study.data.params["n_splits"] == "3"


def test_nested_with_one_official_split_says_its_number_comes_from_one_split(
    tiny_ekman_store, tracking_uri, record_training
):
    result = bench(
        "tune",
        "--param",
        "alpha",
        "--values",
        "2,4",
        "--nested",
        "--inner-splits",
        "2",
        "--features",
        tiny_ekman_store,
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--device",
        "cpu",
        "--no-prune",
    )
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "1 outer splits" in text and "This number comes from one split" in text
    client = MlflowClient(tracking_uri)
    (parent,) = client.search_runs(
        [client.get_experiment_by_name("synthetic-ekman6-seed3").experiment_id], "tags.`bench.kind` = 'nested'"
    )
    assert parent.data.tags["bench.split_source"] == "files:splits" and parent.data.metrics["n_splits"] == 1
    _store, split = official(tiny_ekman_store)
    assert len(record_training) == 2 * 2
    for fit, validation in record_training:
        assert not (set(fit) | set(validation)) & set(split.test)
        assert set(np.concatenate([fit, validation])) <= set(split.train)
