"""The built-in metrics; scikit-learn computes every one it has (all but the calibration error)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk

from benchmark.metrics.registry import register_metric

ECE_BINS = 15


@register_metric(
    "accuracy", label="Accuracy", description="fraction of test videos whose argmax is the label (the paper's)"
)
def accuracy(y_true: np.ndarray, scores: np.ndarray) -> float:
    return sk.accuracy_score(y_true, scores.argmax(axis=1))


@register_metric("macro_f1", label="Macro-F1", description="unweighted mean of the per-class F1 scores")
def macro_f1(y_true: np.ndarray, scores: np.ndarray) -> float:
    labels = np.arange(scores.shape[1])  # classes absent from a split's test part count as 0, as for any split
    return sk.f1_score(y_true, scores.argmax(axis=1), average="macro", labels=labels, zero_division=0)


@register_metric("balanced_accuracy", label="Balanced acc.", description="mean per-class recall")
def balanced_accuracy(y_true: np.ndarray, scores: np.ndarray) -> float:
    return sk.balanced_accuracy_score(y_true, scores.argmax(axis=1))


@register_metric(
    "cohen_kappa",
    unit="",
    label="Cohen's κ",
    description="agreement of prediction and label beyond chance (0: chance, 1: perfect); fair to unequal classes",
)
def cohen_kappa(y_true: np.ndarray, scores: np.ndarray) -> float:
    labels = np.arange(scores.shape[1])
    return float(sk.cohen_kappa_score(y_true, scores.argmax(axis=1), labels=labels))


@register_metric(
    "log_loss", direction="min", unit="nats", label="Log loss", description="mean negative log-likelihood of the label"
)
def log_loss(y_true: np.ndarray, scores: np.ndarray) -> float:
    scores = scores / scores.sum(axis=1, keepdims=True)  # float32 softmax rows sum to 1 only within rounding
    return sk.log_loss(y_true, scores, labels=np.arange(scores.shape[1]))


@register_metric(
    "ece",
    direction="min",
    label="ECE",
    description=f"expected calibration error, {ECE_BINS} equal-width confidence bins",
)
def expected_calibration_error(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Sum over bins of (bin share) * |accuracy - mean confidence| of the top-class confidence."""
    confidence = scores.max(axis=1)
    correct = scores.argmax(axis=1) == y_true
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)
