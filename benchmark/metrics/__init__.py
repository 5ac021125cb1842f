"""Metrics by registration: a metric is a function of (true labels, class scores) with a name, a direction
and a unit. They are computed from the scores a split run keeps, outside the code identity that decides
reuse, so adding or changing one never retrains: ``bench report`` fills it for every run with scores.

A plugin file registers its own with :func:`register_metric` (the built-ins are in :mod:`.builtin`).
"""

from benchmark.metrics import builtin as _builtin  # noqa: F401  (registers the built-in metrics)
from benchmark.metrics.registry import Metric, compute, get_metric, list_metrics, register_metric

__all__ = ["Metric", "compute", "get_metric", "list_metrics", "register_metric"]
