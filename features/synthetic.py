"""The built-in synthetic store: VideoEmotion-8's classes and counts, the paper's dims, a known signal.

It exists so that the whole pipeline runs on a fresh machine and tests have a ground truth. Its
numbers say nothing about real videos.

Generative model (per modality m with dim D and strength s_m, per video v of class c, frame t):

    x[v, t] = s_m * a_v * w_v(t) * mu[m, c] + b[m, v] + e[v, t]

- ``mu[m, c]``: a fixed random unit vector per class and modality (the class signal). Each modality
  pairs the classes at random into confusable pairs whose vectors have cosine ``CONFUSION[m]``; the
  pairings differ between modalities, so each modality resolves confusions the others leave, and
  fusing them helps (as the paper argues for skeleton);
- ``a_v ~ U(0.5, 1.5)``: how strongly the video expresses its emotion;
- ``w_v(t)``: 1 inside one contiguous salient window (20 to 60 % of the frames, random start), else 0;
- ``b[m, v] ~ N(0, I)``: a per-video nuisance shared by all its frames (scene, speaker, body shape);
- ``e[v, t] ~ N(0, I)``: frame noise.

Strengths ``SIGNAL_STRENGTH`` (in units of the noise std): visual > skeleton > audio, the paper's ordering (Table 2), so that
removing the visual branch costs the most. Realism for masks: ``NO_PERSON_RATE`` of the videos have
no skeleton at all (zeros, mask false), ``SILENT_RATE`` have no audio (zeros, mask false).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from features.store import PAPER_DIMS, array_file, mask_file, write_index, write_meta

#: VideoEmotion-8 (Jiang et al., AAAI 2014): class names and video counts, 1,101 videos.
VE8_COUNTS: dict[str, int] = {
    "Anger": 101,
    "Anticipation": 101,
    "Disgust": 115,
    "Fear": 167,
    "Joy": 180,
    "Sadness": 101,
    "Surprise": 236,
    "Trust": 100,
}
SIGNAL_STRENGTH: dict[str, float] = {"visual": 7.0, "audio": 3.5, "skeleton": 4.0}
CONFUSION: dict[str, float] = {"visual": 0.8, "audio": 0.3, "skeleton": 0.5}
NO_PERSON_RATE = 0.15
SILENT_RATE = 0.10
GENERATOR_VERSION = 3
DEFAULT_SEED = 0
DEFAULT_FRAMES = 100


def synthetic_name(seed: int = DEFAULT_SEED) -> str:
    return "synthetic-ve8" if seed == DEFAULT_SEED else f"synthetic-ve8-seed{seed}"


def make_synthetic_store(
    out: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    frames: int = DEFAULT_FRAMES,
    counts: dict[str, int] | None = None,
    dims: dict[str, int] | None = None,
    dtype: str = "float16",
) -> Path:
    """Write a synthetic store to ``out`` (deterministic in its arguments)."""
    counts = dict(counts or VE8_COUNTS)
    dims = dict(dims or PAPER_DIMS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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
        name=synthetic_name(seed),
        classes=classes,
        frames=frames,
        modalities=modality_info,
        extra={
            "synthetic": True,
            "generator": {"module": __name__, "version": GENERATOR_VERSION, "seed": seed},
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


def cache_dir() -> Path:
    """Where generated data lives: ``$BENCH_CACHE_DIR`` or ``~/.cache/bench``."""
    return Path(os.environ.get("BENCH_CACHE_DIR", Path.home() / ".cache" / "bench"))


def default_store_path(seed: int = DEFAULT_SEED) -> Path:
    """The synthetic store, generated into the cache on first use (a few seconds)."""
    path = cache_dir() / "stores" / f"{synthetic_name(seed)}-v{GENERATOR_VERSION}"
    if not (path / "meta.json").exists():
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        make_synthetic_store(tmp, seed=seed)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    return path
