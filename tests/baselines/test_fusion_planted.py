"""No fusion method is broken by construction: when only one modality carries the class, every row of
the ``fusion`` suite learns it about as well as the full model (SE fusion)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.config import get_profile, resolve_config
from benchmark.data import load_modalities
from benchmark.splits import random_splits
from benchmark.suite import load_suite
from benchmark.training import run_seed, train_split
from features.store import open_store, write_store

DIMS = {"visual": 16, "audio": 8, "skeleton": 12}
CLASSES = ["Anger", "Joy", "Fear"]
PER_CLASS, FRAMES = 24, 4
SMALL = {"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "ff_dim": 32, "mlp_hidden": 32}
SMALL_BY_MODEL = {"fusion_tfn": {"tfn_dim": 4}, "fusion_lmf": {"fusion_dim": 32}, "fusion_gmu": {"fusion_dim": 32}}


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory):
    """Skeleton alone carries the class (a class prototype in every frame); visual and audio are noise."""
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(len(CLASSES)), PER_CLASS)
    n = len(labels)
    arrays = {m: rng.standard_normal((n, FRAMES, d)).astype(np.float32) for m, d in DIMS.items()}
    prototypes = rng.standard_normal((len(CLASSES), DIMS["skeleton"])).astype(np.float32)
    arrays["skeleton"] += 1.5 * prototypes[labels][:, None, :]
    masks = {"audio": np.ones((n, FRAMES), dtype=bool)}
    masks["audio"][::5, 3:] = False  # some missing frames, so masks are exercised too
    path = tmp_path_factory.mktemp("planted") / "store"
    write_store(
        path,
        name="planted",
        classes=CLASSES,
        ids=[f"{CLASSES[y]}/v{i:03d}" for i, y in enumerate(labels)],
        labels=[CLASSES[y] for y in labels],
        arrays=arrays,
        masks=masks,
    )
    return path


def test_every_fusion_row_learns_the_one_informative_modality(planted_store):
    store = open_store(planted_store)
    suite = load_suite("fusion")
    split = random_splits(store.labels, store.fingerprint, 1)[0]
    accuracy = {}
    for row in suite.runnable_rows:
        config = resolve_config(
            model=row.model,
            modalities=list(row.modalities),
            row_params={**SMALL, **SMALL_BY_MODEL.get(row.model, {}), **row.params},
            profile=get_profile("quick"),
            train_overrides={"epochs": 12, "batch_size": 16, "lr": 3e-3, "frames": FRAMES},
        )
        data = load_modalities(store, config.modalities, config.train.frames)
        result = train_split(
            config, data, store.labels, split.train, split.test, len(CLASSES), seed=run_seed(config, 0)
        )
        accuracy[row.name] = result.test_acc
    full = accuracy[suite.reference]
    assert full >= 0.9, accuracy  # the planted signal is learnable at all
    broken = {name: acc for name, acc in accuracy.items() if acc < 0.9 * full}
    assert not broken, accuracy
