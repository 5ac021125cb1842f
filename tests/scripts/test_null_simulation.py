"""``scripts/null_simulation.py`` with few repetitions: the naive test rejects a true null far more
often than the corrected one, and the corrected one still finds a planted difference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "null_simulation.py"  # moved with the folder


@pytest.fixture(scope="module")
def simulation():
    spec = importlib.util.spec_from_file_location("null_simulation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_under_the_null_the_naive_test_rejects_far_more_often_than_the_corrected_one(simulation):
    rates = simulation.simulate(40, samples=150, splits=10, seed=0)
    assert rates.shrink == 1.0 and rates.ratio == pytest.approx(0.5, abs=0.02)
    assert rates.naive >= 0.10  # nominal 5 %: the overlap of the splits makes it anti-conservative
    assert rates.corrected <= 0.075
    assert rates.naive > rates.corrected + 0.05


def test_a_planted_difference_is_found_by_the_corrected_test(simulation):
    rates = simulation.simulate(10, samples=150, splits=10, shrink=0.5, seed=1)
    assert rates.mean_difference > 5  # block B is much less separable
    assert rates.corrected >= 0.7 and rates.naive >= rates.corrected
    table = simulation.markdown([rates], 0.05)
    assert "planted difference" in table and f"{100 * rates.corrected:.1f} %" in table
