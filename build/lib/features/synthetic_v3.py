"""Synthetic generator version 3, kept so that stores made with it keep their content and fingerprint.

Superseded by version 4 (``features.synthetic_v4``), the default since issue 14: in v3 the audio
signal carried no information that visual and skeleton did not already carry, so "w/o audio" beat
the full model on the demo.

Generative model (per modality m with dim D and strength s_m, per video v of class c, frame t):

    x[v, t] = s_m * a_v * w_v(t) * mu[m, c] + b[m, v] + e[v, t]

- ``mu[m, c]``: a fixed random unit vector per class and modality; each modality pairs the classes
  at random into confusable pairs whose vectors have cosine ``CONFUSION[m]``;
- ``a_v ~ U(0.5, 1.5)``: how strongly the video expresses its emotion;
- ``w_v(t)``: 1 inside one contiguous salient window (20 to 60 % of the frames, random start), else 0;
- ``b[m, v] ~ N(0, I)``: a per-video nuisance; ``e[v, t] ~ N(0, I)``: frame noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.store import array_file, mask_file, write_index, write_meta

VERSION = 3
SIGNAL_STRENGTH: dict[str, float] = {"visual": 7.0, "audio": 3.5, "skeleton": 4.0}
CONFUSION: dict[str, float] = {"visual": 0.8, "audio": 0.3, "skeleton": 0.5}
NO_PERSON_RATE = 0.15
SILENT_RATE = 0.10
#: The module name v3 stores record in meta.json (part of their fingerprint; v3 lived there).
META_MODULE = "features.synthetic"


def write_v3(
    out: Path, *, name: str, seed: int, frames: int, counts: dict[str, int], dims: dict[str, int], dtype: str
) -> Path:
    """Write a v3 store to ``out``: byte for byte what version 3 always wrote."""
    rng = np.random.default_rng(seed)
    classes = list(counts)
    labels = np.repeat(np.arange(len(classes)), [counts[c] for c in classes])
    n = len(labels)
    ids, per_class = [], {c: 0 for c in classes}
    for label in labels:
        cls = classes[label]
        per_class[cls] += 1
        ids.append(f"{cls}/synthetic_{per_class[cls]:04d}")

    amplitude = rng.uniform(0.5, 1.5, size=n)
    length = rng.integers(int(0.2 * frames), int(0.6 * frames) + 1, size=n)
    start = rng.integers(0, frames - length + 1)
    t = np.arange(frames)
    window = ((t[None, :] >= start[:, None]) & (t[None, :] < (start + length)[:, None])).astype(np.float32)
    weight = (amplitude[:, None] * window).astype(np.float32)  # [N, T]
    missing = {
        "skeleton": rng.random(n) < NO_PERSON_RATE,
        "audio": rng.random(n) < SILENT_RATE,
    }

    modality_info = {}
    for modality, dim in dims.items():
        strength = SIGNAL_STRENGTH.get(modality, 1.5)
        prototypes = _prototypes(rng, len(classes), dim, CONFUSION.get(modality, 0.0))
        array = np.lib.format.open_memmap(out / array_file(modality), mode="w+", dtype=dtype, shape=(n, frames, dim))
        for lo in range(0, n, 128):
            hi = min(n, lo + 128)
            chunk = rng.standard_normal((hi - lo, frames, dim), dtype=np.float32)
            chunk += rng.standard_normal((hi - lo, 1, dim), dtype=np.float32)
            chunk += strength * weight[lo:hi, :, None] * prototypes[labels[lo:hi]][:, None, :]
            absent = missing.get(modality)
            if absent is not None:
                chunk[absent[lo:hi]] = 0.0
            array[lo:hi] = chunk
        array.flush()
        del array
        if modality in missing:
            mask = np.repeat(~missing[modality][:, None], frames, axis=1)
            np.save(out / mask_file(modality), mask)
        modality_info[modality] = {
            "dim": dim,
            "extractor": "synthetic",
            "weights": "none (synthetic generator)",
            "signal_strength": strength,
        }
    write_index(out, ids, [classes[i] for i in labels])
    write_meta(
        out,
        name=name,
        classes=classes,
        frames=frames,
        modalities=modality_info,
        extra={
            "synthetic": True,
            "generator": {"module": META_MODULE, "version": VERSION, "seed": seed},
            "sampling": "synthetic; no video",
            "warning": "Synthetic data: its numbers say nothing about real videos.",
        },
    )
    return out


def _prototypes(rng: np.random.Generator, n_classes: int, dim: int, confusion: float) -> np.ndarray:
    """Unit class vectors; classes paired at random have cosine ``confusion`` (near-orthogonal otherwise)."""
    partner = np.arange(n_classes)
    order = rng.permutation(n_classes)
    for a, b in zip(order[0::2], order[1::2]):
        partner[a], partner[b] = b, a
    shared = rng.standard_normal((n_classes, dim))
    own = rng.standard_normal((n_classes, dim))
    pair_vector = shared[np.minimum(np.arange(n_classes), partner)]
    prototypes = np.sqrt(confusion) * pair_vector + np.sqrt(1.0 - confusion) * own
    # float64 until here: numpy versions reduce float32 norms differently (last-ulp changes that would
    # change the store's content and fingerprint); rounding the float64 result is stable.
    return (prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)).astype(np.float32)
