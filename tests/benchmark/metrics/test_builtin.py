"""The built-in metrics against figures computed by hand on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics import get_metric


def _scores(predicted: list[int], n_classes: int) -> np.ndarray:
    """One-hot-ish probabilities whose argmax is ``predicted``."""
    scores = np.full((len(predicted), n_classes), 0.1 / (n_classes - 1))
    scores[np.arange(len(predicted)), predicted] = 0.9
    return scores


def test_cohen_kappa_is_agreement_beyond_chance():
    y = np.array([0, 0, 1, 1, 2, 2])
    kappa = get_metric("cohen_kappa")
    assert kappa.function(y, _scores([0, 0, 1, 1, 2, 2], 3)) == pytest.approx(1.0)
    # 4 of 6 right; chance agreement from the marginals: p_e = sum(row share x column share)
    predicted = [0, 1, 1, 1, 2, 0]
    observed = 4 / 6
    truth_share = np.array([2, 2, 2]) / 6
    predicted_share = np.array([2, 3, 1]) / 6
    chance = float(truth_share @ predicted_share)
    assert kappa.function(y, _scores(predicted, 3)) == pytest.approx((observed - chance) / (1 - chance))
    # always the majority class: accuracy 1/3, but no agreement beyond chance
    assert kappa.function(y, _scores([0] * 6, 3)) == pytest.approx(0.0)
    assert kappa.unit == "" and kappa.scale() == 1.0 and kappa.direction == "max"


def test_macro_f1_counts_a_class_absent_from_the_test_part_as_zero():
    y = np.array([0, 0, 1, 1])
    f1 = get_metric("macro_f1").function(y, _scores([0, 0, 1, 1], 3))
    assert f1 == pytest.approx(2 / 3)  # classes 0 and 1 perfect, class 2 (never seen) zero


def test_ece_of_a_calibrated_and_an_overconfident_model():
    y = np.array([0, 1, 0, 1])
    ece = get_metric("ece").function
    half = np.full((4, 2), 0.5)
    assert ece(y, half) == pytest.approx(0.0, abs=1e-12)  # half right at confidence 0.5
    wrong = _scores([1, 0, 1, 0], 2)
    assert ece(y, wrong) == pytest.approx(0.9)  # all wrong at confidence 0.9
