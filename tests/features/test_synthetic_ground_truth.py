"""The synthetic store as a ground truth for the demo: the paper's Table 2 ordering, under the ceilings.

Trains the real ``table2`` suite (quick profile) on the default-sized v4 store for a few splits. The
margins are under half of the smallest gaps measured on store seeds 0, 1 and 2 with these 3 splits
(``bench run --suite table2 --features STORE --n-splits 3``, means in %; all three seeds also pass
with ``--engine vectorised``):

    seed  Ours  w/o audio  w/o skeleton  w/o visual   Ours - best w/o   next w/o - w/o visual
    0     81.4  74.5       69.9          57.2         6.9               12.7
    1     79.4  72.0       70.1          57.7         7.4               12.4
    2     81.7  72.6       69.5          60.6         9.1               8.9

on an AMD EPYC with AVX2 only; on an AMD EPYC with AVX-512 (other fp32 kernels, so other training
trajectories) seed 0 gave 75.6, 74.6, 70.9, 59.3 (gaps 1.0 and 11.6), seeds 1 and 2 passed at 3 and 4
points. Three splits are noisy: the full model's margin is under half of that smallest gap.
"""

from __future__ import annotations

import os

import pytest

from benchmark.config import get_profile
from benchmark.executors import make_executor
from benchmark.runner import run_suite
from benchmark.splits import random_splits
from benchmark.suite import load_suite
from features import make_synthetic_store, open_store

N_SPLITS = 3
FULL_MARGIN = 0.005  # the full model's mean above every "w/o" row's, over N_SPLITS splits
VISUAL_MARGIN = 0.04  # "w/o visual" below the other "w/o" rows


# seed 0 always; seeds 1 and 2 (about 100 s each on 2 cores) with BENCH_ALL_SEEDS=1, to keep CI under its budget
OTHER_SEEDS = pytest.mark.skipif(
    not os.environ.get("BENCH_ALL_SEEDS"), reason="store seeds 1 and 2 run with BENCH_ALL_SEEDS=1"
)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 12 trainings (about 100 s idle on 2 cores); over 10 min on a loaded machine
@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=OTHER_SEEDS), pytest.param(2, marks=OTHER_SEEDS)])
def test_table2_ordering_holds_and_no_row_beats_its_ceiling(seed, tmp_path, tracking_uri):
    store = open_store(make_synthetic_store(tmp_path / "store", seed=seed))
    summary = run_suite(
        load_suite("table2"),
        store,
        get_profile("quick"),
        random_splits(store.labels, store.fingerprint, N_SPLITS),
        executor=make_executor("local"),
        uri=tracking_uri,
        device="cpu",
    )
    mean = {r.row.name: r.mean for r in summary.rows}
    assert all(r.n == N_SPLITS for r in summary.rows), mean
    without = {name: acc for name, acc in mean.items() if name.startswith("w/o")}
    assert all(mean["Ours"] - acc >= FULL_MARGIN for acc in without.values()), mean
    others = [acc for name, acc in without.items() if name != "w/o visual branch"]
    assert min(others) - without["w/o visual branch"] >= VISUAL_MARGIN, mean
    for r in summary.rows:
        assert r.mean <= r.ceiling["accuracy"], (r.row.name, r.mean, r.ceiling)
