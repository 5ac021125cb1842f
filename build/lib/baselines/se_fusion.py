"""The SE fusion block of the paper's Eqs. 2-4 (after Hu et al., CVPR 2018).

F1 = ReLU(BN(W1 F)); F2 = sigmoid(W3(BN(ReLU(W2 F1)))); output F1 * F2.
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.params import check_int


class SEFusion(nn.Module):
    def __init__(self, in_dim: int, out_dim: int = 512, reduction: int = 4):
        super().__init__()
        check_int("fusion_dim", out_dim, low=1)
        check_int("se_reduction", reduction, low=1, high=out_dim)
        self.squeeze = nn.Sequential(nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim), nn.ReLU())
        hidden = out_dim // reduction
        self.excite = nn.Sequential(
            nn.Linear(out_dim, hidden), nn.ReLU(), nn.BatchNorm1d(hidden), nn.Linear(hidden, out_dim), nn.Sigmoid()
        )

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        f1 = self.squeeze(fused)
        return f1 * self.excite(f1)
