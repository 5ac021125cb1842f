"""Tensor Fusion Network (Zadeh et al., EMNLP 2017, "Tensor Fusion Network for Multimodal Sentiment
Analysis"), on the pooled NeXtVLAD vectors.

Each modality vector is first projected small enough for the outer product to fit memory,
z_m = ReLU(W_m v_m) in R^d (d = ``tfn_dim``), then extended by a constant 1 so that the product keeps
the unimodal and bimodal terms: z^m = [z_m; 1]. The fused tensor is the outer product
Z = z^1 (x) z^2 (x) z^3, flattened to (d+1)^M values, and goes into the MLP classifier (Zadeh et al.'s
"sentiment inference subnetwork"). Default d = 16: (16+1)^3 = 4,913 fused values.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import mlp
from baselines.fusion.base import BranchFusionModel, register_fusion
from benchmark.params import check_int


class TensorFusion(BranchFusionModel):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__(dims, params)
        d = check_int("tfn_dim", params["tfn_dim"], low=1)
        self.project = nn.ModuleList(nn.Sequential(nn.Linear(w, d), nn.ReLU()) for w in self.widths)
        self.classifier = mlp((d + 1) ** len(self.widths), params["mlp_hidden"], n_classes, params["mlp_dropout"])

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        fused = None
        for project, v in zip(self.project, pooled):
            z = project(v)
            z = torch.cat([z, torch.ones_like(z[:, :1])], dim=1)  # [z_m; 1]
            fused = z if fused is None else (fused.unsqueeze(2) * z.unsqueeze(1)).flatten(1)  # outer product
        return self.classifier(fused)


build_tfn = register_fusion(
    "fusion_tfn",
    TensorFusion,
    {"tfn_dim": 16},
    "Fusion: Tensor Fusion Network (Zadeh et al. 2017)",
    small={"tfn_dim": 4},
)
