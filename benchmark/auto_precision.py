"""``--precision auto`` resolved: the static rule of :mod:`benchmark.precision`, then a measurement.

:func:`benchmark.precision.with_precision` says where bf16 *may* pay: a torch model, a device with
bf16 instructions, enough arithmetic per frame. Where it says bf16, this module asks the kept
calibration of the machine (:mod:`benchmark.calibration`: the configuration's matmuls timed in fp32
and bf16 on the threads training will use) and keeps bf16 only where it was measured faster by the
margin. Every caller that resolves ``auto`` (``bench run``'s planning, ``bench tune``, ``bench perf``)
comes here, so they agree.

This module is not part of the code identity (:mod:`benchmark.code_identity`): the precision it
resolves is in the configuration, and so in the fingerprint; how it was chosen is not, and is logged
as the ``bench.precision_choice`` tag on each row's parent run.
"""

from __future__ import annotations

from collections.abc import Mapping


def resolve(config, precision: str, device: str, dims: Mapping[str, int], threads: int | None = None):
    """(``config`` at its resolved precision, why: one line). ``device``: resolved (``cpu``, ``cuda:N``);
    ``threads``: the torch threads each training process will use (default: this process's)."""
    from baselines import get_model
    from benchmark.precision import (
        BF16_MIN_MFLOPS_PER_FRAME,
        at_precision,
        check_precision,
        mflops_per_frame,
        native_bf16,
        with_precision,
    )

    check_precision(precision)
    allowed = with_precision(config, precision, device, dims)
    chosen = allowed.train.precision
    if get_model(config.model).kind != "torch":
        return allowed, "fp32: an estimator has no precision"
    if precision != "auto":
        return allowed, f"{chosen}: asked for (--precision {precision})"
    if chosen == "fp32":
        if not native_bf16(device):
            return allowed, "fp32: no native bf16 on this device"
        return (
            allowed,
            f"fp32: {mflops_per_frame(config, dims):.2f} MFLOP per frame, bf16 from {BF16_MIN_MFLOPS_PER_FRAME}",
        )
    import torch

    from benchmark.calibration import calibrate_config

    measured = calibrate_config(config, dims, device, threads or torch.get_num_threads())
    return at_precision(config, "bf16" if measured.bf16 else "fp32"), measured.describe()


def resolve_precision(precision: str, device: str, config, dims: Mapping[str, int], threads: int | None = None) -> str:
    """``fp32`` or ``bf16`` for ``config`` (see :func:`resolve`)."""
    return resolve(config, precision, device, dims, threads)[0].train.precision
