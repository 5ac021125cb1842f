"""Turn a feature store into training arrays: frame resampling and train-only standardisation.

Arrays are read once per process and cached, so the ten splits of a row (and rows sharing a store)
read the store's memory maps only once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.params import ParamError
from features.store import FeatureStore


@dataclass
class ModalityData:
    features: np.ndarray  # float32 [N, T, D]
    mask: np.ndarray | None  # bool [N, T], None when every frame is real


_CACHE: dict[tuple[str, str, int], ModalityData] = {}


def check_frames(frames: int | None, store: FeatureStore, who: str = "") -> int:
    """The frames a run averages the store's into (None: all of them); more than the store has is an error.

    ``who`` names where the number came from (a profile, say) in the message. The one frames check:
    planning, tuning and loading all ask here."""
    target = store.frames if frames is None else frames
    if target > store.frames:
        source = f"{who} uses " if who else ""
        raise ParamError(
            f"{source}frames={target} but the store {store.path} has only {store.frames} frames per video; "
            f"pass --frames {store.frames} or fewer"
        )
    return target


def load_modalities(
    store: FeatureStore, modalities: list[str] | tuple[str, ...], frames: int | None
) -> dict[str, ModalityData]:
    missing = [m for m in modalities if m not in store.arrays]
    if missing:
        raise ParamError(
            f"the store {store.path} has no {missing[0]!r} modality (it has: {', '.join(store.modalities)})"
        )
    target = check_frames(frames, store)
    out = {}
    for m in modalities:
        key = (store.fingerprint, m, target)
        if key not in _CACHE:
            mask = np.asarray(store.masks[m]) if m in store.masks else None
            _CACHE[key] = segment_means(np.asarray(store.arrays[m], dtype=np.float32), mask, target)
        out[m] = _CACHE[key]
    return out


def segment_means(x: np.ndarray, mask: np.ndarray | None, frames: int) -> ModalityData:
    """Average the valid frames of ``frames`` equal segments (identity when T already matches).

    A segment is valid when any of its frames is; an all-missing segment is zeros.
    """
    total = x.shape[1]
    if frames == total:
        return ModalityData(x, mask if mask is not None and not mask.all() else None)
    bounds = np.linspace(0, total, frames + 1).round().astype(int)
    weight = np.ones(x.shape[:2], np.float32) if mask is None else mask.astype(np.float32)
    sums = np.add.reduceat(x * weight[..., None], bounds[:-1], axis=1)
    counts = np.add.reduceat(weight, bounds[:-1], axis=1)
    out = sums / np.maximum(counts, 1.0)[..., None]
    seg_mask = counts > 0
    return ModalityData(out.astype(np.float32), None if seg_mask.all() else seg_mask)


def train_statistics(item: ModalityData, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std (clamped away from 0) over the training videos' valid frames."""
    x = item.features[train]
    if item.mask is not None:
        x = x[item.mask[train]]
    x = x.reshape(-1, x.shape[-1])
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[-1], np.float32)
    std = x.std(axis=0) if len(x) else np.ones(x.shape[-1], np.float32)
    return mean, np.maximum(std, 1e-6)


def standardize(data: dict[str, ModalityData], train: np.ndarray) -> dict[str, ModalityData]:
    """Per-dimension z-scores with statistics from the training videos' valid frames only."""
    out = {}
    for m, item in data.items():
        mean, std = train_statistics(item, train)
        scaled = (item.features - mean) / std
        if item.mask is not None:
            scaled = scaled * item.mask[..., None]
        out[m] = ModalityData(scaled.astype(np.float32), item.mask)
    return out


def as_tensor(array: np.ndarray):
    """A tensor sharing the array's memory where it is writable (store memory maps are not: copied)."""
    import torch

    array = np.ascontiguousarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy())
