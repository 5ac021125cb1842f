"""The model contract: the checks every registered model passes, as ``bench check-model`` runs them.

One implementation for the project's own contract test (over every built-in) and for users'
models (scikit-learn's ``check_estimator`` is the pattern): output shape, gradients reach every
trainable parameter, a tiny batch can be overfitted, masked frames do not reach the output, and,
where the model declares it, frame order does not matter, and a bf16 autocast training step keeps every
softmax in fp32 (what CUDA needs: its autocast hands a bf16 softmax a float32 output dtype, whose backward
it refuses).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from baselines.registry import get_model, resolve_params
from features.format import PAPER_MODALITIES

#: Small dims of the check (the paper's modalities; a model that declares others gets them at 16).
SMALL_DIMS = {"visual": 32, "audio": 16, "skeleton": 12}
N_CLASSES, BATCH, FRAMES = 3, 12, 6
OVERFIT_STEPS, OVERFIT_LR = 150, 3e-3


@dataclass(frozen=True)
class CheckResult:
    check: str
    passed: bool | None  # None: not applicable to this model (skipped)
    reason: str = ""


@dataclass(frozen=True)
class Case:
    """What the checks run on: the model's name, dims, params (resolved), and a seeded batch."""

    name: str
    kind: str
    dims: Mapping[str, int]
    params: Mapping[str, Any]
    seed: int = 0

    def build(self):
        return get_model(self.name).build(
            dims=dict(self.dims), n_classes=N_CLASSES, **resolve_params(self.name, self.params)
        )

    def batch(self, seed: int | None = None):
        import torch

        g = torch.Generator().manual_seed(self.seed if seed is None else seed)
        x = {m: torch.randn(BATCH, FRAMES, d, generator=g) for m, d in self.dims.items()}
        y = torch.arange(BATCH) % N_CLASSES
        return x, y


def default_dims(name: str) -> dict[str, int]:
    """The small dims for a model: its declared modalities, else the paper's three."""
    modalities = get_model(name).modalities or PAPER_MODALITIES
    return {m: SMALL_DIMS.get(m, 16) for m in modalities}


def make_case(
    name: str, dims: Mapping[str, int] | None = None, params: Mapping[str, Any] | None = None, *, small: bool = True
) -> Case:
    """``small``: start from the model's registered ``check_params`` (small sizes, no dropout)."""
    entry = get_model(name)
    merged = dict(entry.check_params) if small else {}
    merged.update(params or {})
    resolve_params(name, merged)  # unknown parameters: an input error here, not a failed check
    return Case(name, entry.kind, dict(dims or default_dims(name)), merged)


def outputs(case: Case, model, x, y=None, masks=None) -> np.ndarray:
    """Eval-mode outputs (an estimator is fitted first when ``y`` is given)."""
    import torch

    if case.kind == "torch":
        model.eval()
        with torch.no_grad():
            return (model(x, masks) if masks is not None else model(x)).float().numpy()
    numpy_x = {m: v.numpy() for m, v in x.items()}
    numpy_masks = {m: v.numpy() for m, v in masks.items()} if masks is not None else None
    if y is not None:
        model.fit(numpy_x, y.numpy(), numpy_masks)
    return np.asarray(model.predict_proba(numpy_x, numpy_masks))


def check_output_shape(case: Case) -> CheckResult:
    x, y = case.batch()
    out = outputs(case, case.build(), x, y)
    if out.shape != (BATCH, N_CLASSES):
        return CheckResult(
            "output shape", False, f"expected ({BATCH}, {N_CLASSES}) = (batch, classes), got {tuple(out.shape)}"
        )
    if not np.isfinite(out).all():
        return CheckResult("output shape", False, "the output holds NaN or infinite values")
    return CheckResult("output shape", True, f"({BATCH}, {N_CLASSES})")


