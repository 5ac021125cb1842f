import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from benchmark.data import segment_means
from features import default_store_path, make_synthetic_store, open_store
from features.oracle import all_subsets, bayes_predict
from features.synthetic import VE8_COUNTS
from features.synthetic_v4 import generator_model


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


def test_version_3_keeps_its_bytes_and_fingerprint(tmp_path):
    # fingerprint of this store as generator v3 wrote it before v4 existed (commit 841a458)
    store = open_store(
        make_synthetic_store(
            tmp_path / "v3",
            counts={"Anger": 9, "Joy": 9, "Fear": 12},
            dims={"visual": 24, "audio": 16, "skeleton": 12},
            frames=12,
            seed=3,
            version=3,
        )
    )
    assert store.fingerprint == "67066aaa30fcef070443d07a97b97a7d"
    assert store.meta["generator"]["version"] == 3 and store.ceiling(["visual"]) is None


def test_default_store_is_version_4():
    assert default_store_path().name.endswith("-v4")
    assert open_store(default_store_path()).meta["generator"]["version"] == 4


def test_ceilings_are_written_for_every_subset_and_monotone(ve8_store):
    store = open_store(ve8_store)
    subsets = all_subsets(store.modalities)
    ceiling = {s: store.ceiling(s) for s in subsets}
    assert all(c is not None and 0 < c["se"] < 0.005 for c in ceiling.values()), ceiling
    for small, large in itertools.product(subsets, subsets):
        if set(small) < set(large):
            assert ceiling[large]["accuracy"] >= ceiling[small]["accuracy"], (small, large)
    # each modality resolves a pair the other two merge: removing any one costs at least 5 points,
    # removing visual costs the most
    full = ceiling[tuple(store.modalities)]["accuracy"]
    without = {m: ceiling[tuple(x for x in store.modalities if x != m)]["accuracy"] for m in store.modalities}
    assert all(full - acc > 0.05 for acc in without.values()), without
    assert min(without, key=without.get) == "visual"


def test_the_oracle_on_the_store_videos_scores_its_ceiling(ve8_store):
    store = open_store(ve8_store)
    model = generator_model(store.classes, store.dims, store.frames, seed=0)
    priors = np.bincount(store.labels) / len(store)
    stats = {m: np.asarray(store.arrays[m], dtype=np.float64).mean(axis=1) for m in store.modalities}
    present = {
        m: np.asarray(store.masks[m]).any(axis=1) if m in store.masks else np.ones(len(store), bool)
        for m in store.modalities
    }
    for subset in (("visual", "audio", "skeleton"), ("audio", "skeleton"), ("visual",)):
        predictions = bayes_predict({m: model[m] for m in subset}, priors, {m: stats[m] for m in subset}, present)
        accuracy = (predictions == store.labels).mean()
        expected = store.ceiling(subset)["accuracy"]
        # 1,101 videos: binomial standard error about 1 point
        assert abs(accuracy - expected) < 4 * np.sqrt(expected * (1 - expected) / len(store)), (
            subset,
            accuracy,
            expected,
        )


def test_the_ceiling_does_not_depend_on_how_many_segment_means_a_model_sees(ve8_store):
    store = open_store(ve8_store)
    x = np.asarray(store.arrays["visual"][:50], dtype=np.float32)
    ten = segment_means(x, None, 10).features
    assert np.allclose(ten.mean(axis=1), x.mean(axis=1), atol=1e-4)  # the sufficient statistic survives


def test_bench_synth_refuses_an_unknown_version_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from benchmark.cli import app

    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "s"), "--version", "5"])
    assert result.exit_code == 2 and "--version must be one of 3, 4" in result.output
    assert not (tmp_path / "s").exists()


def test_version_4_keeps_its_bytes_and_fingerprint_and_declares_no_protocol(tiny_store):
    # fingerprint of the tiny v4 store as generator v4 wrote it before stores declared protocols (main f57a85d);
    # no "protocol" key: the VE-8 store's protocol is the default, and its old runs stay reusable
    store = open_store(tiny_store)
    assert store.fingerprint == "bae714bc07b882e5e54403682bf563c4"
    assert "protocol" not in store.meta and not store.protocol.declared
