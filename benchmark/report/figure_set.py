"""The report's figures, registered in the order index.html shows them (:mod:`benchmark.report.figure_registry`).

A new figure: a drawing function (in :mod:`benchmark.report.figures` or a module of its own) and one
registration here.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.report.figure_registry import FigureInput, register_figure
from benchmark.report.figures import bars, confusion, curves, per_class, sweep
from benchmark.report.forest import forest
from benchmark.suite import Suite


def _is_sweep(part: Suite) -> bool:
    return part.layout == "sweep" and bool(part.sweep)


@register_figure(
    "accuracy",
    lambda part, inputs: f"{part.title}: accuracy per row (mean ± std over splits) beside the paper",
    applies=lambda part: not _is_sweep(part),
)
def _accuracy_figure(inputs: FigureInput, path: Path) -> Path | None:
    return bars(inputs.part, inputs.frame, inputs.header, path, inputs.chance)


@register_figure(
    lambda part: f"sweep_{part.sweep}",
    lambda part, inputs: f"{part.title}: accuracy against {part.sweep} (mean ± std over splits)",
    applies=_is_sweep,
)
def _sweep_figure(inputs: FigureInput, path: Path) -> Path | None:
    return sweep(inputs.part, inputs.frame, inputs.header, path, inputs.chance)


@register_figure(
    "forest",
    lambda part, inputs: (
        f"{part.title}: difference from {part.reference} per row with its corrected 95 % interval "
        f"and the ±{inputs.rope:g}-point ROPE"
    ),
)
def _forest_figure(inputs: FigureInput, path: Path) -> Path | None:
    return forest(inputs.part, inputs.frame, inputs.header, path, inputs.rope)


@register_figure(
    "curves", lambda part, inputs: f"{part.title}: training curves per row (mean and ±std band over splits)"
)
def _curves_figure(inputs: FigureInput, path: Path) -> Path | None:
    return curves(inputs.part, inputs.rows, inputs.header, path)


@register_figure(
    "per_class", lambda part, inputs: f"{part.title}: per-class accuracy of {part.reference}, pooled over splits"
)
def _per_class_figure(inputs: FigureInput, path: Path) -> Path | None:
    return per_class(inputs.part, inputs.predictions, inputs.classes, inputs.header, path)


@register_figure(
    "confusion", lambda part, inputs: f"{part.title}: confusion matrix of {part.reference}, summed over splits"
)
def _confusion_figure(inputs: FigureInput, path: Path) -> Path | None:
    return confusion(inputs.part, inputs.predictions, inputs.classes, inputs.header, path)
