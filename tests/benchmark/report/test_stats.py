import math

import pytest
from scipy.stats import ttest_rel

from benchmark.statistics.significance import compare


def test_comparison_uses_only_shared_splits():
    row = {0: 0.5, 1: 0.6, 2: 0.55, 3: 0.9}
    reference = {0: 0.6, 1: 0.62, 2: 0.7}
    out = compare(row, reference, ratio=0.5)
    assert out.n_paired == 3 and out.note == ""
    assert out.p_naive == pytest.approx(ttest_rel([0.5, 0.6, 0.55], [0.6, 0.62, 0.7]).pvalue)
    assert out.p_value > out.p_naive  # the corrected test is wider on overlapping splits


@pytest.mark.parametrize(
    "row, reference, note",
    [
        ({0: 0.5}, {0: 0.6}, "too few"),
        ({0: 0.5, 1: 0.6}, {2: 0.6}, "n=0"),
        ({0: 0.5, 1: 0.6}, {0: 0.5, 1: 0.6}, "identical"),
        ({0: 0.5, 1: 0.6}, {0: 0.4, 1: 0.5}, "constant difference"),
    ],
)
def test_no_p_value_says_why(row, reference, note):
    out = compare(row, reference, ratio=0.5)
    assert math.isnan(out.p_value) and note in out.note
