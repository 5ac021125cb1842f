"""The protocol comes from the store (meta.json "protocol"), overridden by --n-splits / --split-files:
the resolver, then `bench run` and the Python API reading it from the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mlflow.tracking import MlflowClient

from benchmark.protocol import resolve_protocol
from benchmark.splits import random_splits
from features.protocol import declare, random_declaration
from features.store import open_store
from tests.cli import bench, flat

SUITE = 'name = "tiny"\nreference = "full"\n[[rows]]\nname = "full"\nmodel = "linear_probe"\n'
ROWS = {"name": "tiny", "reference": "full", "rows": [{"name": "full", "model": "linear_probe"}]}


def official_lists(store_path) -> tuple[set[str], set[str]]:
    lists = store_path / "splits"
    return tuple(set((lists / f"{part}list01.txt").read_text().split()) for part in ("train", "test"))


def split_children(tracking_uri: str, experiment: str) -> list:
    client = MlflowClient(tracking_uri)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    return client.search_runs([experiment_id], "tags.`bench.kind` = 'split'", max_results=100)


def test_the_store_declares_the_flags_override(tiny_store, tiny_ekman_store):
    ekman = open_store(tiny_ekman_store)
    official = resolve_protocol(ekman)
    (split,) = official.splits(ekman)
    train, test = official_lists(tiny_ekman_store)
    assert (official.kind, official.origin) == ("files", "store")
    assert set(ekman.ids[split.train]) == train and set(ekman.ids[split.test]) == test
    assert resolve_protocol(ekman, n_splits=3).splits(ekman)[0].digest(ekman.ids) == split.digest(
        ekman.ids
    )  # only one list

    plain = open_store(tiny_store)
    default = resolve_protocol(plain)
    assert (default.kind, default.n_splits, default.origin, default.is_default) == ("random", 10, "default", True)
    assert [s.digest(plain.ids) for s in default.with_count(2).splits(plain)] == [
        s.digest(plain.ids) for s in random_splits(plain.labels, plain.fingerprint, 2)
    ]  # the splits of before
    moved = resolve_protocol(plain, split_files=tiny_ekman_store / "splits")
    assert (moved.kind, moved.origin) == ("files", "--split-files")

    declare(tiny_store, random_declaration(4, 0.5))
    halves = open_store(tiny_store)
    declared = resolve_protocol(halves)
    splits = declared.splits(halves)
    assert (declared.origin, len(splits), splits[0].source) == ("store", 4, "random-stratified-0.5")
    assert abs(len(splits[0].train) - len(splits[0].test)) <= len(halves.classes)
    assert len(resolve_protocol(halves, n_splits=2).splits(halves)) == 2 and not declared.is_default


def test_bench_run_reads_the_official_split_from_the_store(tiny_ekman_store, tracking_uri, tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text(SUITE)
    result = bench(
        "run",
        "--suite",
        suite,
        "--features",
        tiny_ekman_store,
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert "1 official split from" in flat(result.output) and "(declared by the store)" in flat(result.output)
    (child,) = split_children(tracking_uri, "synthetic-ekman6-seed3")
    assert child.data.tags["bench.split_source"] == "files:splits/01"
    logged = json.loads(
        Path(MlflowClient(tracking_uri).download_artifacts(child.info.run_id, "split.json", str(tmp_path))).read_text()
    )
    assert (set(logged["train"]), set(logged["test"])) == official_lists(tiny_ekman_store)
    again = bench(
        "run",
        "--suite",
        suite,
        "--features",
        tiny_ekman_store,
        "--epochs",
        "1",
        "--tracking-uri",
        tracking_uri,
        "--no-report",
    )
    assert again.exit_code == 0 and "trained 0 split runs, reused 1" in flat(again.output)


def test_python_api_reads_the_protocol_from_the_store(tiny_store, tracking_uri):
    from benchmark.api import run

    declare(tiny_store, random_declaration(2))
    table = run(ROWS, features=tiny_store, epochs=1, tracking_uri=tracking_uri, progress=False)
    assert (table["n_splits"] == 2).all() and table.attrs["trained"] == 2
    assert table.attrs["protocol"] == "2 seeded stratified 2/3 splits (declared by the store)"
    store = open_store(tiny_store)
    expected = {s.index: s.digest(store.ids) for s in random_splits(store.labels, store.fingerprint, 2)}
    children = split_children(tracking_uri, "synthetic-ve8-seed3")
    assert {int(c.data.tags["bench.split"]) for c in children} == set(expected)
    assert json.loads((tiny_store / "meta.json").read_text())["protocol"]["n_splits"] == 2
    assert np.all(store.labels >= 0)
