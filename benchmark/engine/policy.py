"""Which loop trains a configuration's splits: ``--engine auto|plain|vectorised``.

``auto`` takes the vectorised engine only where it wins: on CUDA, where one split at batch 16 leaves
the device mostly idle, at fp32 (bf16 on CUDA: see :func:`choose_engine`). On the CPU the plain loop is used: ``bench
perf --device cpu`` measured the
vectorised engine 4x slower there at the paper's dims (docs/measurements.md): a CPU is already busy with
one split. (At the quick profile's dims it was 1.28x faster; why that is not the rule yet is in the docs.)
Estimator models (the linear probe) and single splits always take the plain path.
"""

from __future__ import annotations

from benchmark.params import ParamError, check_choice

ENGINES = ("auto", "plain", "vectorised")


def check_engine(engine: str, executor: str = "local", compile: bool = False) -> str:
    """Validate ``--engine``/``--compile`` against the executor (workers train one split each, plainly)."""
    check_choice("engine", engine, ENGINES)
    if executor != "local" and engine == "vectorised":
        raise ParamError(
            "--engine vectorised trains a configuration's splits together in this process; use it with --executor "
            f"local, not {executor}"
        )
    if compile and executor != "local":
        raise ParamError(f"--compile applies to the vectorised engine of --executor local, not {executor}")
    if compile and engine == "plain":
        raise ParamError("--compile compiles the vectorised engine; use it with --engine vectorised or auto")
    return engine


def choose_engine(
    engine: str, device: str, *, model_kind: str = "torch", n_splits: int = 2, precision: str = "fp32"
) -> str:
    """``plain`` or ``vectorised`` for one configuration on a resolved device (``cpu``/``cuda``) and its
    resolved precision. ``auto`` keeps bf16 on CUDA on the plain loop: on an H200 (torch 2.11) the
    vectorised engine's first bf16 step failed in a softmax backward ("expected input and grad types to
    match"), where the plain loop trained; the likely cause is fixed (``fp32_attention``) but not yet
    confirmed on a GPU (docs/measurements.md, "GPU check")."""
    check_choice("engine", engine, ENGINES)
    if model_kind != "torch" or n_splits < 2 or engine == "plain":
        return "plain"
    if engine == "vectorised":
        return "vectorised"
    return "vectorised" if device.startswith("cuda") and precision == "fp32" else "plain"
