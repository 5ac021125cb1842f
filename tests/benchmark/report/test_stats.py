import math

import pytest
from scipy.stats import ttest_rel

from benchmark.report.stats import paired_test


def test_paired_test_uses_only_shared_splits():
    row = {0: 0.5, 1: 0.6, 2: 0.55, 3: 0.9}
    reference = {0: 0.6, 1: 0.62, 2: 0.7}
    p, n, note = paired_test(row, reference)
    assert n == 3 and note == ""
    assert p == pytest.approx(ttest_rel([0.5, 0.6, 0.55], [0.6, 0.62, 0.7]).pvalue)


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
    p, _, said = paired_test(row, reference)
    assert math.isnan(p) and note in said
