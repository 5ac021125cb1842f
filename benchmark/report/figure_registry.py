"""Report figures by registration, like models: a new figure is one decorated function, no edit elsewhere.

A figure function takes a :class:`FigureInput` (one section of the suite) and the PNG path to write,
and returns the path (a PDF beside it is written by the figure module), or None when it has nothing to
show for that section. :func:`benchmark.report.render.render_report` draws every registered figure for
every section, in registration order, and lists them in ``index.html`` with their captions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.suite import Suite


@dataclass(frozen=True)
class FigureInput:
    """What a figure may draw from: the section, its rows of the statistics frame, its rows as MLflow holds
    them, the reference row's pooled predictions, the class names, the report header and chance level."""

    part: Suite
    frame: Any  # pandas.DataFrame: this section's rows of table.csv
    rows: list  # benchmark.report.collect.RowRuns of this section
    predictions: Any
    classes: list[str]
    header: Any  # benchmark.report.collect.Header
    chance: float | None
    rope: float = 1.0  # the Bayesian comparison's region of practical equivalence, accuracy points


@dataclass(frozen=True)
class Figure:
    name: Callable[[Suite], str]  # the file's stem for a section (``accuracy`` -> accuracy.png / .pdf)
    draw: Callable[[FigureInput, Path], Path | None]
    caption: Callable[[Suite, FigureInput], str]
    applies: Callable[[Suite], bool]


FIGURES: list[Figure] = []


def register_figure(
    name: str | Callable[[Suite], str],
    caption: Callable[[Suite, FigureInput], str],
    applies: Callable[[Suite], bool] = lambda part: True,
) -> Callable:
    """Register ``draw(inputs, path) -> path | None``; ``name`` may depend on the section (a sweep's
    parameter); in a suite of several sections the file name is prefixed by the section's name."""

    def decorator(draw: Callable[[FigureInput, Path], Path | None]) -> Callable:
        stem = name if callable(name) else (lambda part, fixed=name: fixed)
        FIGURES.append(Figure(stem, draw, caption, applies))
        return draw

    return decorator
