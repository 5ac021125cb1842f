"""Cross-modal attention before pooling, in the spirit of the Multimodal Transformer (Tsai et al.,
ACL 2019, "Multimodal Transformer for Unaligned Multimodal Language Sequences").

After each modality's encoder layer, every target modality t attends to every other modality s with
one crossmodal attention block (queries from t, keys and values from s; pre-LayerNorm as in MulT):

    X_t' = X_t + sum_{s != t} MHA(LN(X_t), LN(X_s), LN(X_s))       (keys: s's valid frames only)
    X_t'' = X_t' + FFN(LN(X_t'))

then NeXtVLAD pools X_t'' over t's valid frames, and the pooled vectors are concatenated into the
MLP classifier (MulT concatenates its crossmodal outputs and predicts with an MLP as well). Sources
are summed rather than concatenated so that NeXtVLAD keeps the paper's widths. A source without a
single valid frame contributes nothing (its attention output is zeroed), so masked frames never
reach the output. No positional encoding (the paper's branches have none): order-free.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from baselines.branches import mlp, padding_mask
from baselines.fusion.base import BranchFusionModel, register_fusion


class CrossModalAttention(BranchFusionModel):
    def __init__(self, dims: Mapping[str, int], n_classes: int, **params):
        super().__init__(dims, params)
        width = {m: self.branches[m].width for m in self.modalities}
        heads, ff, dropout = params["heads"], params["ff_dim"], params["dropout"]
        self.query_norm = nn.ModuleDict({t: nn.LayerNorm(width[t]) for t in self.modalities})
        self.source_norm = nn.ModuleDict({s: nn.LayerNorm(width[s]) for s in self.modalities})
        self.attention = nn.ModuleDict(
            {
                f"{s}_to_{t}": nn.MultiheadAttention(
                    width[t], heads, dropout=dropout, kdim=width[s], vdim=width[s], batch_first=True
                )
                for t in self.modalities
                for s in self.modalities
                if s != t
            }
        )
        self.ffn_norm = nn.ModuleDict({t: nn.LayerNorm(width[t]) for t in self.modalities})
        self.ffn = nn.ModuleDict(
            {
                t: nn.Sequential(
                    nn.Linear(width[t], ff),  # type: ignore[arg-type]
                    nn.ReLU(),
                    nn.Dropout(dropout),
                    nn.Linear(ff, width[t]),  # type: ignore[arg-type]
                    nn.Dropout(dropout),
                )
                for t in self.modalities
            }
        )
        self.classifier = mlp(sum(self.widths), params["mlp_hidden"], n_classes, params["mlp_dropout"])

    def mix(self, sequences: dict[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        sources = {s: self.source_norm[s](x) for s, x in sequences.items() if len(self.modalities) > 1}
        mixed = {}
        for t, x in sequences.items():
            query = self.query_norm[t](x)
            for s in self.modalities:
                if s == t:
                    continue
                mask = masks.get(s)
                attended, _ = self.attention[f"{s}_to_{t}"](
                    query, sources[s], sources[s], key_padding_mask=padding_mask(mask), need_weights=False
                )
                if mask is not None:  # a source with no valid frame attends to padding: drop it
                    attended = attended * mask.any(dim=1).to(attended.dtype)[:, None, None]
                x = x + attended
            mixed[t] = x + self.ffn[t](self.ffn_norm[t](x))
        return mixed

    def fuse(self, pooled: list[torch.Tensor]) -> torch.Tensor:
        return self.classifier(torch.cat(pooled, dim=1))


build_crossmodal = register_fusion(
    "fusion_crossmodal",
    CrossModalAttention,
    {},
    "Fusion: cross-modal attention before pooling (after MulT, Tsai et al. 2019)",
)
