"""What every fusion model shares: the paper's branches, their parameters, and the registration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from baselines.proposed import DEFAULTS as PROPOSED_DEFAULTS
from baselines.proposed import SEARCH_SPACE as PROPOSED_SEARCH_SPACE
from baselines.proposed import SMALL as PROPOSED_SMALL
from baselines.proposed import build_branches, check_branch_params
from baselines.registry import register_model
from features.format import PAPER_MODALITIES

#: ``proposed``'s branch and classifier parameters (not its SE fusion or component switches).
BRANCH_DEFAULTS: dict[str, Any] = {
    key: PROPOSED_DEFAULTS[key]
    for key in (
        "alpha",
        "groups",
        "expansion",
        "heads",
        "ff_dim",
        "dropout",
        "positional",
        "proj_dims",
        "mlp_hidden",
        "mlp_dropout",
    )
}


class BranchFusionModel(nn.Module):
    """Encoder + NeXtVLAD per modality; ``mix`` may exchange frames between modalities before
    pooling (cross-modal attention); ``fuse`` maps the pooled vectors (in ``modalities`` order) to logits."""

    def __init__(self, dims: Mapping[str, int], params: Mapping[str, Any]):
        super().__init__()
        check_branch_params(dict(params))
        self.modalities = list(dims)
        self.branches = build_branches(dims, dict(params))

    @property
    def widths(self) -> list[int]:
        """The pooled vector width of each modality (NeXtVLAD's lambda*N*K/G)."""
        return [self.branches[m].output_dim for m in self.modalities]  # type: ignore[misc]

    def mix(self, sequences: dict[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return sequences

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self, inputs: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        masks = masks or {}
        sequences = {m: self.branches[m].encode(inputs[m], masks.get(m)) for m in self.modalities}  # type: ignore[operator]
        sequences = self.mix(sequences, masks)
        return self.fuse([self.branches[m].pool(sequences[m], masks.get(m)) for m in self.modalities])  # type: ignore[operator]


def register_fusion(
    name: str,
    model: Callable[..., BranchFusionModel],
    defaults: Mapping[str, Any],
    description: str,
    small: Mapping[str, Any] | None = None,
) -> Callable:
    """Register ``model`` under ``name`` with the branch defaults plus its own (``small``: its own small sizes)."""

    @register_model(
        name,
        defaults={**BRANCH_DEFAULTS, **defaults},
        description=description,
        permutation_invariant=lambda params: params.get("positional", "none") == "none",
        modalities=PAPER_MODALITIES,
        check_params={**PROPOSED_SMALL, **(small or {})},
        search_space={k: v for k, v in PROPOSED_SEARCH_SPACE.items() if k in BRANCH_DEFAULTS},
        code_modules=(model.__module__,),
    )
    def build(dims: Mapping[str, int], n_classes: int, **params) -> BranchFusionModel:
        return model(dims, n_classes, **params)

    return build
