"""The feature store: the one on-disk format that extraction writes and everything that trains reads.

Layout (``bench-features/1``)::

    STORE/
      meta.json            {"format": "bench-features/1", "name": ..., "classes": [...],
                            "frames": T, "modalities": {"visual": {"dim": 768, ...}, ...},
                            optional "protocol": {"kind": "random"|"files", ...} (features.protocol)}
      index.csv            one row per video in array order; columns at least id,label
      <modality>.npy       float16/float32 [N, T, dim]
      <modality>.mask.npy  optional bool [N, T]: True where the frame holds a real observation
      splits/              optional: official split lists, where the protocol is "files"

Arrays are opened memory-mapped, so a store larger than memory can still be validated and read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import StoreError
from features.fingerprint import store_fingerprint
from features.format import (  # noqa: F401  (the format's names, also read from here)
    ALLOWED_DTYPES,
    FORMAT,
    INDEX_FILE,
    META_FILE,
    MIN_VIDEOS_PER_CLASS,
    PAPER_DIMS,
    array_file,
    mask_file,
)
from features.oracle import subset_key
from features.protocol import Declaration, read_declaration
from features.validate import check_field_counts, check_index_columns, check_meta, validate_store


@dataclass
class FeatureStore:
    """A validated store. ``arrays`` and ``masks`` are read-only memory maps."""

    path: Path
    meta: dict
    index: pd.DataFrame
    arrays: dict[str, np.ndarray]
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def frames(self) -> int:
        return int(self.meta["frames"])

    @property
    def modalities(self) -> list[str]:
        return list(self.meta["modalities"])

    @property
    def dims(self) -> dict[str, int]:
        return {m: int(info["dim"]) for m, info in self.meta["modalities"].items()}

    @property
    def ids(self) -> np.ndarray:
        return self.index["id"].to_numpy(dtype=str)

    @property
    def labels(self) -> np.ndarray:
        """Integer labels, positions in ``classes``."""
        lookup = {c: i for i, c in enumerate(self.classes)}
        return self.index["label"].map(lookup).to_numpy(dtype=np.int64)

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))

    @property
    def protocol(self) -> Declaration:
        """How the store is evaluated (``meta.json`` "protocol"; the default 10 x 2/3 where absent)."""
        return read_declaration(self.meta)

    @property
    def random_extractors(self) -> list[str]:
        """Modalities whose extractor weights were randomly initialised (features carry no meaning)."""
        return [m for m, info in self.meta["modalities"].items() if str(info.get("weights", "")).startswith("random")]

    def ceiling(self, modalities: list[str] | tuple[str, ...]) -> dict[str, float] | None:
        """Best reachable accuracy with these modalities, ``{"accuracy", "se"}`` (fractions), where the
        store records it (synthetic generator v4 and later); None otherwise."""
        subsets = (self.meta.get("ceiling") or {}).get("subsets") or {}
        return subsets.get(subset_key(modalities, self.modalities))

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = store_fingerprint(self.path, self._files())
        return self._fingerprint

    def _files(self) -> list[str]:
        files = [META_FILE, INDEX_FILE]
        for m in self.modalities:
            files.append(array_file(m))
            if m in self.masks:
                files.append(mask_file(m))
        return files

    def __len__(self) -> int:
        return len(self.index)


def open_store(path: str | Path, *, check_values: bool = True) -> FeatureStore:
    """Open and validate a store; any problem raises one :class:`StoreError` naming the file."""
    path = Path(path)
    if not path.is_dir():
        raise StoreError(path, "not a directory (expected a feature store, see docs/guide/feature-store.md)")
    meta = _read_meta(path)
    index = _read_index(path)
    arrays: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    for modality in meta["modalities"]:
        arrays[modality] = _load_array(path / array_file(modality))
        mask_path = path / mask_file(modality)
        if mask_path.exists():
            masks[modality] = _load_array(mask_path)
    store = FeatureStore(path=path, meta=meta, index=index, arrays=arrays, masks=masks)
    validate_store(store, check_values=check_values)
    return store


def _read_meta(path: Path) -> dict:
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise StoreError(meta_path, "missing")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise StoreError(meta_path, f"not valid JSON ({exc})") from None
    check_meta(meta_path, meta)
    return meta


def _read_index(path: Path) -> pd.DataFrame:
    index_path = path / INDEX_FILE
    if not index_path.exists():
        raise StoreError(index_path, "missing")
    try:
        check_field_counts(index_path)
        index = pd.read_csv(index_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StoreError(index_path, f"cannot be parsed as CSV ({exc})") from None
    check_index_columns(index_path, list(index.columns))
    return index


def _load_array(path: Path) -> np.ndarray:
    if not path.exists():
        raise StoreError(path, "missing")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise StoreError(path, f"not a readable .npy array ({exc})") from None


def write_store(
    path: str | Path,
    *,
    name: str,
    classes: list[str],
    ids: list[str],
    labels: list[str],
    arrays: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray] | None = None,
    modality_info: Mapping[str, dict] | None = None,
    extra_meta: Mapping[str, object] | None = None,
    extra_columns: Mapping[str, list] | None = None,
) -> Path:
    """Write a complete store from in-memory arrays (what a user's own extractor would do)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    frames = next(iter(arrays.values())).shape[1]
    modalities = {}
    for modality, array in arrays.items():
        info = dict((modality_info or {}).get(modality, {}))
        info["dim"] = int(array.shape[2])
        modalities[modality] = info
        np.save(path / array_file(modality), array)
    for modality, mask in (masks or {}).items():
        np.save(path / mask_file(modality), np.asarray(mask, dtype=bool))
    write_index(path, ids, labels, extra_columns)
    write_meta(path, name=name, classes=classes, frames=frames, modalities=modalities, extra=extra_meta)
    return path


def write_index(path: Path, ids: list[str], labels: list[str], extra_columns: Mapping[str, list] | None = None) -> None:
    frame = pd.DataFrame({"id": list(ids), "label": list(labels), **dict(extra_columns or {})})
    frame.to_csv(path / INDEX_FILE, index=False)


def write_meta(
    path: Path,
    *,
    name: str,
    classes: list[str],
    frames: int,
    modalities: Mapping[str, dict],
    extra: Mapping[str, object] | None = None,
) -> None:
    meta = {
        "format": FORMAT,
        "name": name,
        "classes": list(classes),
        "frames": int(frames),
        "modalities": dict(modalities),
        **dict(extra or {}),
    }
    (path / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
