"""Low-rank Multimodal Fusion (Liu et al., ACL 2018, "Efficient Low-rank Multimodal Fusion with
Modality-Specific Factors"), on the pooled NeXtVLAD vectors.

TFN's weight tensor W applied to Z = (x)_m [v_m; 1] is decomposed into ``rank`` r modality-specific
factors W_m^(i) of shape (d_m+1) x h, so the fused vector is computed without forming Z:

    h = sum_{i=1..r} lambda_i * prod_m (W_m^(i) [v_m; 1]) + b      (product elementwise over m)

with h = ``fusion_dim`` (512, as SE fusion's output) and learned fusion weights lambda and bias b as in
the authors' code (initialisation: see ``_factor``). h goes into the MLP classifier. Default rank 4 (Liu et al.
search 1-16).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import mlp
from baselines.fusion.base import BranchFusionModel, register_fusion
from benchmark.params import check_int


def _factor(rank: int, width: int, out: int) -> torch.Tensor:
    """W_m^(i) for every rank i: N(0, 1/(d_m+1)) on the vector's rows (unit-variance outputs for a
    standardised v_m), 1 on the constant's row, so each factor starts as 1 + W v_m and the product over
    modalities starts close to 1 + sum_m W_m v_m: an uninformative modality does not multiply the
    others' signal away at initialisation (our choice; with Liu et al.'s Xavier init the product of
    three small factors trained poorly here: tests/baselines/test_fusion_planted.py)."""
    factor = torch.randn(rank, width + 1, out) / (width + 1) ** 0.5
    factor[:, -1, :] = 1.0
    return factor


class LowRankFusion(BranchFusionModel):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__(dims, params)
        rank = check_int("rank", params["rank"], low=1)
        out = check_int("fusion_dim", params["fusion_dim"], low=1)
        self.factors = nn.ParameterList(nn.Parameter(_factor(rank, w, out)) for w in self.widths)
        self.fusion_weights = nn.Parameter(nn.init.xavier_normal_(torch.empty(1, rank)))
        self.fusion_bias = nn.Parameter(torch.zeros(out))
        self.classifier = mlp(out, params["mlp_hidden"], n_classes, params["mlp_dropout"])

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        product = None
        for factor, v in zip(self.factors, pooled):
            z = torch.cat([v, torch.ones_like(v[:, :1])], dim=1)  # [v_m; 1]
            term = torch.einsum("bd,rdh->brh", z, factor)  # W_m^(i) [v_m; 1] for every rank i
            product = term if product is None else product * term
        fused = torch.einsum("r,brh->bh", self.fusion_weights[0], product) + self.fusion_bias
        return self.classifier(fused)


build_lmf = register_fusion(
    "fusion_lmf",
    LowRankFusion,
    {"rank": 4, "fusion_dim": 512},
    "Fusion: Low-rank Multimodal Fusion (Liu et al. 2018)",
    small={"rank": 2, "fusion_dim": 16},
)
