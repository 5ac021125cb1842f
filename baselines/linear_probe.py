"""A transparent floor: mean-pooled features, standardised, multinomial logistic regression.

Pooling averages each modality over its valid frames (mask), so the probe ignores frame order and
missing frames. Uses scikit-learn; no training loop, no epochs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from baselines.registry import register_model
from benchmark.params import check_float, check_int

DEFAULTS = {"C": 0.05, "max_iter": 1000}


def pool(inputs: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """[N, sum of dims]: each modality averaged over its valid frames (zeros when none is valid)."""
    masks = masks or {}
    parts = []
    for m in sorted(inputs):
        x = np.asarray(inputs[m], dtype=np.float32)
        weight = np.asarray(masks[m], dtype=np.float32) if m in masks else np.ones(x.shape[:2], np.float32)
        total = weight.sum(axis=1, keepdims=True)
        parts.append((x * weight[..., None]).sum(axis=1) / np.maximum(total, 1.0))
    return np.concatenate(parts, axis=1)


class LinearProbe:
    def __init__(self, dims: Mapping[str, int], n_classes: int, C: float = 0.05, max_iter: int = 1000):  # noqa: N803  (scikit-learn's C)
        self.dims, self.n_classes = dict(dims), n_classes
        self.pipeline = make_pipeline(
            StandardScaler(),
            LogisticRegression(
                C=check_float("C", C, low=0.0, open_low=True), max_iter=check_int("max_iter", max_iter, low=1)
            ),
        )

    def fit(
        self, inputs: Mapping[str, np.ndarray], y: np.ndarray, masks: Mapping[str, np.ndarray] | None = None
    ) -> LinearProbe:
        self.pipeline.fit(pool(inputs, masks), y)
        return self

    def predict_proba(
        self, inputs: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Probabilities for all ``n_classes`` columns, also for classes absent from the fit."""
        proba = self.pipeline.predict_proba(pool(inputs, masks))
        full = np.zeros((proba.shape[0], self.n_classes))
        full[:, self.pipeline.classes_] = proba
        return full

    def predict(self, inputs: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        return self.predict_proba(inputs, masks).argmax(axis=1)

    def n_parameters(self) -> int:
        """Coefficients and intercepts of the fitted-size logistic regression."""
        return (sum(self.dims.values()) + 1) * self.n_classes


@register_model(
    "linear_probe",
    kind="estimator",
    defaults=DEFAULTS,
    description="Mean-pooled features, logistic regression",
    check_params={"C": 100.0},
    search_space={
        "C": {
            "type": float,
            "doc": "inverse L2 regularisation strength",
            "low": 1e-3,
            "high": 1e2,
            "log": True,
            "minimum": 0.0,
            "open_minimum": True,
        }
    },
)
def build_linear_probe(dims: Mapping[str, int], n_classes: int, **params) -> LinearProbe:
    return LinearProbe(dims, n_classes, **params)
