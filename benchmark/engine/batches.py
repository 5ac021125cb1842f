"""Device-resident features and per-split batches.

The store's arrays go to the device once, unstandardised and shared by all splits; each split's
z-scores (statistics from its own training videos, as :func:`benchmark.data.standardize` computes
them) are applied to each gathered batch. That keeps one copy of the features on the device instead
of one per split, with the same float32 arithmetic as the plain loop's standardised arrays.

Data order: each split draws ``randperm`` from its own generator seeded with its run seed, exactly as
the plain loop does, so split k sees the same batches in the same order here and there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from benchmark.data import ModalityData, as_tensor, train_statistics


@dataclass
class Standardizer:
    """Per-split mean and std, ``[K, D]`` per modality, on the device."""

    mean: dict[str, torch.Tensor]
    std: dict[str, torch.Tensor]


class DeviceData:
    """Features ``[N, T, D]``, masks ``[N, T]`` and labels ``[N]`` resident on one device."""

    def __init__(self, data: Mapping[str, ModalityData], labels: np.ndarray, device: str | torch.device):
        self.data = dict(data)
        self.device = torch.device(device)
        self.features = {m: as_tensor(d.features).to(self.device) for m, d in data.items()}
        self.masks = {m: as_tensor(d.mask).to(self.device) for m, d in data.items() if d.mask is not None}
        self.labels = as_tensor(np.asarray(labels, dtype=np.int64)).to(self.device)

    def standardizer(self, trains: Sequence[np.ndarray]) -> Standardizer:
        mean, std = {}, {}
        for m, item in self.data.items():
            stats = [train_statistics(item, train) for train in trains]
            mean[m] = torch.from_numpy(np.stack([s[0] for s in stats])).to(self.device)
            std[m] = torch.from_numpy(np.stack([s[1] for s in stats])).to(self.device)
        return Standardizer(mean, std)

    def batch(self, idx: torch.Tensor, scale: Standardizer | None = None):
        """Gather positions ``idx [K, B]`` -> inputs ``{m: [K, B, T, D]}``, masks ``{m: [K, B, T]}``, targets ``[K,
        B]``."""
        inputs, masks = {}, {}
        for m, features in self.features.items():
            x = features[idx]
            if m in self.masks:
                masks[m] = self.masks[m][idx]
            if scale is not None:
                x = (x - scale.mean[m][:, None, None, :]) / scale.std[m][:, None, None, :]
                if m in masks:
                    x = x * masks[m][..., None]
            inputs[m] = x
        return inputs, masks, self.labels[idx]


def epoch_order(positions: torch.Tensor, generators: Sequence[torch.Generator]) -> torch.Tensor:
    """Each split's training positions ``[K, n]`` shuffled by its own generator (the plain loop's ``randperm``)."""
    n = positions.shape[1]
    return torch.stack([positions[k][torch.randperm(n, generator=g)] for k, g in enumerate(generators)])
