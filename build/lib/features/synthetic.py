"""The built-in synthetic store: VideoEmotion-8's classes and counts, the paper's dims, a known signal.

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
    version: int = GENERATOR_VERSION,
) -> Path:
    """Write a synthetic store to ``out`` (deterministic in its arguments)."""
    if version not in GENERATORS:
        raise ValueError(f"unknown synthetic generator version {version}; known: {', '.join(map(str, GENERATORS))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return GENERATORS[version](
        out,
        name=synthetic_name(seed),
        seed=seed,
        frames=frames,
        counts=dict(counts or VE8_COUNTS),
        dims=dict(dims or PAPER_DIMS),
        dtype=dtype,
    )


def cache_dir() -> Path:
    """Where generated data lives: ``$BENCH_CACHE_DIR`` or ``~/.cache/bench``."""
    return Path(os.environ.get("BENCH_CACHE_DIR", Path.home() / ".cache" / "bench"))


def default_store_path(seed: int = DEFAULT_SEED, version: int = GENERATOR_VERSION) -> Path:
    """The synthetic store, generated into the cache on first use (a few seconds)."""
    path = cache_dir() / "stores" / f"{synthetic_name(seed)}-v{version}"
    if not (path / "meta.json").exists():
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        make_synthetic_store(tmp, seed=seed, version=version)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    return path
