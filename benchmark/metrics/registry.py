"""The metric registry: :class:`Metric` records, :func:`register_metric`, lookup and computation."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from baselines.registry import note_extension
from benchmark.params import ParamError, check_choice

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Metric:
    """``function(y_true, scores) -> float``: ``y_true`` int class indices ``[n]``, ``scores`` class
    probabilities ``[n, n_classes]``. ``unit`` ``"%"`` means the function returns a fraction that tables
    show in percent (MLflow keeps the fraction, like ``test_acc``); ``direction`` says which way is better."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str = "max"
    unit: str = "%"
    description: str = ""
    label: str = ""  # the table header ("Macro-F1"); the name where empty

    @property
    def header(self) -> str:
        return (self.label or self.name) + (" (%)" if self.unit == "%" else f" ({self.unit})" if self.unit else "")

    def scale(self) -> float:
        """Factor from the stored value to what tables show (100 for a percentage)."""
        return 100.0 if self.unit == "%" else 1.0


_METRICS: dict[str, Metric] = {}


def register_metric(name: str, *, direction: str = "max", unit: str = "%", description: str = "", label: str = ""):
    """Decorator: register ``function(y_true, scores) -> float`` as metric ``name`` (a column of table.csv)."""
    if not name.isidentifier():
        raise ParamError(
            f"metric name {name!r} must be a Python identifier (it becomes a CSV column and an MLflow metric)"
        )
    check_choice("direction", direction, DIRECTIONS)

    def decorate(function: Callable[[np.ndarray, np.ndarray], float]):
        _METRICS[name] = Metric(name, function, direction, unit, description, label)
        note_extension("metric", name)
        return function

    return decorate


def list_metrics() -> list[str]:
    return list(_METRICS)


def get_metric(name: str) -> Metric:
    try:
        return _METRICS[name]
    except KeyError:
        raise ParamError(f"unknown metric {name!r}; registered: {', '.join(_METRICS)}") from None


def compute(y_true: np.ndarray, scores: np.ndarray, names: Iterable[str] | None = None) -> dict[str, float]:
    """Every registered metric (or ``names``) of one set of scores; NaN where a metric cannot be computed."""
    y_true = np.asarray(y_true, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    out = {}
    for name in names if names is not None else list(_METRICS):
        try:
            value = float(get_metric(name).function(y_true, scores))
        except (ValueError, ZeroDivisionError, FloatingPointError):
            value = math.nan
        out[name] = value
    return out
