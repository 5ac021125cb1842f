"""The store's protocol declaration (meta.json "protocol"): optional, checked, written by ``declare``."""

from __future__ import annotations

import json

import pytest

from features.errors import StoreError
from features.protocol import FILES, RANDOM, declare, files_declaration, random_declaration
from features.store import open_store


def set_protocol(store, value) -> None:
    meta = json.loads((store / "meta.json").read_text())
    meta["protocol"] = value
    (store / "meta.json").write_text(json.dumps(meta))


def test_no_declaration_means_ten_seeded_two_thirds_splits(tiny_store):
    protocol = open_store(tiny_store).protocol
    assert (protocol.kind, protocol.n_splits, protocol.train_fraction, protocol.declared) == (
        RANDOM,
        10,
        pytest.approx(2 / 3),
        False,
    )


def test_declarations_are_read(tiny_store):
    set_protocol(tiny_store, random_declaration(5, 0.5))
    protocol = open_store(tiny_store).protocol
    assert (protocol.kind, protocol.n_splits, protocol.train_fraction, protocol.declared) == (RANDOM, 5, 0.5, True)
    (tiny_store / "lists").mkdir()
    set_protocol(tiny_store, files_declaration("lists"))
    assert (open_store(tiny_store).protocol.kind, open_store(tiny_store).protocol.folder) == (FILES, "lists")


@pytest.mark.parametrize(
    "value, message",
    [
        ("ten", "must be an object"),
        ({"kind": "kfold"}, "must be an object"),
        ({"kind": "random", "n_splits": 0}, "'n_splits' must be a positive integer"),
        ({"kind": "random", "train_fraction": 1.0}, "'train_fraction' must be a number between 0 and 1"),
        ({"kind": "random", "splits": 3}, "unknown key 'splits'"),
        ({"kind": "files", "folder": "../elsewhere"}, "must be a folder inside the store"),
        ({"kind": "files", "folder": "/abs"}, "must be a folder inside the store"),
        ({"kind": "files", "folder": "splits"}, "not a folder in the store"),
    ],
)
def test_a_bad_declaration_is_one_error_naming_meta_json(tiny_store, value, message):
    set_protocol(tiny_store, value)
    with pytest.raises(StoreError, match=message) as error:
        open_store(tiny_store)
    assert "meta.json" in str(error.value)


def test_declare_copies_the_lists_and_changes_meta_only_when_the_declaration_changes(tiny_store, tmp_path):
    lists = tmp_path / "official"
    lists.mkdir()
    (lists / "trainlist01.txt").write_text("x\n")
    (lists / "testlist01.txt").write_text("y\n")
    assert declare(tiny_store, files_declaration(), lists) is True
    assert (tiny_store / "splits" / "trainlist01.txt").read_text() == "x\n"
    assert declare(tiny_store, files_declaration(), lists) is False
    assert open_store(tiny_store).protocol.folder == "splits"
