"""The vectorised engine trains each split as the plain loop trains it alone.

Tolerance: per-step losses agree to rtol 1e-4, atol 1e-6 over three steps with dropout 0 (the
vectorised kernels round differently, and Adam amplifies rounding in near-zero gradients a little
each step); test accuracies agree to within one test video. Same init (``run_seed``), same data order.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.config import get_profile, resolve_config
from benchmark.data import load_modalities
from benchmark.engine.train import SplitTask, train_splits
from benchmark.splits import Split, random_splits
from benchmark.training import NonFiniteLoss, run_seed, train_split
from features.store import open_store

NO_DROPOUT = {"dropout": 0.0, "mlp_dropout": 0.0}
LOSS_TOL = {"rtol": 1e-4, "atol": 1e-6}


def setup(tiny_store, model="proposed", params=None, **train):
    store = open_store(tiny_store)
    config = resolve_config(
        model=model,
        modalities=["visual", "audio", "skeleton"],
        row_params={**NO_DROPOUT, **(params or {})},
        profile=get_profile("quick"),
        train_overrides={"frames": 6, **train},
    )
    return store, config, load_modalities(store, config.modalities, config.train.frames)


def plain_and_vectorised(store, config, data, splits: list[Split]):
    seeds = [run_seed(config, s.index) for s in splits]
    plain = [train_split(config, data, store.labels, s.train, s.test, 3, seed=seed) for s, seed in zip(splits, seeds)]
    seen: list[tuple[int, int]] = []
    vectorised = train_splits(
        config,
        data,
        store.labels,
        [SplitTask(s.train, s.test, seed) for s, seed in zip(splits, seeds)],
        3,
        on_epoch=lambda i, record: seen.append((i, record.epoch)),
    )
    return plain, vectorised, seen


def assert_same_training(plain, vectorised, n_test: int) -> None:
    for p, v in zip(plain, vectorised):
        np.testing.assert_allclose([r.train_loss for r in v.history], [r.train_loss for r in p.history], **LOSS_TOL)
        np.testing.assert_allclose(
            [r.test_acc for r in v.history], [r.test_acc for r in p.history], atol=1 / n_test + 1e-9
        )


def test_two_splits_take_the_same_steps_as_two_separate_runs(tiny_store):
    # batch 32 >= 20 training videos: one step per epoch, so each epoch's loss is one step's loss
    store, config, data = setup(tiny_store, epochs=3, batch_size=32)
    splits = random_splits(store.labels, store.fingerprint, 2)
    plain, vectorised, seen = plain_and_vectorised(store, config, data, splits)
    assert_same_training(plain, vectorised, len(splits[0].test))
    assert sorted(seen) == [(i, e) for i in range(2) for e in range(1, 4)]
    # the splits really differ (own seeds, own data): equal losses across splits would hide a mix-up
    assert vectorised[0].history[0].train_loss != pytest.approx(vectorised[1].history[0].train_loss, rel=1e-3)


def test_several_batches_and_unequal_split_sizes(tiny_store):
    # batch 8 over 20 videos: batches of 8, 8, 4; a third split one training video short trains in its own group
    store, config, data = setup(tiny_store, epochs=1, batch_size=8)
    splits = random_splits(store.labels, store.fingerprint, 2)
    short = Split(2, splits[1].train[1:], np.sort(np.append(splits[1].test, splits[1].train[0])), "custom")
    plain, vectorised, _ = plain_and_vectorised(store, config, data, [*splits, short])
    assert_same_training(plain, vectorised, len(short.test))


def test_a_diverging_split_fails_alone_and_leaves_the_other_untouched(tiny_store):
    store, config, data = setup(tiny_store, epochs=2, batch_size=32)
    splits = random_splits(store.labels, store.fingerprint, 2)
    poisoned = next(int(p) for p in splits[1].train if p in set(splits[0].test))  # trains split 1 only
    features = data["visual"].features.copy()
    features[poisoned] = np.nan
    data = {**data, "visual": type(data["visual"])(features, data["visual"].mask)}
    seeds = [run_seed(config, s.index) for s in splits]
    results = train_splits(
        config, data, store.labels, [SplitTask(s.train, s.test, seed) for s, seed in zip(splits, seeds)], 3
    )
    assert isinstance(results[1], NonFiniteLoss) and "loss became nan" in str(results[1])
    alone = train_split(config, data, store.labels, splits[0].train, splits[0].test, 3, seed=seeds[0])
    np.testing.assert_allclose(
        [r.train_loss for r in results[0].history], [r.train_loss for r in alone.history], **LOSS_TOL
    )
    with pytest.raises(NonFiniteLoss):
        train_split(config, data, store.labels, splits[1].train, splits[1].test, 3, seed=seeds[1])


SMALL_BRANCHES = {"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "ff_dim": 32, "mlp_hidden": 16}
NEW_MODELS = [
    ("proposed", {"encoder": False}),
    ("proposed", {"nextvlad": False}),
    ("proposed", {"se": False}),
    ("proposed", {"encoder": False, "nextvlad": False, "se": False}),
    ("fusion_late", {}),
    ("fusion_tfn", {"tfn_dim": 4}),
    ("fusion_lmf", {"rank": 2, "fusion_dim": 16}),
    ("fusion_gmu", {"fusion_dim": 16}),
    ("fusion_crossmodal", {}),
]


def test_every_component_and_fusion_model_is_listed_here():
    from baselines import get_model, list_models

    torch_models = {n for n in list_models() if get_model(n).kind == "torch"} - {"proposed", "nextvlad"}
    assert torch_models == {name for name, _ in NEW_MODELS if name != "proposed"}


@pytest.mark.parametrize(
    "model,params", NEW_MODELS, ids=[f"{m}-{'-'.join(f'{k}={v}' for k, v in p.items())}" for m, p in NEW_MODELS]
)
def test_component_and_fusion_models_train_the_same_vectorised(tiny_store, model, params):
    # every model of the components and fusion suites: the engine vectorises it, no fallback needed
    store, config, data = setup(tiny_store, model, {**SMALL_BRANCHES, **params}, epochs=2, batch_size=32)
    splits = random_splits(store.labels, store.fingerprint, 2)
    plain, vectorised, _ = plain_and_vectorised(store, config, data, splits)
    assert_same_training(plain, vectorised, len(splits[0].test))
