"""The evaluation protocol of a run, from one place: the store's declaration, overridden by the flags.

``bench run``, ``bench tune`` (plain, ``--evaluate`` and ``--nested``) and the Python API all call
:func:`resolve_protocol`, so a dataset with an official split is tuned and tested on that split
everywhere. Precedence:

1. ``--split-files DIR``: those lists, whatever the store declares;
2. otherwise the store's ``meta.json`` "protocol" (:mod:`features.protocol`), or the default (ten
   seeded stratified 2/3 splits) where it declares none;
3. ``--n-splits N`` then sets the count: N seeded splits of a random protocol (same train fraction),
   the first N lists of a files protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmark.splits import TRAIN_FRACTION, Split, file_splits, random_source, random_splits
from features.protocol import FILES, RANDOM
from features.store import FeatureStore

DEFAULT_SOURCE = random_source(TRAIN_FRACTION)


@dataclass(frozen=True)
class Protocol:
    """How a store is split: ``kind`` random (``n_splits`` seeded stratified splits of ``train_fraction``)
    or files (the lists in ``folder``, at most ``n_splits`` of them; None: all). Plain data (jobs carry it)."""

    kind: str = RANDOM
    n_splits: int | None = 10
    train_fraction: float = TRAIN_FRACTION
    folder: str | None = None
    origin: str = "default"  # where it came from, for the terminal: "store", "default", "--split-files"

    @property
    def source(self) -> str:
        """The split source label without the list number (``random-stratified-2/3``, ``files:splits``)."""
        return random_source(self.train_fraction) if self.kind == RANDOM else f"files:{Path(self.folder or '').name}"

    @property
    def is_default(self) -> bool:
        return self.kind == RANDOM and self.source == DEFAULT_SOURCE

    def with_count(self, n_splits: int | None) -> Protocol:
        return self if n_splits is None else replace(self, n_splits=n_splits)

    def splits(self, store: FeatureStore) -> list[Split]:
        if self.kind == RANDOM:
            return random_splits(
                store.labels, store.fingerprint, self.n_splits or 10, store.classes, self.train_fraction
            )
        video_classes = [store.classes[label] for label in store.labels]
        return file_splits(
            Path(self.folder or ""), store.ids, store.classes, self.n_splits, video_classes=video_classes
        )

    def tuning_splits(self, store: FeatureStore, n: int) -> list[Split]:
        """The splits whose training parts a plain ``bench tune`` carves ``n`` validation parts from:
        the protocol's first ``n`` random splits, or every official split (parts then cycle over them)."""
        return self.with_count(n).splits(store) if self.kind == RANDOM else self.splits(store)

    def settings(self, store: FeatureStore, splits: list[Split]) -> dict[str, Any]:
        """What a study or a nested evaluation must add to its settings so that other protocols never mix
        with it; nothing for the default (so the names of studies made before protocols existed hold)."""
        if self.is_default:
            return {}
        extra: dict[str, Any] = {"split_source": self.source}
        if self.kind == FILES:
            extra["split_digests"] = [s.digest(store.ids) for s in splits]
        return extra

    def describe(self, n: int | None = None) -> str:
        """``10 seeded stratified 2/3 splits (the store's default)``: for the terminal."""
        where = {"store": "declared by the store", "default": "the default: the store declares none"}.get(
            self.origin, self.origin
        )
        if self.kind == RANDOM:
            fraction = "2/3" if self.source == DEFAULT_SOURCE else f"{self.train_fraction:.3g}"
            return f"{n or self.n_splits} seeded stratified {fraction} splits ({where})"
        count = n if n is not None else self.n_splits
        lists = "official split" + ("" if count == 1 else "s")
        return f"{count if count is not None else 'all'} {lists} from {self.folder} ({where})"


def resolve_protocol(
    store: FeatureStore, *, n_splits: int | None = None, split_files: str | Path | None = None
) -> Protocol:
    """The protocol of ``store`` after the flags (see the module docstring for the precedence)."""
    if split_files is not None:
        return Protocol(kind=FILES, n_splits=n_splits, folder=str(Path(split_files)), origin="--split-files")
    declared = store.protocol
    if declared.kind == FILES:
        base = Protocol(kind=FILES, n_splits=None, folder=str(store.path / str(declared.folder)), origin="store")
    else:
        base = Protocol(
            n_splits=declared.n_splits,
            train_fraction=declared.train_fraction,
            origin="store" if declared.declared else "default",
        )
    return base.with_count(n_splits)


def protocol_splits(
    store: FeatureStore, *, n_splits: int | None = None, split_files: str | Path | None = None
) -> tuple[Protocol, list[Split]]:
    """The resolved protocol and its splits (what ``bench run`` and the API train on)."""
    protocol = resolve_protocol(store, n_splits=n_splits, split_files=split_files)
    return protocol, protocol.splits(store)
