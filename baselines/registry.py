"""The model registry: suites name models as strings, and one contract test runs over every entry.

Like timm's ``register_model``: a module defines a builder and decorates it; importing
``baselines`` imports every model module, so the registry is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from benchmark.params import ParamError


@dataclass(frozen=True)
class ModelEntry:
    """What the harness needs to know about a registered model.

    ``kind`` is ``"torch"`` (an ``nn.Module`` trained by the loop, forward(inputs, masks) -> logits)
    or ``"estimator"`` (fit/predict_proba on pooled features, no training loop).
    """

    name: str
    build: Callable[..., Any]
    kind: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    #: True when the output cannot depend on frame order (given the params); the contract test checks it.
    permutation_invariant: Callable[[Mapping[str, Any]], bool] = lambda params: True
    #: Named parameter settings worth listing on their own (``bench models`` counts their parameters).
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    *,
    kind: str = "torch",
    defaults: Mapping[str, Any] | None = None,
    description: str = "",
    permutation_invariant: Callable[[Mapping[str, Any]], bool] | None = None,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(
            name=name,
            build=build,
            kind=kind,
            defaults=dict(defaults or {}),
            description=description or (build.__doc__ or "").strip().splitlines()[0],
            permutation_invariant=permutation_invariant or (lambda params: True),
            variants=dict(variants or {}),
        )
        return build

    return decorator


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_model(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ParamError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name]


def resolve_params(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The model's defaults updated with ``overrides``; unknown keys are an error, not ignored."""
    entry = get_model(name)
    params = {key: _copy(value) for key, value in entry.defaults.items()}
    for key, value in (overrides or {}).items():
        if key not in params:
            raise ParamError(f"model {name!r} has no parameter {key!r}; it has: {', '.join(sorted(params))}")
        if isinstance(params[key], dict) and isinstance(value, Mapping):
            params[key] = {**params[key], **value}
        else:
            params[key] = _copy(value)
    return params


def build_model(name: str, dims: Mapping[str, int], n_classes: int, params: Mapping[str, Any] | None = None) -> Any:
    entry = get_model(name)
    return entry.build(dims=dict(dims), n_classes=n_classes, **resolve_params(name, params))


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
