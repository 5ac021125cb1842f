"""The comparison's statistics on small hand-made inputs: corrected test, interval, Bayesian
probabilities, Holm's adjustment and the split-design rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import t as student_t
from scipy.stats import ttest_rel

from benchmark.statistics import significance as sig

ROW = {0: 0.50, 1: 0.56, 2: 0.52, 3: 0.55, 4: 0.49}
REF = {0: 0.53, 1: 0.57, 2: 0.56, 3: 0.56, 4: 0.53}


def test_the_correction_is_the_naive_variance_times_one_plus_j_times_the_ratio():
    plain = sig.compare(ROW, REF, ratio=0.0)  # no correction: the plain paired t-test
    assert plain.p_value == pytest.approx(ttest_rel(list(ROW.values()), list(REF.values())).pvalue)
    assert plain.p_value == pytest.approx(plain.p_naive)
    c = sig.compare(ROW, REF, ratio=0.5)
    d = 100 * (np.array(list(ROW.values())) - np.array(list(REF.values())))
    t = d.mean() / math.sqrt((1 / 5 + 0.5) * d.var(ddof=1))
    assert c.p_value == pytest.approx(2 * student_t.sf(abs(t), 4))
    assert c.p_value > c.p_naive
    assert c.diff == pytest.approx(d.mean()) and c.diff_ci_low < c.diff < c.diff_ci_high
    assert (c.wins, c.ties, c.losses) == (0, 0, 5)
    # the interval excludes 0 exactly when p < 0.05
    assert (c.diff_ci_high < 0) == (c.p_value < 0.05)


def test_bayesian_probabilities_sum_to_one_and_follow_the_rope():
    c = sig.compare(ROW, REF, ratio=0.5, rope=1.0)
    total = c.prob_reference_better + c.prob_equivalent + c.prob_row_better
    assert total == pytest.approx(1.0)
    assert c.prob_reference_better > c.prob_row_better  # the row lost every split
    wide = sig.compare(ROW, REF, ratio=0.5, rope=50.0)
    assert wide.prob_equivalent > 0.99


def test_no_test_says_why():
    assert "too few" in sig.compare({0: 0.5}, {0: 0.6}, 0.5).note
    assert "no test possible" in sig.compare({0: 0.5}, {0: 0.6}, 0.5, design=sig.SINGLE).note
    constant = sig.compare({0: 0.5, 1: 0.6}, {0: 0.4, 1: 0.5}, 0.5)
    assert math.isnan(constant.p_value) and "constant difference" in constant.note and constant.prob_row_better == 1.0
    unknown = sig.compare(ROW, REF, ratio=None)
    assert math.isnan(unknown.p_value) and math.isfinite(unknown.p_naive) and "sizes unknown" in unknown.note


def test_holm_is_monotone_in_holms_order_and_never_below_the_raw_p():
    rng = np.random.default_rng(3)
    for _ in range(50):
        raw = rng.uniform(0, 0.2, size=rng.integers(1, 9))
        raw[rng.random(len(raw)) < 0.2] = np.nan  # rows without a test stay without one
        adjusted = np.array(sig.holm(raw))
        finite = np.isfinite(raw)
        assert np.array_equal(np.isnan(adjusted), ~finite)
        r, a = raw[finite], adjusted[finite]
        assert (a >= r - 1e-12).all() and (a <= 1).all()
        order = np.argsort(r, kind="stable")
        assert (np.diff(a[order]) >= -1e-12).all()  # in the order of the raw p-values, never decreasing
        m = len(r)
        if m:  # the smallest is multiplied by m (Holm, not Holm-Sidak)
            assert a[order[0]] == pytest.approx(min(1.0, m * r[order[0]]))


def test_split_design_rule():
    folds = [
        (np.array([2, 3, 4, 5]), np.array([0, 1])),
        (np.array([0, 1, 4, 5]), np.array([2, 3])),
        (np.array([0, 1, 2, 3]), np.array([4, 5])),
    ]
    assert sig.design_of(folds, random=False) == sig.KFOLD
    overlapping = [(np.array([2, 3, 4, 5]), np.array([0, 1])), (np.array([0, 3, 4, 5]), np.array([1, 2]))]
    assert sig.design_of(overlapping, random=False) == sig.ASSUMED
    assert sig.design_of(folds[:1], random=False) == sig.SINGLE
    assert sig.design_of(folds, random=True) == sig.SUBSAMPLING
    assert (
        sig.design_from_source("files:ve8", 1) == sig.SINGLE
        and sig.design_from_source("random-stratified-2/3", 1) == sig.SUBSAMPLING
    )
    assert sig.size_ratio({0: (20, 10), 1: (40, 10)}, [0, 1]) == pytest.approx(0.375)
    assert sig.size_ratio({}, [0], default=0.5) == 0.5
