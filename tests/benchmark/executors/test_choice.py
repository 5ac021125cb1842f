"""``--executor auto``: one single-threaded worker per core for long CPU runs, this process elsewhere."""

from __future__ import annotations

from benchmark.config import get_profile
from benchmark.executors import make_executor
from benchmark.executors.choice import MIN_SAMPLES, choose_executor, largest_mflops_per_frame
from benchmark.suite import load_suite

DEMO = 4 * 10 * 734 * 8  # make demo: table2's 4 rows x 10 splits x 734 training videos x 8 epochs


def test_auto_takes_a_worker_per_core_for_long_cpu_runs():
    name, workers, why = choose_executor("auto", device="cpu", samples=DEMO, mflops_per_frame=1.37, cores=2)
    assert (name, workers) == ("processes", 2) and "1 torch thread" in why
    assert make_executor(name, jobs=workers).training_threads() == 1  # what --precision auto is calibrated at


def test_auto_stays_in_this_process_elsewhere():
    assert choose_executor("auto", device="cpu", samples=MIN_SAMPLES - 1, cores=2)[0] == "local"  # a test's tiny store
    assert choose_executor("auto", device="cpu", samples=DEMO, cores=1)[0] == "local"
    assert (
        choose_executor("auto", device="cpu", samples=DEMO, mflops_per_frame=16.5, cores=2)[0] == "local"
    )  # the paper's dims
    assert choose_executor("auto", device="cuda:0", samples=DEMO, cores=16)[0] == "local"  # the vectorised engine
    assert choose_executor("auto", device="cpu", engine="vectorised", samples=DEMO, cores=2)[0] == "local"
    assert choose_executor("auto", device="cpu", compile=True, samples=DEMO, cores=2)[0] == "local"
    assert choose_executor("local", device="cpu", samples=DEMO, cores=2)[:2] == ("local", None)  # asked for: given


def test_the_largest_configuration_decides(tiny_store):
    from features.store import open_store

    store, rows = open_store(tiny_store), load_suite("table2").runnable_rows
    quick, paper = (largest_mflops_per_frame(rows, store, get_profile(p), {}) for p in ("quick", "paper"))
    assert 0 < quick < paper
