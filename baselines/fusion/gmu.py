"""Gated Multimodal Unit (Arevalo et al., ICLR workshop 2017, "Gated Multimodal Units for Information
Fusion"), generalised from two modalities to M, on the pooled NeXtVLAD vectors.

    h_m = tanh(W_m v_m)                                   (h_m in R^d, d = ``fusion_dim``)
    z   = softmax_m(W_z [v_1; ...; v_M])                  (W_z: M*d outputs, softmax over m per unit)
    h   = sum_m z_m * h_m

For M = 2 the softmax over two gates is sigmoid(a_1 - a_2), i.e. Arevalo et al.'s z and 1 - z. h goes
into the MLP classifier.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import mlp
from baselines.fusion.base import BranchFusionModel, register_fusion
from benchmark.params import check_int


class GatedMultimodalUnit(BranchFusionModel):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__(dims, params)
        self.dim = check_int("fusion_dim", params["fusion_dim"], low=1)
        self.hidden = nn.ModuleList(nn.Linear(w, self.dim, bias=False) for w in self.widths)
        self.gate = nn.Linear(sum(self.widths), len(self.widths) * self.dim, bias=False)
        self.classifier = mlp(self.dim, params["mlp_hidden"], n_classes, params["mlp_dropout"])

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        h = torch.stack([torch.tanh(layer(v)) for layer, v in zip(self.hidden, pooled)], dim=1)  # [B, M, d]
        # fp32 under bf16 autocast, as in NeXtVLAD's assignment
        z = torch.softmax(self.gate(torch.cat(pooled, dim=1)).float().reshape(-1, len(pooled), self.dim), dim=1)
        return self.classifier((z * h).sum(dim=1))


build_gmu = register_fusion(
    "fusion_gmu",
    GatedMultimodalUnit,
    {"fusion_dim": 512},
    "Fusion: Gated Multimodal Unit for 3 modalities (Arevalo et al. 2017)",
    small={"fusion_dim": 16},
)
