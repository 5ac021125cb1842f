"""The paper's Table 1 NeXtVLAD row: Lin et al.'s YouTube-8M model applied to the three modalities.

Per modality a NeXtVLAD straight on the frame features (no encoder), concatenation, dropout, FC with
BN, context gating, and a linear classifier. The skeleton is projected to 128 (2*99 is not divisible
by 8 groups). ``hidden`` 1024 and ``dropout`` 0.5 are our choices (the paper gives none).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import projection
from baselines.nextvlad import NEXTVLAD_SEARCH_SPACE, NeXtVLAD
from baselines.registry import register_model
from benchmark.params import check_float, check_int
from features.format import PAPER_MODALITIES

DEFAULTS = {
    "alpha": 4,
    "groups": 8,
    "expansion": 2,
    "proj_dims": {"visual": 0, "audio": 0, "skeleton": 128},
    "hidden": 1024,
    "dropout": 0.5,
}


class ContextGating(nn.Module):
    """y = x * sigmoid(BN(W x)) (Miech et al. 2017), as in NeXtVLAD's classifier head."""

    def __init__(self, dim: int):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim, bias=False), nn.BatchNorm1d(dim), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class NeXtVLADBaseline(nn.Module):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__()
        p = {**DEFAULTS, **params}
        check_int("hidden", p["hidden"], low=1)
        check_float("dropout", p["dropout"], low=0.0, high=1.0)
        self.modalities = list(dims)
        self.projections = nn.ModuleDict()
        self.vlads = nn.ModuleDict()
        for m, dim in dims.items():
            self.projections[m], width = projection(dim, int(p["proj_dims"].get(m, 0)))
            self.vlads[m] = NeXtVLAD(width, clusters=p["alpha"], groups=p["groups"], expansion=p["expansion"])
        fused = sum(v.output_dim for v in self.vlads.values())  # type: ignore[misc]
        self.head = nn.Sequential(
            nn.Dropout(p["dropout"]),
            nn.Linear(fused, p["hidden"], bias=False),
            nn.BatchNorm1d(p["hidden"]),
            ContextGating(p["hidden"]),
            nn.Linear(p["hidden"], n_classes),
        )

    def forward(
        self, inputs: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        masks = masks or {}
        pooled = [self.vlads[m](self.projections[m](inputs[m]), masks.get(m)) for m in self.modalities]
        return self.head(torch.cat(pooled, dim=1))


@register_model(
    "nextvlad",
    defaults=DEFAULTS,
    description="Table 1 baseline: NeXtVLAD per modality, context gating",
    modalities=PAPER_MODALITIES,
    check_params={"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "hidden": 32, "dropout": 0.0},
    search_space=NEXTVLAD_SEARCH_SPACE,
)
def build_nextvlad(dims: Mapping[str, int], n_classes: int, **params) -> NeXtVLADBaseline:
    return NeXtVLADBaseline(dims, n_classes, **params)
