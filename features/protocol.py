"""A store's evaluation protocol, declared in ``meta.json`` (optional; docs/guide/feature-store.md).

The dataset says how it is evaluated, so that every command splits it the same way::

    "protocol": {"kind": "random", "n_splits": 10, "train_fraction": 0.6666666666666666}
    "protocol": {"kind": "files", "folder": "splits"}

``random``: ``n_splits`` seeded stratified splits, ``train_fraction`` of every class for training.
``files``: official UCF101-style lists (``trainlistNN.txt``, ``testlistNN.txt``, optional
``classInd.txt``) in a folder inside the store. No ``protocol`` key means the default, ten seeded
stratified 2/3 splits: every store written before the key existed keeps its meaning and its bytes
(so its fingerprint and its runs). This module reads, checks and writes the declaration; the splits
themselves are made by ``benchmark.protocol``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from features.errors import StoreError

PROTOCOL_KEY = "protocol"
RANDOM, FILES = "random", "files"
DEFAULT_N_SPLITS = 10
DEFAULT_TRAIN_FRACTION = 2 / 3
SPLITS_FOLDER = "splits"
_KEYS = {RANDOM: {"kind", "n_splits", "train_fraction", "note"}, FILES: {"kind", "folder", "note"}}


@dataclass(frozen=True)
class Declaration:
    """What ``meta.json`` says (or the default); ``declared`` is False where it says nothing."""

    kind: str = RANDOM
    n_splits: int = DEFAULT_N_SPLITS
    train_fraction: float = DEFAULT_TRAIN_FRACTION
    folder: str | None = None  # files: relative to the store
    declared: bool = False


def random_declaration(
    n_splits: int = DEFAULT_N_SPLITS, train_fraction: float = DEFAULT_TRAIN_FRACTION
) -> dict[str, Any]:
    return {"kind": RANDOM, "n_splits": int(n_splits), "train_fraction": float(train_fraction)}


def files_declaration(folder: str = SPLITS_FOLDER, note: str | None = None) -> dict[str, Any]:
    return {"kind": FILES, "folder": folder, **({"note": note} if note else {})}


def check_protocol(meta_path: Path, meta: Mapping[str, Any]) -> None:
    """The declaration's shape; a ``files`` folder must be a folder inside the store."""
    if PROTOCOL_KEY not in meta:
        return
    value = meta[PROTOCOL_KEY]
    where = f"'{PROTOCOL_KEY}'"
    if not isinstance(value, dict) or value.get("kind") not in _KEYS:
        raise StoreError(meta_path, f'{where} must be an object with "kind": "{RANDOM}" or "{FILES}"')
    unknown = sorted(set(value) - _KEYS[value["kind"]])
    if unknown:
        raise StoreError(
            meta_path,
            f"{where} of kind {value['kind']!r} has unknown key {unknown[0]!r} (known: "
            f"{', '.join(sorted(_KEYS[value['kind']]))})",
        )
    if value["kind"] == RANDOM:
        n = value.get("n_splits", DEFAULT_N_SPLITS)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise StoreError(meta_path, f"{where} 'n_splits' must be a positive integer, got {n!r}")
        fraction = value.get("train_fraction", DEFAULT_TRAIN_FRACTION)
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise StoreError(
                meta_path, f"{where} 'train_fraction' must be a number between 0 and 1 (exclusive), got {fraction!r}"
            )
        return
    folder = value.get("folder")
    if (
        not isinstance(folder, str)
        or not folder
        or PurePosixPath(folder).is_absolute()
        or ".." in PurePosixPath(folder).parts
    ):
        raise StoreError(
            meta_path, f"{where} 'folder' must be a folder inside the store (a relative path), got {folder!r}"
        )
    if not (meta_path.parent / folder).is_dir():
        raise StoreError(meta_path, f"{where} names split folder {folder!r}, which is not a folder in the store")


def read_declaration(meta: Mapping[str, Any]) -> Declaration:
    """The declaration of an already checked ``meta`` (the default where there is none)."""
    value = meta.get(PROTOCOL_KEY)
    if value is None:
        return Declaration()
    if value["kind"] == FILES:
        return Declaration(kind=FILES, n_splits=0, folder=value["folder"], declared=True)
    return Declaration(
        n_splits=int(value.get("n_splits", DEFAULT_N_SPLITS)),
        train_fraction=float(value.get("train_fraction", DEFAULT_TRAIN_FRACTION)),
        declared=True,
    )


def write_split_lists(
    folder: Path, lists: Sequence[tuple[Sequence[str], Sequence[str]]], classes: Sequence[str]
) -> Path:
    """``trainlistNN.txt`` / ``testlistNN.txt`` per (train ids, test ids), and ``classInd.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, (train, test) in enumerate(lists, start=1):
        (folder / f"trainlist{number:02d}.txt").write_text("".join(f"{i}\n" for i in train))
        (folder / f"testlist{number:02d}.txt").write_text("".join(f"{i}\n" for i in test))
    (folder / "classInd.txt").write_text("".join(f"{k} {c}\n" for k, c in enumerate(classes, start=1)))
    return folder


def declare(store: Path, declaration: Mapping[str, Any], lists_from: Path | None = None) -> bool:
    """Record ``declaration`` in ``store``'s meta.json (a ``files`` one with the lists copied from
    ``lists_from`` into the store); returns whether meta.json changed (it changes the fingerprint)."""
    meta_path = store / "meta.json"
    meta = json.loads(meta_path.read_text())
    if lists_from is not None:
        target = store / str(declaration["folder"])
        if target.resolve() != Path(lists_from).resolve():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(lists_from, target, ignore=shutil.ignore_patterns(".*"))
    if meta.get(PROTOCOL_KEY) == dict(declaration):
        return False
    meta[PROTOCOL_KEY] = dict(declaration)
    check_protocol(meta_path, meta)
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    tmp.replace(meta_path)
    return True
