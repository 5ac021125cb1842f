"""The feature store: the one on-disk format that extraction writes and everything that trains reads.

Layout (``bench-features/1``)::

    STORE/
      meta.json            {"format": "bench-features/1", "name": ..., "classes": [...],
                            "frames": T, "modalities": {"visual": {"dim": 768, ...}, ...}}
      index.csv            one row per video in array order; columns at least id,label
      <modality>.npy       float16/float32 [N, T, dim]
      <modality>.mask.npy  optional bool [N, T]: True where the frame holds a real observation

Arrays are opened memory-mapped, so a store larger than memory can still be validated and read.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from features.errors import StoreError
from features.fingerprint import store_fingerprint
from features.oracle import subset_key

FORMAT = "bench-features/1"
META_FILE = "meta.json"
INDEX_FILE = "index.csv"
MIN_VIDEOS_PER_CLASS = 3
ALLOWED_DTYPES = (np.dtype("float16"), np.dtype("float32"))

#: The paper's per-frame feature widths (Swin-T, VGGish, BlazePose 33 x 3).
PAPER_DIMS: dict[str, int] = {"visual": 768, "audio": 128, "skeleton": 99}


def array_file(modality: str) -> str:
    return f"{modality}.npy"


def mask_file(modality: str) -> str:
    return f"{modality}.mask.npy"


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
    def random_extractors(self) -> list[str]:
        """Modalities whose extractor weights were randomly initialised (features carry no meaning)."""
        return [
            m
            for m, info in self.meta["modalities"].items()
            if str(info.get("weights", "")).startswith("random")
        ]

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
    from features.validate import validate_store

    path = Path(path)
    if not path.is_dir():
        raise StoreError(path, "not a directory (expected a feature store, see README 'Feature store')")
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
    if not isinstance(meta, dict):
        raise StoreError(meta_path, "must hold a JSON object")
    for key in ("format", "name", "classes", "frames", "modalities"):
        if key not in meta:
            raise StoreError(meta_path, f"missing key '{key}'")
    if meta["format"] != FORMAT:
        raise StoreError(meta_path, f"format is {meta['format']!r}, expected {FORMAT!r}")
    if not isinstance(meta["modalities"], dict) or not meta["modalities"]:
        raise StoreError(meta_path, "'modalities' must be a non-empty object {name: {dim: ...}}")
    for modality, info in meta["modalities"].items():
        if not isinstance(info, dict) or not isinstance(info.get("dim"), int):
            raise StoreError(meta_path, f"modality '{modality}' needs an integer 'dim'")
    if not isinstance(meta["classes"], list) or not meta["classes"]:
        raise StoreError(meta_path, "'classes' must be a non-empty list of class names")
    if len(set(meta["classes"])) != len(meta["classes"]):
        raise StoreError(meta_path, "'classes' holds a name twice")
    if not isinstance(meta["frames"], int) or meta["frames"] < 1:
        raise StoreError(meta_path, "'frames' must be a positive integer")
    return meta


def _read_index(path: Path) -> pd.DataFrame:
    index_path = path / INDEX_FILE
    if not index_path.exists():
        raise StoreError(index_path, "missing")
    try:
        _check_field_counts(index_path)
        index = pd.read_csv(index_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StoreError(index_path, f"cannot be parsed as CSV ({exc})") from None
    for column in ("id", "label"):
        if column not in index.columns:
            raise StoreError(index_path, f"missing column '{column}' (columns: {list(index.columns)})")
    return index


def _check_field_counts(index_path: Path) -> None:
    """Every line has the header's number of fields: an id with an unquoted comma otherwise shifts the
    columns and shows up as a puzzling error far from its cause (duplicate ids, unknown labels)."""
    with index_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        for fields in reader:
            if fields and len(fields) != len(header):
                raise StoreError(
                    index_path,
                    f"line {reader.line_num} has {len(fields)} fields but the header has {len(header)} "
                    f"({','.join(fields)[:80]!r}); quote a value that contains a comma: \"a,b\"",
                )


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