def check_gradients(case: Case) -> CheckResult:
    import torch

    if case.kind != "torch":
        return CheckResult("gradients reach every parameter", None, "an estimator has no gradients")
    torch.manual_seed(case.seed)
    model = case.build()
    model.train()
    x, y = case.batch()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    dead = [
        n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    if dead:
        more = f" and {len(dead) - 3} more" if len(dead) > 3 else ""
        return CheckResult("gradients reach every parameter", False, f"no gradient reaches {', '.join(dead[:3])}{more}")
    n = sum(1 for p in model.parameters() if p.requires_grad)
    return CheckResult("gradients reach every parameter", True, f"{n} parameter tensors")


def check_overfit(case: Case) -> CheckResult:
    import torch

    torch.manual_seed(case.seed)
    model = case.build()
    x, y = case.batch()
    if case.kind == "torch":
        optimizer = torch.optim.Adam(model.parameters(), lr=OVERFIT_LR)
        model.train()
        for _ in range(OVERFIT_STEPS):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    predictions = outputs(case, model, x, y).argmax(axis=1)
    right = int((predictions == y.numpy()).sum())
    what = f"{OVERFIT_STEPS} Adam steps at lr {OVERFIT_LR:g}" if case.kind == "torch" else "one fit"
    if right < BATCH:
        return CheckResult(
            "tiny batch can be overfitted", False, f"{right}/{BATCH} training samples right after {what}"
        )
    return CheckResult("tiny batch can be overfitted", True, f"{BATCH}/{BATCH} after {what}")


def check_masks(case: Case) -> CheckResult:
    """Noise in masked frames changes nothing, also for a video whose modality has no valid frame."""
    import torch

    model = case.build()
    x, y = case.batch()
    names = list(case.dims)
    masks = {m: torch.ones(BATCH, FRAMES, dtype=torch.bool) for m in names}
    masks[names[0]][:, FRAMES - 2 :] = False
    silent = names[1] if len(names) > 1 else names[0]
    masks[silent][:3] = False  # three videos without that modality at all
    noisy = {m: v.clone() for m, v in x.items()}
    noisy[names[0]][:, FRAMES - 2 :] = 100 * torch.randn(BATCH, 2, case.dims[names[0]])
    noisy[silent][:3] = 100 * torch.randn(3, FRAMES, case.dims[silent])
    before = outputs(case, model, x, y, masks)  # an estimator is fitted on the clean batch
    after = outputs(case, model, noisy, None, masks)
    if not np.isfinite(before).all():
        return CheckResult(
            "masked frames do not matter",
            False,
            "a video whose modality has no valid frame gives NaN or infinite output",
        )
    if not np.allclose(before, after, rtol=1e-4, atol=1e-5):
        gap = float(np.abs(before - after).max())
        return CheckResult(
            "masked frames do not matter",
            False,
            f"noise in masked frames of {names[0]!r} / {silent!r} changed the output (max difference {gap:.3g}): use "
            "the masks argument",
        )
    return CheckResult(
        "masked frames do not matter", True, f"masked frames of {names[0]!r} and videos without {silent!r}"
    )


def check_frame_order(case: Case) -> CheckResult:
    import torch

    if not get_model(case.name).permutation_invariant(resolve_params(case.name, case.params)):
        return CheckResult(
            "frame order does not matter", None, "the model does not declare frame-order invariance for these params"
        )
    model = case.build()
    x, y = case.batch()
    before = outputs(case, model, x, y)
    perm = torch.randperm(FRAMES, generator=torch.Generator().manual_seed(1))
    after = outputs(case, model, {m: v[:, perm] for m, v in x.items()})  # an estimator: the same fit, no refit
    if not np.allclose(before, after, rtol=1e-4, atol=1e-5):
        return CheckResult(
            "frame order does not matter",
            False,
            f"shuffling frames changed the output (max difference {float(np.abs(before - after).max()):.3g}); "
            "register with permutation_invariant=lambda params: False if order should matter",
        )
    return CheckResult("frame order does not matter", True, "")


def check_bf16_softmax(case: Case) -> CheckResult:
    """Checked on the CPU for every device: CUDA's autocast turns a softmax of bf16 input into one with a
    float32 output, and CUDA's softmax backward then fails ("expected input and grad types to match");
    the CPU's autocast keeps the input bf16, so a bf16 input seen here is the op that fails there."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    name = "softmax runs in fp32 under bf16"
    if case.kind != "torch":
        return CheckResult(name, None, "an estimator has no precision")
    softmaxes = {
        torch.ops.aten._softmax.default,
        torch.ops.aten._log_softmax.default,
        torch.ops.aten._safe_softmax.default,
    }
    in_bf16: list[str] = []

    class Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in softmaxes and args[0].dtype == torch.bfloat16:
                in_bf16.append(f"{func.__name__.split('.')[0].lstrip('_')} of shape {tuple(args[0].shape)}")
            return func(*args, **(kwargs or {}))

    torch.manual_seed(case.seed)
    model = case.build()
    model.train()
    x, y = case.batch()
    with Watch():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
    if in_bf16:
        return CheckResult(
            name, False, f"{in_bf16[0]} takes bf16 input: call .float() on it (bf16 training on CUDA fails there)"
        )
    return CheckResult(name, True, "")


CHECKS: tuple[Callable[[Case], CheckResult], ...] = (
    check_output_shape,
    check_gradients,
    check_overfit,
    check_masks,
    check_frame_order,
    check_bf16_softmax,
)
CHECK_NAMES = {
    fn.__name__: name
    for fn, name in zip(
        CHECKS,
        (
            "output shape",
            "gradients reach every parameter",
            "tiny batch can be overfitted",
            "masked frames do not matter",
            "frame order does not matter",
            "softmax runs in fp32 under bf16",
        ),
    )
}


def run_checks(case: Case) -> list[CheckResult]:
    """Every check; an exception inside a check fails that check with the error's last line."""
    results = []
    for check in CHECKS:
        try:
            results.append(check(case))
        except Exception as exc:
            line = traceback.format_exception_only(exc)[-1].strip()
            results.append(CheckResult(CHECK_NAMES[check.__name__], False, f"raised {line}"))
    return results


def check_model(
    name: str, dims: Mapping[str, int] | None = None, params: Mapping[str, Any] | None = None, *, small: bool = True
) -> list[CheckResult]:
    return run_checks(make_case(name, dims, params, small=small))
