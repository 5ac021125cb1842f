"""Late fusion: one classifier per modality, their log-probabilities averaged.

For modality m with pooled vector v_m: log p_m = log_softmax(MLP_m(v_m)); the model's logits are
sum_m w_m log p_m, with w_m = 1/M (``weights = "mean"``) or w = softmax(a) over learned scalars a
(``weights = "learned"``). The classic decision-level fusion baseline (e.g. Snoek, Worring and
Smeulders, ACM MM 2005, "Early versus late fusion in semantic video analysis").
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import mlp
from baselines.fusion.base import BranchFusionModel, register_fusion
from benchmark.params import check_choice


class LateFusion(BranchFusionModel):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__(dims, params)
        check_choice("weights", params["weights"], ["mean", "learned"])
        self.heads = nn.ModuleList(mlp(w, params["mlp_hidden"], n_classes, params["mlp_dropout"]) for w in self.widths)
        self.weight_logits = nn.Parameter(torch.zeros(len(self.widths))) if params["weights"] == "learned" else None

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        log_probs = torch.stack(
            [torch.log_softmax(head(v).float(), dim=-1) for head, v in zip(self.heads, pooled)]
        )  # [M, B, C], fp32
        if self.weight_logits is None:
            return log_probs.mean(dim=0)
        return torch.einsum("m,mbc->bc", torch.softmax(self.weight_logits, dim=0), log_probs)


build_late = register_fusion(
    "fusion_late", LateFusion, {"weights": "mean"}, "Fusion: a classifier per modality, log-probabilities averaged"
)
