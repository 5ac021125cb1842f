"""K copies of one architecture as one vectorised model (``torch.func.stack_module_state`` + ``vmap``).

Parameters and buffers are stacked along a leading split axis, so every split has its own weights
and its own BatchNorm running statistics (``vmap`` updates the stacked buffers in place, one slice
per split). Attention runs on the math SDPA backend: it decomposes into matmul and softmax, which
``vmap`` batches, whereas the fused CPU kernels have no batching rule (vmap would loop over splits).
The MHA "fast path" used in eval mode is switched off for the same reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from torch import nn


def build_models(
    model: str, dims: Mapping[str, int], n_classes: int, params: Mapping, seeds: Sequence[int]
) -> list[nn.Module]:
    """One model per seed, initialised exactly as the plain loop does (``torch.manual_seed(seed)`` then build)."""
    from baselines import build_model

    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(build_model(model, dims, n_classes, params))
    return models


@contextmanager
def vmap_friendly_attention() -> Iterator[None]:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel([SDPBackend.MATH]):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


def fp32_batchnorm_inputs(module: nn.Module) -> None:
    """Feed every BatchNorm of ``module`` float32 inputs.

    Under bf16 autocast on the CPU, BatchNorm gets bf16 activations with fp32 statistics; the plain
    kernel accepts that mix, but under ``vmap`` it fails ("expected scalar type BFloat16 but found
    Float"). Casting the input up keeps the normalisation in fp32; the next matmul casts down again.
    """
    for child in module.modules():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            child.register_forward_pre_hook(lambda _, args: (args[0].float(), *args[1:]))


def fp32_attention(module: nn.Module) -> None:
    """Run every ``nn.MultiheadAttention`` of ``module`` in float32, outside autocast.

    Under ``vmap`` the math attention is decomposed in the autocast region: its softmax gets bf16
    scores (seen on the CPU), which CUDA's autocast turns into a softmax with a float32 output whose
    backward CUDA refuses ("expected input and grad types to match": the engine's first bf16 step on an
    H200). The plain loop's math attention upcasts to float32 by itself, so this also brings the
    engine's attention to the plain loop's precision; the other layers keep bf16 matmuls.
    """

    def floats(value):
        return value.float() if torch.is_tensor(value) and value.is_floating_point() else value

    for child in module.modules():
        if isinstance(child, nn.MultiheadAttention):

            def forward(*args, _original=child.forward, **kwargs):
                device = next(a for a in args if torch.is_tensor(a)).device.type
                with torch.autocast(device, enabled=False):
                    return _original(*map(floats, args), **{k: floats(v) for k, v in kwargs.items()})

            child.forward = forward  # type: ignore[method-assign]


class StackedModel:
    """Calls K models at once: inputs carry a leading split axis ``[K, B, ...]``, outputs too."""

    def __init__(self, models: Sequence[nn.Module], device: str | torch.device = "cpu"):
        from torch.func import stack_module_state

        if not models:
            raise ValueError("StackedModel needs at least one model")
        self.params, self.buffers = stack_module_state([m.to(device) for m in models])
        self.base = copy.deepcopy(models[0]).to("meta")
        self.k = len(models)

    def _one(self, params, buffers, inputs, masks):
        from torch.func import functional_call

        return functional_call(self.base, (params, buffers), (inputs, masks))

    def function(self):
        """``f(params, buffers, inputs, masks) -> logits [K, B, C]`` (what ``torch.compile`` may wrap)."""
        from torch.func import vmap

        return vmap(self._one, randomness="different")

    def __call__(self, inputs, masks):
        """Logits ``[K, B, C]`` for inputs ``{m: [K, B, T, D]}`` and masks ``{m: [K, B, T]}``."""
        with vmap_friendly_attention():
            return self.function()(self.params, self.buffers, inputs, masks)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def train(self, mode: bool = True) -> StackedModel:
        self.base.train(mode)
        return self

    def eval(self) -> StackedModel:
        return self.train(False)

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Split ``k``'s own parameters and buffers, as ``model.state_dict()`` of a plain model would hold."""
        return {name: t[k].detach() for name, t in {**self.params, **self.buffers}.items()}
