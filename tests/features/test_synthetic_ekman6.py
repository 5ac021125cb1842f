"""The built-in store shaped like Ekman-6: six classes, 1,637 videos, one official ~half split kept in it."""

from __future__ import annotations

import numpy as np

from benchmark.protocol import resolve_protocol
from features.store import open_store
from features.synthetic import EKMAN6_COUNTS, make_synthetic_store, store_path
from features.synthetic_ekman6 import official_split

SMALL_DIMS = {"visual": 8, "audio": 8, "skeleton": 8}


def test_shape_and_official_split_of_819_and_818(tmp_path):
    store = open_store(make_synthetic_store(tmp_path / "e6", dataset="ekman6", dims=SMALL_DIMS, frames=4))
    assert len(store) == 1637 and sum(EKMAN6_COUNTS.values()) == 1637
    assert (
        store.classes == ["anger", "disgust", "fear", "joy", "sadness", "surprise"] and store.name == "synthetic-ekman6"
    )
    protocol = resolve_protocol(store)
    (split,) = protocol.splits(store)
    assert protocol.kind == "files" and protocol.origin == "store" and split.source == "files:splits/01"
    assert (len(split.train), len(split.test)) == (819, 818)
    assert not set(split.train) & set(split.test) and len(set(split.train) | set(split.test)) == 1637
    per_class = np.bincount(store.labels[split.train]) - np.bincount(store.labels[split.test])
    assert set(per_class) <= {-1, 0, 1}  # stratified: every class split in half
    ceiling = store.ceiling(store.modalities)
    assert ceiling is not None and 0.5 < ceiling["accuracy"] < 1.0
    assert store.meta["modalities"]["visual"]["separates_only_here"] == ["joy", "surprise"]


def test_the_split_is_seeded_and_balanced_for_any_counts():
    labels = np.repeat(np.arange(3), [5, 6, 7])
    train = official_split(labels, 0)
    assert np.array_equal(train, official_split(labels, 0)) and not np.array_equal(train, official_split(labels, 1))
    assert train.sum() == 9 and list(np.bincount(labels[train])) == [3, 3, 3]


def test_built_in_names_resolve_to_cached_stores_and_a_folder_of_that_name_wins(tmp_path, monkeypatch):
    assert store_path(None).name == "synthetic-ve8-v4"
    monkeypatch.setattr(
        "features.synthetic.default_store_path", lambda dataset="ve8", **_: tmp_path / f"cached-{dataset}"
    )
    assert store_path("synthetic-ekman6") == tmp_path / "cached-ekman6"
    assert store_path("synthetic-ve8") == tmp_path / "cached-ve8"
    (tmp_path / "synthetic-ekman6").mkdir()
    monkeypatch.chdir(tmp_path)
    assert store_path("synthetic-ekman6").resolve() == (tmp_path / "synthetic-ekman6").resolve()
