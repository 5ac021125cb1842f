"""The Bayes oracle of a generator with Gaussian video-level statistics: the best reachable accuracy.

Each modality m gives, per video, a statistic ``y_m`` (for the synthetic store: the mean of its
frames) distributed ``N(mean[m, c], noise_std_m^2 I)`` given the class c, independently across
modalities; a modality is missing for a video with probability ``missing_rate_m`` (independent of the
class), and then says nothing. The Bayes rule picks ``argmax_c log prior_c + sum over present m of
-||y_m - mean[m, c]||^2 / (2 noise_std_m^2)``; no classifier given these modalities does better on
average. Its accuracy has no closed form for 8 classes, so it is estimated by Monte Carlo on fresh
samples, with the binomial standard error. Only the span of the class means matters (the rest of
``y_m`` does not depend on the class), so sampling happens in that span: seconds for any dims.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianModality:
    class_means: np.ndarray  # [C, D] float64: the statistic's mean per class
    noise_std: float  # per-dimension std of the statistic around its class mean
    missing_rate: float = 0.0

    def basis(self) -> np.ndarray:
        """Orthonormal basis [D, r] of the span of the class means (r <= C)."""
        _, singular, vt = np.linalg.svd(self.class_means, full_matrices=False)
        keep = singular > 1e-9 * max(1.0, float(singular.max(initial=0.0)))
        return vt[keep].T


def subset_key(modalities: Sequence[str], order: Sequence[str]) -> str:
    """``visual+skeleton``: a subset's name, its modalities in the store's order."""
    return "+".join(m for m in order if m in set(modalities))


def all_subsets(order: Sequence[str]) -> list[tuple[str, ...]]:
    return [s for k in range(1, len(order) + 1) for s in itertools.combinations(order, k)]


def log_likelihoods(modality: GaussianModality, projected: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """[N, C] log-likelihood (up to a constant) of each class, for statistics already projected on ``basis``."""
    centres = modality.class_means @ basis  # [C, r]
    sq = (projected**2).sum(1, keepdims=True) - 2.0 * projected @ centres.T + (centres**2).sum(1)[None, :]
    return -sq / (2.0 * modality.noise_std**2)


def bayes_predict(
    modalities: Mapping[str, GaussianModality],
    priors: np.ndarray,
    statistics: Mapping[str, np.ndarray],
    present: Mapping[str, np.ndarray],
) -> np.ndarray:
    """The Bayes rule's class for each video, from the modalities given (missing ones say nothing)."""
    n = len(next(iter(statistics.values())))
    score = np.repeat(np.log(priors)[None, :], n, axis=0)
    for m, stat in statistics.items():
        basis = modalities[m].basis()
        score += present[m][:, None] * log_likelihoods(modalities[m], np.asarray(stat, dtype=np.float64) @ basis, basis)
    return score.argmax(axis=1)


def bayes_ceilings(
    modalities: Mapping[str, GaussianModality], priors: np.ndarray, *, samples: int, rng: np.random.Generator
) -> dict[str, dict[str, float]]:
    """``{subset_key: {"accuracy", "se"}}`` for every non-empty subset, on the same fresh samples
    (common random numbers, so the differences between subsets are estimated more precisely)."""
    priors = np.asarray(priors, dtype=np.float64)
    labels = rng.choice(len(priors), size=samples, p=priors)
    loglik, present = {}, {}
    for m, modality in modalities.items():
        basis = modality.basis()
        centres = modality.class_means @ basis
        y = centres[labels] + modality.noise_std * rng.standard_normal((samples, basis.shape[1]))
        loglik[m] = log_likelihoods(modality, y, basis)
        present[m] = rng.random(samples) >= modality.missing_rate
    out = {}
    for subset in all_subsets(list(modalities)):
        score = np.repeat(np.log(priors)[None, :], samples, axis=0)
        for m in subset:
            score += present[m][:, None] * loglik[m]
        accuracy = float((score.argmax(axis=1) == labels).mean())
        out[subset_key(subset, list(modalities))] = {
            "accuracy": round(accuracy, 6),
            "se": round(math.sqrt(accuracy * (1.0 - accuracy) / samples), 6),
        }
    return out
