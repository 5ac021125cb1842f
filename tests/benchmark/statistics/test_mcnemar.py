"""McNemar's test on paired test predictions, against computations that share no code with it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmark.statistics.mcnemar import CHI2, EXACT, McNemarComparison, mcnemar_compare, newcombe_interval
from benchmark.statistics.significance import Comparison, with_holm


def cells(a: int, b: int, c: int, d: int) -> tuple[dict[str, bool], dict[str, bool]]:
    """{id: correct} of a row and its reference with a both-right, b row-only, c reference-only, d both-wrong videos."""
    pattern = [(True, True)] * a + [(True, False)] * b + [(False, True)] * c + [(False, False)] * d
    order = np.random.default_rng(a * 1000 + b).permutation(len(pattern))  # ids not in cell order
    row = {f"v{k:04d}": pattern[i][0] for k, i in enumerate(order)}
    reference = {f"v{k:04d}": pattern[i][1] for k, i in enumerate(order)}
    return row, reference


def wilson(k: int, n: int, z: float) -> tuple[float, float]:
    centre, half = (k + z * z / 2) / (n + z * z), z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def newcombe_by_hand(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """Newcombe (1998) method 10 from its formulas, Wilson limits in closed form (no statsmodels)."""
    n, z = a + b + c + d, stats.norm.ppf(0.975)
    p1, p2 = (a + b) / n, (a + c) / n
    (l1, u1), (l2, u2) = wilson(a + b, n, z), wilson(a + c, n, z)
    product = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(product) if product else 0.0
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return low, high


@pytest.mark.parametrize("a,b,c,d", [(300, 9, 3, 100), (500, 14, 10, 294), (40, 0, 5, 10), (20, 1, 0, 3)])
def test_few_discordant_videos_use_the_exact_binomial_test(a, b, c, d):
    result = mcnemar_compare(*cells(a, b, c, d))
    assert result.test == EXACT and b + c < 25
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, abs=1e-12)
    assert (result.row_only, result.reference_only, result.both_correct, result.both_wrong) == (b, c, a, d)
    assert result.diff == pytest.approx(100 * (b - c) / (a + b + c + d))


@pytest.mark.parametrize("a,b,c,d", [(500, 40, 20, 258), (300, 25, 25, 100), (100, 10, 60, 30)])
def test_many_discordant_videos_use_chi_square_with_continuity_correction(a, b, c, d):
    result = mcnemar_compare(*cells(a, b, c, d))
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    assert result.test == CHI2
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-9)


@pytest.mark.parametrize(
    "a,b,c,d", [(36, 12, 2, 0), (500, 40, 20, 258), (300, 9, 3, 100), (12, 9, 2, 21), (40, 0, 5, 10)]
)
def test_interval_is_newcombes_hybrid_score_interval(a, b, c, d):
    result = mcnemar_compare(*cells(a, b, c, d))
    low, high = newcombe_by_hand(a, b, c, d)
    assert result.diff_ci_low == pytest.approx(100 * low, abs=1e-9) and result.diff_ci_high == pytest.approx(
        100 * high, abs=1e-9
    )
    assert result.diff_ci_low <= result.diff <= result.diff_ci_high


def test_interval_matches_newcombes_published_example():
    # Newcombe (1998), Stat Med 17:2635, Table II, example (a): 36, 12, 2, 0 -> method 10: 0.0569 to 0.3404
    low, high = newcombe_interval(36, 12, 2, 0)
    assert (round(low, 4), round(high, 4)) == (0.0569, 0.3404)


def test_rows_that_agree_everywhere_have_p_1_and_a_symmetric_interval():
    result = mcnemar_compare([True, False, True, True], [True, False, True, True])
    assert result.p_value == 1.0 and result.diff == 0.0 and result.ties == 1
    assert result.diff_ci_low == pytest.approx(-result.diff_ci_high) and "no discordant" in result.note


def test_the_record_is_a_comparison_holm_applies_and_it_names_its_test():
    first, second = mcnemar_compare(*cells(300, 9, 3, 100)), mcnemar_compare(*cells(500, 40, 20, 258))
    assert isinstance(first, Comparison) and isinstance(first, McNemarComparison)
    adjusted = with_holm([first, second])
    assert adjusted[0].p_holm >= adjusted[0].p_value and adjusted[1].p_holm >= adjusted[1].p_value
    record = second.as_record()
    assert record["test"] == CHI2 and record["n_paired"] == 818 and record["p_holm"] == adjusted[1].p_holm


def test_predictions_on_other_videos_are_refused():
    with pytest.raises(ValueError, match="different videos"):
        mcnemar_compare({"a": True, "b": False}, {"a": True, "c": False})
    with pytest.raises(ValueError, match="equally long"):
        mcnemar_compare([True, False], [True])
