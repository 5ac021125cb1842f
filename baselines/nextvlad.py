"""NeXtVLAD (Lin, Xiao and Fan, ECCV Workshops 2018): aggregates T frame features into one vector.

Expansion FC (lambda), per-group sigmoid attention, soft assignment of each expanded frame to K
clusters per group (FC without bias, BN, softmax over K), residuals to centres shared by all groups,
weighted by attention and assignment and summed over frames and groups; intra-normalisation (L2 per
cluster), flatten to lambda*N*K/G, BN. A frame mask zeroes the attention of missing frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.params import check_divisible, check_int

#: ``bench tune`` spaces of NeXtVLAD's parameters, for every model built on it (the paper tunes alpha, Table 3).
NEXTVLAD_SEARCH_SPACE = {
    "alpha": {
        "type": int,
        "doc": "NeXtVLAD clusters K (paper Table 3; the paper uses 4)",
        "choices": (2, 4, 8, 16),
        "minimum": 1,
    },
    "groups": {"type": int, "doc": "NeXtVLAD groups G (the paper uses 8)", "choices": (2, 4, 8, 16), "minimum": 1},
    "expansion": {
        "type": int,
        "doc": "NeXtVLAD expansion lambda (the paper uses 2)",
        "choices": (1, 2, 4),
        "minimum": 1,
    },
}


class NeXtVLAD(nn.Module):
    def __init__(self, dim: int, clusters: int = 4, groups: int = 8, expansion: int = 2):
        super().__init__()
        check_int("dim", dim, low=1)
        check_int("clusters (alpha)", clusters, low=1)
        check_int("groups", groups, low=1)
        check_int("expansion", expansion, low=1)
        check_divisible("expansion*dim", expansion * dim, groups, "groups")
        self.clusters, self.groups = clusters, groups
        self.group_dim = expansion * dim // groups
        self.expand = nn.Linear(dim, expansion * dim)
        self.attention = nn.Linear(expansion * dim, groups)
        self.assign = nn.Linear(expansion * dim, groups * clusters, bias=False)
        self.assign_bn = nn.BatchNorm1d(groups * clusters)
        self.centers = nn.Parameter(0.01 * torch.randn(clusters, self.group_dim))
        self.out_bn = nn.BatchNorm1d(self.output_dim)

    @property
    def output_dim(self) -> int:
        """lambda * N * K / G."""
        return self.clusters * self.group_dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, frames, _ = x.shape
        x = self.expand(x)  # [B, T, lambda*N]
        attention = torch.sigmoid(self.attention(x))  # [B, T, G]
        if mask is not None:
            attention = attention * mask.unsqueeze(-1).to(attention.dtype)
        logits = self.assign(x).reshape(batch * frames, -1)
        # softmax in fp32 under bf16 autocast (CUDA's backward refuses a bf16 softmax with a float32 output)
        assignment = torch.softmax(
            self.assign_bn(logits).float().reshape(batch, frames, self.groups, self.clusters), dim=-1
        )
        assignment = assignment * attention.unsqueeze(-1)  # [B, T, G, K]
        grouped = x.reshape(batch, frames, self.groups, self.group_dim)
        vlad = torch.einsum("btgk,btgd->bkd", assignment, grouped)
        vlad = vlad - assignment.sum(dim=(1, 2)).unsqueeze(-1) * self.centers  # residuals to the centres
        vlad = F.normalize(vlad, p=2, dim=-1)  # intra-normalisation
        return self.out_bn(vlad.reshape(batch, -1))
