"""The paper's model (section 2): per modality an encoder layer and a NeXtVLAD; SE fusion; MLP.

Choices where the paper is silent are the defaults below, in this one place:
- ``proj_dims``: a linear projection before the encoder; the skeleton's 99 dims are projected to 128
  (99 is not divisible by 4 heads, nor 2*99 by 8 groups); 0 keeps a modality's own width.
- ``positional``: "none" (default; the paper mentions none, and NeXtVLAD is order-free) or
  "sinusoidal".
- ``ff_dim`` 2048 and ``dropout`` 0.1: PyTorch's ``TransformerEncoderLayer`` defaults, which is what
  the paper's "Transformer encoder layer" gives in PyTorch.
- ``fusion_dim`` 512 (Eq. 2, from the paper), ``se_reduction`` 4, ``mlp_hidden`` 256,
  ``mlp_dropout`` 0.5.

Component switches (suite ``components``; all ``true`` is the paper's model):
- ``encoder = false``: NeXtVLAD on the projected frames (no Transformer encoder layer);
- ``nextvlad = false``: the encoder output mean-pooled over valid frames instead of NeXtVLAD;
- ``se = false``: the concatenated branch vectors go straight into the MLP (no SE fusion);
- all three false: a mean-pool + MLP floor.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import SinusoidalPositions, masked_mean, mlp, padding_mask, projection
from baselines.nextvlad import NEXTVLAD_SEARCH_SPACE, NeXtVLAD
from baselines.registry import register_model
from baselines.se_fusion import SEFusion
from benchmark.params import ParamError, check_choice, check_divisible, check_float, check_int
from features.format import PAPER_MODALITIES

DEFAULTS = {
    "alpha": 4,
    "groups": 8,
    "expansion": 2,
    "heads": 4,
    "ff_dim": 2048,
    "dropout": 0.1,
    "positional": "none",
    "proj_dims": {"visual": 0, "audio": 0, "skeleton": 128},
    "fusion_dim": 512,
    "se_reduction": 4,
    "mlp_hidden": 256,
    "mlp_dropout": 0.5,
    "encoder": True,
    "nextvlad": True,
    "se": True,
}

#: Small sizes for ``bench check-model`` at small dims (no dropout, so outputs are deterministic).
SMALL = {
    "proj_dims": {"visual": 16, "audio": 16, "skeleton": 16},
    "ff_dim": 32,
    "mlp_hidden": 16,
    "dropout": 0.0,
    "mlp_dropout": 0.0,
}

#: ``bench tune --param P`` for this model (the paper tunes alpha, Table 3).
SEARCH_SPACE = {
    **NEXTVLAD_SEARCH_SPACE,
    "dropout": {
        "type": float,
        "doc": "dropout of the Transformer encoder layer",
        "low": 0.0,
        "high": 0.5,
        "minimum": 0.0,
        "maximum": 0.95,
    },
    "heads": {
        "type": int,
        "doc": "attention heads of the encoder layer (the paper uses 4)",
        "choices": (1, 2, 4, 8),
        "minimum": 1,
    },
}


class ModalityBranch(nn.Module):
    """Projection, one Transformer encoder layer, NeXtVLAD (either may be switched off).

    ``encode`` gives the frame sequence (what cross-modal attention mixes), ``pool`` one vector.
    """

    def __init__(
        self,
        dim: int,
        proj_dim: int,
        heads: int,
        ff_dim: int,
        dropout: float,
        positional: str,
        vlad: dict,
        *,
        encoder: bool = True,
        nextvlad: bool = True,
    ):
        super().__init__()
        self.project, width = projection(dim, proj_dim)
        self.width = width
        self.positions = SinusoidalPositions(width) if positional == "sinusoidal" else nn.Identity()
        self.encoder = None
        if encoder:
            check_divisible("encoder width", width, heads, "heads")
            self.encoder = nn.TransformerEncoderLayer(width, heads, ff_dim, dropout, batch_first=True)
        self.vlad = NeXtVLAD(width, **vlad) if nextvlad else None

    @property
    def output_dim(self) -> int:
        return self.vlad.output_dim if self.vlad is not None else self.width

    def encode(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.positions(self.project(x))
        if self.encoder is not None:
            x = self.encoder(x, src_key_padding_mask=padding_mask(mask))
        return x

    def pool(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.vlad(x, mask) if self.vlad is not None else masked_mean(x, mask)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.pool(self.encode(x, mask), mask)


def check_branch_params(p: dict) -> None:
    """Validate the branch parameters shared by ``proposed`` and the fusion models."""
    check_int("heads", p["heads"], low=1)
    check_int("ff_dim", p["ff_dim"], low=1)
    check_float("dropout", p["dropout"], low=0.0, high=1.0)
    check_float("mlp_dropout", p["mlp_dropout"], low=0.0, high=1.0)
    check_int("mlp_hidden", p["mlp_hidden"], low=1)
    check_choice("positional", p["positional"], ["none", "sinusoidal"])


def build_branches(dims: Mapping[str, int], p: dict, *, encoder: bool = True, nextvlad: bool = True) -> nn.ModuleDict:
    """One :class:`ModalityBranch` per modality from the resolved parameters."""
    vlad = {"clusters": p["alpha"], "groups": p["groups"], "expansion": p["expansion"]}
    return nn.ModuleDict(
        {
            m: ModalityBranch(
                dim,
                int(p["proj_dims"].get(m, 0)),
                p["heads"],
                p["ff_dim"],
                p["dropout"],
                p["positional"],
                vlad,
                encoder=encoder,
                nextvlad=nextvlad,
            )
            for m, dim in dims.items()
        }
    )


class ProposedModel(nn.Module):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__()
        p = {**DEFAULTS, **params}
        check_branch_params(p)
        for switch in ("encoder", "nextvlad", "se"):
            if not isinstance(p[switch], bool):
                raise ParamError(f"{switch} must be true or false, got {p[switch]!r}")
        self.modalities = list(dims)
        self.branches = build_branches(dims, p, encoder=p["encoder"], nextvlad=p["nextvlad"])
        fused = sum(branch.output_dim for branch in self.branches.values())  # type: ignore[misc]
        self.fusion = SEFusion(fused, p["fusion_dim"], p["se_reduction"]) if p["se"] else nn.Identity()
        self.classifier = mlp(p["fusion_dim"] if p["se"] else fused, p["mlp_hidden"], n_classes, p["mlp_dropout"])

    def forward(
        self, inputs: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        masks = masks or {}
        pooled = [self.branches[m](inputs[m], masks.get(m)) for m in self.modalities]
        return self.classifier(self.fusion(torch.cat(pooled, dim=1)))


@register_model(
    "proposed",
    defaults=DEFAULTS,
    description="Paper model: encoder + NeXtVLAD per modality, SE fusion, MLP (switches: encoder, nextvlad, se)",
    permutation_invariant=lambda params: params.get("positional", "none") == "none",
    variants={  # the components suite's rows
        "encoder=false": {"encoder": False},
        "nextvlad=false": {"nextvlad": False},
        "se=false": {"se": False},
        "encoder=nextvlad=se=false": {"encoder": False, "nextvlad": False, "se": False},
    },
    modalities=PAPER_MODALITIES,
    check_params=SMALL,
    search_space=SEARCH_SPACE,
)
def build_proposed(dims: Mapping[str, int], n_classes: int, **params) -> ProposedModel:
    return ProposedModel(dims, n_classes, **params)
