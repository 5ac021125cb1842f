import math

import numpy as np
from scipy.stats import norm

from features.oracle import GaussianModality, all_subsets, bayes_ceilings, bayes_predict, subset_key


def test_two_classes_match_the_closed_form():
    # two equiprobable classes at distance d, noise sigma: Bayes accuracy Phi(d / (2 sigma))
    means = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]])
    modality = GaussianModality(class_means=means, noise_std=1.0)
    ceiling = bayes_ceilings({"visual": modality}, np.array([0.5, 0.5]), samples=100_000, rng=np.random.default_rng(0))
    exact = norm.cdf(1.5 / 2)
    assert abs(ceiling["visual"]["accuracy"] - exact) < 4 * ceiling["visual"]["se"]


def test_missing_modality_falls_back_to_the_prior_and_merged_classes_to_the_larger_one():
    merged = GaussianModality(
        class_means=np.array([[0.0, 0.0], [0.0, 0.0], [9.0, 0.0]]), noise_std=1.0, missing_rate=0.5
    )
    priors = np.array([0.3, 0.2, 0.5])
    stats = {"audio": np.array([[0.0, 0.0], [9.0, 0.0], [0.0, 0.0]])}
    present = {"audio": np.array([True, True, False])}
    assert bayes_predict({"audio": merged}, priors, stats, present).tolist() == [0, 2, 2]
    ceiling = bayes_ceilings({"audio": merged}, priors, samples=50_000, rng=np.random.default_rng(1))["audio"]
    # present (1/2): class 2 always right, classes 0/1 -> 0; missing: always class 2
    assert math.isclose(ceiling["accuracy"], 0.5 * 0.8 + 0.5 * 0.5, abs_tol=4 * ceiling["se"])


def test_subset_keys_follow_the_store_order():
    order = ["visual", "audio", "skeleton"]
    assert subset_key(["skeleton", "visual"], order) == "visual+skeleton"
    assert [subset_key(s, order) for s in all_subsets(order)][-1] == "visual+audio+skeleton"
    assert len(all_subsets(order)) == 7
