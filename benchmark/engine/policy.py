"""Which loop trains a configuration's splits: ``--engine auto|plain|vectorised``.

The engine is part of what a run computes (with dropout the vectorised engine draws its masks from
another random stream), so it is resolved once per configuration when a suite is planned and stored
in the configuration (``train.engine``, in the fingerprint only where it is ``vectorised``: plain runs
keep the fingerprints they had before the engine was a setting). ``auto`` takes the vectorised engine:

- on CUDA, where one split at batch 16 leaves the device mostly idle;
- on the CPU for small configurations, below :data:`CPU_VECTORISE_MAX_MFLOPS_PER_FRAME` forward-pass
  MFLOP per frame (every configuration of the quick profile, at most 1.7), where a step is mostly
  per-operator overhead that K splits share; ``bench perf`` measured it faster there and 4x slower at
  the paper's dims (16.5 MFLOP per frame), where one split already keeps the cores busy
  (``docs/performance.md``).

The rule depends on the device kind, the executor, the number of splits and the configuration, never
on a timing. Estimator models (the linear probe), a single split, and worker executors (which train
one split per job) always take the plain loop.
"""

from __future__ import annotations

from typing import Mapping

from benchmark.params import ParamError, check_choice

ENGINES = ("auto", "plain", "vectorised")
#: Forward-pass MFLOP per frame below which ``auto`` vectorises a configuration's splits on the CPU.
CPU_VECTORISE_MAX_MFLOPS_PER_FRAME = 2.0


def check_engine(engine: str, executor: str = "local", compile: bool = False) -> str:
    """Validate ``--engine``/``--compile`` against the executor (workers train one split each, plainly)."""
    check_choice("engine", engine, ENGINES)
    if executor != "local" and engine == "vectorised":
        raise ParamError(f"--engine vectorised trains a configuration's splits together in this process; use it with --executor local, not {executor}")
    if compile and executor != "local":
        raise ParamError(f"--compile applies to the vectorised engine of --executor local, not {executor}")
    if compile and engine == "plain":
        raise ParamError("--compile compiles the vectorised engine; use it with --engine vectorised or auto")
    return engine


def choose_engine(
    engine: str, device: str, *, model_kind: str = "torch", n_splits: int = 2, mflops_per_frame: float | None = None,
    executor: str = "local",
) -> str:
    """``plain`` or ``vectorised`` for one configuration on a resolved device (``cpu``/``cuda``);
    ``mflops_per_frame``: the configuration's forward pass (None: not known, taken as large)."""
    check_choice("engine", engine, ENGINES)
    if model_kind != "torch" or n_splits < 2 or engine == "plain" or executor != "local":
        return "plain"
    if engine == "vectorised" or device.startswith("cuda"):
        return "vectorised"
    small = mflops_per_frame is not None and mflops_per_frame < CPU_VECTORISE_MAX_MFLOPS_PER_FRAME
    return "vectorised" if small else "plain"


def with_engine(config, engine: str, device: str, dims: Mapping[str, int], *, n_splits: int, executor: str = "local"):
    """``config`` (a :class:`~benchmark.config.RunConfig`) with ``train.engine`` resolved."""
    from dataclasses import replace

    from baselines import get_model
    from benchmark.precision import mflops_per_frame

    kind = get_model(config.model).kind
    mflops = mflops_per_frame(config, dims) if kind == "torch" and not device.startswith("cuda") and engine == "auto" else None
    chosen = choose_engine(engine, device, model_kind=kind, n_splits=n_splits, mflops_per_frame=mflops, executor=executor)
    return replace(config, train=replace(config.train, engine=chosen))
