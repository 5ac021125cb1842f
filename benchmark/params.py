"""Declared parameter checks with uniform error messages (in the spirit of scikit-learn's).

Every user-facing value (CLI option, suite or profile entry, model parameter) is checked at the
boundary, and a bad one fails with ``ParamError`` saying which parameter, what it got, what it wants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


class ParamError(ValueError):
    """A parameter has an invalid value."""


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(f"{name} must be an integer, got {value!r}")
    _check_range(name, value, low, high)
    return value


def check_float(
    name: str, value: Any, *, low: float | None = None, high: float | None = None, open_low: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, got {value!r}")
    if open_low and low is not None and value <= low:
        raise ParamError(f"{name} must be > {low}, got {value!r}")
    _check_range(name, value, low, high)
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = list(choices)
    if value not in choices:
        raise ParamError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_divisible(name: str, value: int, by: int, by_name: str) -> None:
    if value % by:
        raise ParamError(f"{name}={value} must be divisible by {by_name}={by}")


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise ParamError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ParamError(f"{name} must be <= {high}, got {value!r}")


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> str:
    """``--device auto|cpu|cuda`` as the device to use: ``auto`` takes CUDA when torch sees it."""
    check_choice("device", device, DEVICES)
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ParamError("device 'cuda' was asked for but torch sees no CUDA device; use --device cpu or auto")
    return device
