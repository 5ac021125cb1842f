"""The built-in synthetic stores: VideoEmotion-8's classes and counts (the default, ``synthetic-ve8``) or
Ekman-6's shape with its official split (``synthetic-ekman6``, :mod:`features.synthetic_ekman6`), the
paper's dims, a known signal.

It exists so that the whole pipeline runs on a fresh machine and tests and the demo have a ground
truth. Its numbers say nothing about real videos.

Generators are versioned: a version, once released, keeps writing the same bytes for the same
arguments (so old stores keep their fingerprint and their MLflow runs stay reusable). Version 4
(``features.synthetic_v4``, the default) makes every modality necessary and records the best
reachable accuracy per modality subset in ``meta.json``; version 3 (``features.synthetic_v3``) is
kept for stores made with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from features.store import PAPER_DIMS
from features.synthetic_ekman6 import EKMAN6_COUNTS, write_ekman6
from features.synthetic_v3 import write_v3
from features.synthetic_v4 import write_v4

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
GENERATORS = {3: write_v3, 4: write_v4}
GENERATOR_VERSION = 4
DEFAULT_SEED = 0
DEFAULT_FRAMES = 100
#: Dataset shapes: (class counts, {generator version: writer}). ``ve8`` is the default.
SHAPES = {"ve8": (VE8_COUNTS, GENERATORS), "ekman6": (EKMAN6_COUNTS, {4: write_ekman6})}
DEFAULT_DATASET = "ve8"
#: The built-in stores a user can name instead of a path (``--features synthetic-ekman6``).
BUILTIN_STORES = {f"synthetic-{dataset}": dataset for dataset in SHAPES}


def synthetic_name(seed: int = DEFAULT_SEED, dataset: str = DEFAULT_DATASET) -> str:
    return f"synthetic-{dataset}" if seed == DEFAULT_SEED else f"synthetic-{dataset}-seed{seed}"


def make_synthetic_store(
    out: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    frames: int = DEFAULT_FRAMES,
    counts: dict[str, int] | None = None,
    dims: dict[str, int] | None = None,
    dtype: str = "float16",
    version: int = GENERATOR_VERSION,
    dataset: str = DEFAULT_DATASET,
) -> Path:
    """Write a synthetic store to ``out`` (deterministic in its arguments); ``dataset``: a key of ``SHAPES``."""
    if dataset not in SHAPES:
        raise ValueError(f"unknown synthetic dataset {dataset!r}; known: {', '.join(SHAPES)}")
    shape_counts, writers = SHAPES[dataset]
    if version not in writers:
        raise ValueError(
            f"synthetic dataset {dataset!r} has no generator version {version}; known: {', '.join(map(str, writers))}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return writers[version](
        out,
        name=synthetic_name(seed, dataset),
        seed=seed,
        frames=frames,
        counts=dict(counts or shape_counts),
        dims=dict(dims or PAPER_DIMS),
        dtype=dtype,
    )


def cache_dir() -> Path:
    """Where generated data lives: ``$BENCH_CACHE_DIR`` or ``~/.cache/bench``."""
    return Path(os.environ.get("BENCH_CACHE_DIR", Path.home() / ".cache" / "bench"))


def default_store_path(
    seed: int = DEFAULT_SEED, version: int = GENERATOR_VERSION, dataset: str = DEFAULT_DATASET
) -> Path:
    """A built-in synthetic store, generated into the cache on first use (a few seconds); the VE-8 one
    by default (``synthetic-ve8-v4``, the same path and bytes as before other shapes existed)."""
    path = cache_dir() / "stores" / f"{synthetic_name(seed, dataset)}-v{version}"
    if not (path / "meta.json").exists():
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        make_synthetic_store(tmp, seed=seed, version=version, dataset=dataset)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    return path


def store_path(features: str | Path | None) -> Path:
    """A store folder, or a built-in store's name (``synthetic-ve8``, ``synthetic-ekman6``) where no folder
    of that name exists; None: the default store."""
    if features is None:
        return default_store_path()
    path = Path(features)
    if str(features) in BUILTIN_STORES and not path.exists():
        return default_store_path(dataset=BUILTIN_STORES[str(features)])
    return path
