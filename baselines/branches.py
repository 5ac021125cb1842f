"""Per-modality input handling shared by the models: projection, positional encoding, masks."""

from __future__ import annotations

import math

import torch
from torch import nn


def projection(dim: int, proj_dim: int) -> tuple[nn.Module, int]:
    """A linear projection to ``proj_dim`` (0 keeps the input as it is)."""
    if proj_dim and proj_dim != dim:
        return nn.Linear(dim, proj_dim), proj_dim
    return nn.Identity(), dim


class SinusoidalPositions(nn.Module):
    """Vaswani et al.'s fixed positional encoding, added to the frame features."""

    def __init__(self, dim: int, max_frames: int = 4096):
        super().__init__()
        position = torch.arange(max_frames).unsqueeze(1)
        scale = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        table = torch.zeros(max_frames, dim)
        table[:, 0::2] = torch.sin(position * scale)
        table[:, 1::2] = torch.cos(position * scale[: dim // 2])
        self.register_buffer("table", table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]].to(x.dtype)  # type: ignore[index]


def padding_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """Key padding mask for attention (True = ignore); videos with no valid frame attend to all,
    which avoids NaN from an all-masked softmax (their aggregation weight is zero anyway)."""
    if mask is None:
        return None
    mask = mask.bool()
    return ~(mask | ~mask.any(dim=1, keepdim=True))


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[B, T, D] -> [B, D]: the mean over valid frames (zeros for a video with none)."""
    if mask is None:
        return x.mean(dim=1)
    weight = mask.to(x.dtype).unsqueeze(-1)
    return (x * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)


def mlp(in_dim: int, hidden: int, n_classes: int, dropout: float) -> nn.Sequential:
    """The paper's classifier after fusion: Linear, ReLU, dropout, Linear."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))
