"""What a parent run (one suite row) carries beyond its aggregate: per-epoch curves over its splits,
the paper's number as a metric, its position in the suite, and its own duration.

Units: accuracy is a fraction (0..1), as in the split runs' ``test_acc``; the paper's number (a
percent in the suite files) is divided by 100 before it reaches MLflow, so a filter such as
``metrics.test_acc_mean > metrics.test_acc_paper`` compares like with like.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

ROW_ORDER_TAG = f"{TAG}row_order"
SETTING_TAG = f"{TAG}setting"
CLOSED_AT_TAG = f"{TAG}closed_at"  # ms since the epoch: when bench run last closed the parent
PAPER_METRIC = "test_acc_paper"
PAPER_TAG = f"{TAG}paper"
CURVES = {"test_acc": "test_acc", "train_loss": "train_loss"}  # child metric -> parent prefix (+ _mean/_std)


def row_order(index: int) -> str:
    """The row's position in its suite, zero-padded so that sorting the tag as text keeps the order."""
    return f"{index:03d}"


def paper_fraction(paper_percent: float | None) -> float | None:
    return None if paper_percent is None else round(paper_percent / 100.0, 6)


def epoch_curves(client: MlflowClient, child_run_ids: Sequence[str]) -> dict[str, dict[int, tuple[float, float]]]:
    """Per metric, per epoch: (mean, sample std) over the splits that logged that epoch.

    Only epochs every split logged count, so a mean never mixes a different set of splits.
    """
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for key in CURVES:
        histories = []
        for run_id in child_run_ids:
            history = {m.step: m.value for m in client.get_metric_history(run_id, key) if math.isfinite(m.value)}
            if history:
                histories.append(history)
        if not histories or len(histories) != len(child_run_ids):
            continue
        steps = sorted(set.intersection(*(set(h) for h in histories)))
        curve = {}
        for step in steps:
            values = np.array([h[step] for h in histories], dtype=float)
            curve[step] = (float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan)
        out[key] = curve
    return out


def log_epoch_curves(client: MlflowClient, run_id: str, curves: dict[str, dict[int, tuple[float, float]]]) -> None:
    """``<metric>_mean`` / ``<metric>_std`` at step = epoch, in one batch per metric.

    The last epoch is the highest step, so the run's latest ``test_acc_mean`` (what search_runs and the
    table show) is the mean of the splits' final test accuracies: the row's cell.
    """
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    for key, curve in curves.items():
        prefix = CURVES[key]
        items = []
        for step, (mean, std) in curve.items():
            items.append(Metric(f"{prefix}_mean", mean, now, step))
            if math.isfinite(std):
                items.append(Metric(f"{prefix}_std", std, now, step))
        for start in range(0, len(items), 1000):
            client.log_batch(run_id, metrics=items[start : start + 1000])


def last_step(curves: dict[str, dict[int, tuple[float, float]]]) -> int:
    """The step at which the aggregate metrics go: the curves' last epoch, else 0."""
    steps = [max(curve) for curve in curves.values() if curve]
    return max(steps, default=0)


def busy_ms(runs: Iterable[Run]) -> int | None:
    """How long at least one of the given split runs was running (the union of their intervals), in ms.

    Split runs that trained one after another add up; runs that trained side by side (worker processes)
    count once; gaps (an interrupted run resumed the next day) do not count. None when no run has both a
    start and an end.
    """
    spans = sorted(
        (r.info.start_time, r.info.end_time)
        for r in runs
        if r.info.start_time is not None and r.info.end_time is not None
    )
    if not spans:
        return None
    total, (current_start, current_end) = 0, spans[0]
    for start, end in spans[1:]:
        if start > current_end:
            total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    return total + current_end - current_start


def parent_end_time(parent_start_ms: int, children: Iterable[Run]) -> int | None:
    """An end time that makes the parent's Duration its own: how long its split runs were training.

    MLflow cannot move a run's start time, and every parent of a ``bench run`` is opened when the run
    starts (children need their parent's id), so the end is set to start + :func:`busy_ms` of the row's
    split runs.
    """
    busy = busy_ms(children)
    return None if busy is None else parent_start_ms + busy
