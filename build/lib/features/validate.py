"""Store validation: every check of DESIGN section 3, each failing with one line naming the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from features.errors import StoreError
from features.fingerprint import cached_scan

if TYPE_CHECKING:
    from features.store import FeatureStore

_ROWS_PER_CHUNK = 64


def validate_store(store: "FeatureStore", *, check_values: bool = True) -> None:
    from features.store import ALLOWED_DTYPES, INDEX_FILE, META_FILE, array_file, mask_file

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
            bad = cached_scan(path, [name], f"nonfinite:{name}", lambda a=array: _count_nonfinite(a))
            if bad:
                raise StoreError(path / name, f"holds {bad} NaN or infinite values")


def _count_nonfinite(array: np.ndarray) -> int:
    bad = 0
    for start in range(0, array.shape[0], _ROWS_PER_CHUNK):
        chunk = np.asarray(array[start : start + _ROWS_PER_CHUNK])
        bad += int(chunk.size - np.count_nonzero(np.isfinite(chunk)))
    return bad


def small_classes(store: "FeatureStore") -> list[tuple[str, int]]:
    """Classes with fewer videos than a split needs (DESIGN 3: a store may hold them; ``bench run``
    refuses to split them), as (class, count)."""
    from features.store import MIN_VIDEOS_PER_CLASS

    counts = store.index["label"].value_counts()
    return [(cls, int(counts.get(cls, 0))) for cls in store.classes if counts.get(cls, 0) < MIN_VIDEOS_PER_CLASS]
