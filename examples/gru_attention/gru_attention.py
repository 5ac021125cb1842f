"""A model of another design than the built-ins: a GRU per modality with attention pooling.

An example plugin (docs/guide/own-model.md). Each modality's frames go through a
one-layer bidirectional GRU; a learned query scores every frame and the masked softmax of the scores
pools the GRU states into one vector; the modality vectors are concatenated and classified. Masked
frames get zero weight, and a video without any valid frame of a modality contributes zeros for it.
The GRU reads frames in order, so the output depends on frame order: the model says so
(``permutation_invariant``) and ``bench check-model`` skips that check.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.registry import register_model


class AttentionPool(nn.Module):
    """Softmax over the valid frames of a learned score per frame (zeros where no frame is valid)."""

    def __init__(self, width: int):
        super().__init__()
        self.score = nn.Linear(width, 1)

    def forward(self, states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        scores = self.score(states).squeeze(-1).float()  # softmax in fp32 under bf16 (bench check-model asks it)
        if mask is None:
            return (scores.softmax(dim=1).unsqueeze(-1) * states).sum(dim=1)
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.nan_to_num(scores.softmax(dim=1), nan=0.0)  # all frames masked: all weights 0
        return (weights.unsqueeze(-1) * (states * mask.unsqueeze(-1))).sum(dim=1)


class GRUAttention(nn.Module):
    def __init__(self, dims: Mapping[str, int], n_classes: int, hidden: int, dropout: float):
        super().__init__()
        self.modalities = list(dims)
        self.grus = nn.ModuleDict({m: nn.GRU(d, hidden, batch_first=True, bidirectional=True) for m, d in dims.items()})
        self.pools = nn.ModuleDict({m: AttentionPool(2 * hidden) for m in dims})
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden * len(dims), n_classes))

    def forward(
        self, inputs: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        masks = masks or {}
        pooled = []
        for m in self.modalities:
            x, mask = inputs[m], masks.get(m)
            if mask is not None:
                x = x * mask.unsqueeze(-1)  # masked frames carry nothing into the recurrence
            states, _ = self.grus[m](x)
            pooled.append(self.pools[m](states, mask))
        return self.classifier(torch.cat(pooled, dim=1))


@register_model(
    "gru_attention",
    defaults={"hidden": 64, "dropout": 0.2},
    description="Example plugin: bidirectional GRU per modality, attention pooling, linear classifier",
    permutation_invariant=lambda params: False,
    check_params={"hidden": 8, "dropout": 0.0},
    search_space={"hidden": {"type": int, "choices": (32, 64, 128), "doc": "GRU width per direction"}},
)
def build_gru_attention(dims: Mapping[str, int], n_classes: int, hidden: int, dropout: float) -> GRUAttention:
    return GRUAttention(dims, n_classes, hidden, dropout)
