"""The store format's names (``bench-features/1``), shared by the reader, the validator and the writers.

See :mod:`features.store` for the layout and docs/guide/feature-store.md for the contract.
"""

from __future__ import annotations

import numpy as np

FORMAT = "bench-features/1"
META_FILE = "meta.json"
INDEX_FILE = "index.csv"
MIN_VIDEOS_PER_CLASS = 3
ALLOWED_DTYPES = (np.dtype("float16"), np.dtype("float32"))
META_KEYS = ("format", "name", "classes", "frames", "modalities")
INDEX_COLUMNS = ("id", "label")

#: The paper's per-frame feature widths (Swin-T, VGGish, BlazePose 33 x 3).
PAPER_DIMS: dict[str, int] = {"visual": 768, "audio": 128, "skeleton": 99}

#: The paper's modalities, in the order configurations list them; the built-in models have a branch for
#: each. A store may declare others (they are listed after these).
PAPER_MODALITIES: tuple[str, ...] = tuple(PAPER_DIMS)


def array_file(modality: str) -> str:
    return f"{modality}.npy"


def mask_file(modality: str) -> str:
    return f"{modality}.mask.npy"
