"""The built-in synthetic store shaped like Ekman-6: 6 classes, 1,637 videos, one official split.

Ekman-6 (Xu et al. 2018) is evaluated on one official train/test split of about half and half
(819/818 videos in CTEN's files), not on random splits. This store has its shape: the six classes,
1,637 videos, the paper's dims, and one seeded stratified split of 819 training and 818 test videos
kept inside the store (``splits/trainlist01.txt``, ``testlist01.txt``, ``classInd.txt``) and declared
in ``meta.json`` as its protocol. The per-class counts of the real dataset are not reproduced: the
classes are near-equal (273 videos, surprise 272). The data come from generator v4
(:mod:`features.synthetic_v4`), so the store knows its best reachable accuracy per modality subset;
each modality alone separates one class pair (``PAIRS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.protocol import SPLITS_FOLDER, files_declaration, write_split_lists
from features.synthetic_v4 import write_v4

EKMAN6_COUNTS: dict[str, int] = {"anger": 273, "disgust": 273, "fear": 273, "joy": 273, "sadness": 273, "surprise": 272}
#: The class pair only this modality separates.
PAIRS: dict[str, tuple[str, str]] = {
    "visual": ("joy", "surprise"),
    "audio": ("anger", "sadness"),
    "skeleton": ("disgust", "fear"),
}
SPLIT_STREAM = 3  # the split's random stream, next to the data's (seed) and v4's parameter and ceiling streams
SPLIT_NOTE = "one official train/test split (synthetic, shaped like Ekman-6's 819/818)"


def official_split(labels: np.ndarray, seed: int) -> np.ndarray:
    """Boolean training mask: half of every class (rounded down), then one more video of the first
    odd-sized classes until training holds ceil(N / 2) videos; which videos, from their own stream."""
    rng = np.random.default_rng([seed, SPLIT_STREAM])
    counts = np.bincount(labels)
    take = counts // 2
    for c in np.flatnonzero(counts % 2)[: (len(labels) + 1) // 2 - int(take.sum())]:
        take[c] += 1
    train = np.zeros(len(labels), dtype=bool)
    for c, k in enumerate(take):
        members = np.flatnonzero(labels == c)
        train[rng.permutation(members)[:k]] = True
    return train


def write_ekman6(
    out: Path, *, name: str, seed: int, frames: int, counts: dict[str, int], dims: dict[str, int], dtype: str
) -> Path:
    """Write the store (generator v4 with Ekman-6's classes and pairs), its split lists and its protocol."""
    pairs = PAIRS if set(counts) == set(EKMAN6_COUNTS) and set(dims) <= set(PAIRS) else None
    write_v4(
        out,
        name=name,
        seed=seed,
        frames=frames,
        counts=counts,
        dims=dims,
        dtype=dtype,
        pairs=pairs,
        extra_meta={"protocol": files_declaration(SPLITS_FOLDER, SPLIT_NOTE)},
    )
    classes = list(counts)
    labels = np.repeat(np.arange(len(classes)), [counts[c] for c in classes])
    per_class = {c: 0 for c in classes}
    ids = []
    for label in labels:  # v4's ids, in array order
        per_class[classes[label]] += 1
        ids.append(f"{classes[label]}/synthetic_{per_class[classes[label]]:04d}")
    train = official_split(labels, seed)
    chosen = [(i, t) for i, t in zip(ids, train)]
    write_split_lists(out / SPLITS_FOLDER, [([i for i, t in chosen if t], [i for i, t in chosen if not t])], classes)
    return out
