"""``bench run --executor auto`` (the default): one single-threaded worker process per core for long CPU runs.

A training step of the quick profile's models is small (batch 64, T = 10, 128-wide branches): on
two torch threads a step runs 1.45x faster than on one, not 2x, and the Python between the
operations (dispatch, evaluation, MLflow logging) runs on one core while the other waits. Two
processes with one thread each keep both cores busy with independent splits (docs/guide/performance.md,
"The demo"). So ``auto`` takes ``processes`` with one worker per core when all of these hold:

- the device is the CPU and the loop is the plain one (``--engine vectorised`` and ``--compile``
  train a configuration's splits together in this process: ``local``);
- the machine has at least two cores;
- every configuration is small: under :data:`SMALL_MFLOPS_PER_FRAME` forward MFLOP per frame (the
  quick profile's are 0.5-1.7, the paper's 2.7-16.5). At the paper's dims a step is large matmuls,
  which two threads share well; there the in-process loop is kept, and it is the loop ``bench perf``
  times and projects;
- the runs are long enough for a worker's start (importing torch and MLflow, opening the store: a few
  seconds) not to matter: at least :data:`MIN_SAMPLES` training samples in all (epochs x training
  videos, summed over rows and splits). ``make demo`` has 234,880; a test's tiny store a few hundred.

Elsewhere ``local``. Results do not depend on the executor beyond the torch thread count: the same
seeds give the same numbers in a one-thread process whoever starts it (docs/guide/performance.md, on why the
thread count moves the last digits).
"""

from __future__ import annotations

import os

#: Training samples (epochs x training videos over all rows and splits) from which ``auto`` starts workers.
MIN_SAMPLES = 100_000
#: Forward MFLOP per frame under which a configuration's steps are small operations (as in benchmark.precision).
SMALL_MFLOPS_PER_FRAME = 2.0


def choose_executor(
    name: str,
    *,
    device: str,
    engine: str = "auto",
    compile: bool = False,
    samples: int = 0,
    mflops_per_frame: float = 0.0,
    cores: int | None = None,
) -> tuple[str, int | None, str]:
    """(executor, workers or None, why) for ``--executor name`` (``auto`` resolved; others as given).
    ``samples``: training samples of the run; ``mflops_per_frame``: the largest of its torch configurations."""
    if name != "auto":
        return name, None, f"--executor {name}"
    cores = cores or os.cpu_count() or 1
    if device.startswith("cuda") or engine == "vectorised" or compile:
        return "local", None, "auto: local (the vectorised engine or CUDA trains in this process)"
    if cores < 2:
        return "local", None, "auto: local (one core)"
    if mflops_per_frame >= SMALL_MFLOPS_PER_FRAME:
        return (
            "local",
            None,
            f"auto: local ({mflops_per_frame:.1f} MFLOP per frame: large matmuls, shared by {cores} threads)",
        )
    if samples < MIN_SAMPLES:
        return "local", None, f"auto: local ({samples:,} training samples, workers from {MIN_SAMPLES:,})"
    return (
        "processes",
        cores,
        f"auto: {cores} worker processes x 1 torch thread ({samples:,} training samples on {cores} cores)",
    )


def largest_mflops_per_frame(rows, store, profile, train_overrides) -> float:
    """The largest forward MFLOP per frame over ``rows``' torch configurations on ``store``'s dims
    (rows the store or the model cannot take are left to planning, which names them)."""
    from baselines import get_model
    from benchmark.config import resolve_config
    from benchmark.params import ParamError
    from benchmark.precision import mflops_per_frame

    largest = 0.0
    for row in rows:
        try:
            if get_model(row.model).kind != "torch" or any(m not in store.dims for m in row.modalities):
                continue
            config = resolve_config(
                model=row.model,
                modalities=list(row.modalities),
                row_params=row.params,
                profile=profile,
                train_overrides=train_overrides,
            )
            largest = max(largest, mflops_per_frame(config, store.dims))
        except (ParamError, KeyError, TypeError, ValueError):
            continue
    return largest
