import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from features import default_store_path, make_synthetic_store, open_store
from features.synthetic import VE8_COUNTS


def test_ve8_counts_and_paper_dims():
    assert sum(VE8_COUNTS.values()) == 1101
    store = open_store(default_store_path())
    assert len(store) == 1101 and store.frames == 100
    assert store.dims == {"visual": 768, "audio": 128, "skeleton": 99}
    counts = store.index["label"].value_counts().to_dict()
    assert counts == VE8_COUNTS
    assert store.synthetic and store.name == "synthetic-ve8"


def test_generation_is_deterministic(tmp_path):
    kwargs = dict(counts={"a": 5, "b": 5}, dims={"visual": 8}, frames=4)
    one = open_store(make_synthetic_store(tmp_path / "1", seed=7, **kwargs))
    two = open_store(make_synthetic_store(tmp_path / "2", seed=7, **kwargs))
    other = open_store(make_synthetic_store(tmp_path / "3", seed=8, **kwargs))
    assert one.fingerprint == two.fingerprint != other.fingerprint


def test_each_modality_carries_signal_and_visual_is_strongest(ve8_store):
    store = open_store(ve8_store)
    labels = store.labels
    scores = {}
    for m in store.modalities:
        x = np.asarray(store.arrays[m], dtype=np.float32).mean(axis=1)
        scores[m] = cross_val_score(LogisticRegression(C=0.05, max_iter=300), x, labels, cv=3).mean()
    chance = max(VE8_COUNTS.values()) / 1101
    assert all(score > chance + 0.05 for score in scores.values()), scores
    assert scores["visual"] == max(scores.values()), scores


def test_missing_modalities_are_zero_and_masked(ve8_store):
    store = open_store(ve8_store)
    mask = np.asarray(store.masks["skeleton"])
    absent = ~mask.any(axis=1)
    assert 0.05 < absent.mean() < 0.3
    assert not np.asarray(store.arrays["skeleton"][np.flatnonzero(absent)[:5]]).any()
