"""Store validation: every check of the store format (docs/architecture.md, docs/guide/feature-store.md),
each failing with one :class:`StoreError` line naming the file. :mod:`features.store` reads the files
and calls these; the format's names come from :mod:`features.format`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from features.errors import StoreError
from features.fingerprint import cached_scan
from features.format import (
    ALLOWED_DTYPES,
    FORMAT,
    INDEX_COLUMNS,
    INDEX_FILE,
    META_FILE,
    META_KEYS,
    MIN_VIDEOS_PER_CLASS,
    array_file,
    mask_file,
)
from features.protocol import check_protocol

_ROWS_PER_CHUNK = 64


def check_meta(meta_path: Path, meta: Any) -> None:
    """meta.json: an object with the format's keys, the right format, modalities with integer dims,
    unique class names, a positive frame count and, where present, a well-formed protocol."""
    if not isinstance(meta, dict):
        raise StoreError(meta_path, "must hold a JSON object")
    for key in META_KEYS:
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
    check_protocol(meta_path, meta)


def check_field_counts(index_path: Path) -> None:
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
                    f'({",".join(fields)[:80]!r}); quote a value that contains a comma: "a,b"',
                )


def check_index_columns(index_path: Path, columns: Sequence[str]) -> None:
    for column in INDEX_COLUMNS:
        if column not in columns:
            raise StoreError(index_path, f"missing column '{column}' (columns: {list(columns)})")


def validate_store(store: Any, *, check_values: bool = True) -> None:
    """The whole store (``store``: a :class:`features.store.FeatureStore`) against its meta and index."""

    path, meta, index = store.path, store.meta, store.index
    n = len(index)
    if n == 0:
        raise StoreError(path / INDEX_FILE, "holds no videos")
    duplicated = index["id"][index["id"].duplicated()]
    if len(duplicated):
        raise StoreError(path / INDEX_FILE, f"duplicate id {duplicated.iloc[0]!r} ({len(duplicated)} duplicates)")
    unknown = sorted(set(index["label"]) - set(store.classes))
    if unknown:
        raise StoreError(
            path / INDEX_FILE, f"label {unknown[0]!r} is not in meta.json 'classes' ({len(unknown)} unknown labels)"
        )
    frames = store.frames
    for modality, array in store.arrays.items():
        file = path / array_file(modality)
        dim = meta["modalities"][modality]["dim"]
        if array.ndim != 3:
            raise StoreError(file, f"has {array.ndim} dimensions, expected 3 [videos, frames, dim]")
        if array.dtype not in ALLOWED_DTYPES:
            raise StoreError(file, f"dtype is {array.dtype}, expected float16 or float32")
        if array.shape[0] != n:
            raise StoreError(file, f"has {array.shape[0]} videos but {INDEX_FILE} lists {n}")
        if array.shape[1] != frames:
            raise StoreError(file, f"has {array.shape[1]} frames but {META_FILE} says frames={frames}")
        if array.shape[2] != dim:
            raise StoreError(file, f"has feature dim {array.shape[2]} but {META_FILE} says {modality} dim={dim}")
    for modality, mask in store.masks.items():
        file = path / mask_file(modality)
        if mask.dtype != np.bool_:
            raise StoreError(file, f"dtype is {mask.dtype}, expected bool")
        if mask.shape != (n, frames):
            raise StoreError(file, f"has shape {list(mask.shape)}, expected [{n}, {frames}]")
    if check_values:
        for modality, array in store.arrays.items():
            name = array_file(modality)
            bad = cached_scan(path, [name], f"nonfinite:{name}", partial(_count_nonfinite, array))
            if bad:
                raise StoreError(path / name, f"holds {bad} NaN or infinite values")


def _count_nonfinite(array: np.ndarray) -> int:
    bad = 0
    for start in range(0, array.shape[0], _ROWS_PER_CHUNK):
        chunk = np.asarray(array[start : start + _ROWS_PER_CHUNK])
        bad += int(chunk.size - np.count_nonzero(np.isfinite(chunk)))
    return bad


def small_classes(store: Any) -> list[tuple[str, int]]:
    """Classes with fewer videos than a split needs (a store may hold them; ``bench run``
    refuses to split them), as (class, count)."""

    counts = store.index["label"].value_counts()
    return [(cls, int(counts.get(cls, 0))) for cls in store.classes if counts.get(cls, 0) < MIN_VIDEOS_PER_CLASS]
