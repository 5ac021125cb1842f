"""The model registry: suites name models as strings, and one contract runs over every entry.

Like timm's ``register_model``: a module defines a builder and decorates it. Importing ``baselines``
imports every built-in model module; a user's model enters the same registry from a plugin (a file or
module named by a suite's ``plugins``, by ``--plugin``, or by an installed distribution's
``ver_bench.models`` entry point, see :mod:`baselines.plugins`). The public import for plugins is::

    from baselines.registry import register_model
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from benchmark.params import ParamError

KINDS = ("torch", "estimator")


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
    #: True when the output cannot depend on frame order (given the params); the contract checks it.
    permutation_invariant: Callable[[Mapping[str, Any]], bool] = lambda params: True
    #: Named parameter settings worth listing on their own (``bench models`` counts their parameters).
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The modalities the model can take (None: any modality the store declares).
    modalities: tuple[str, ...] | None = None
    #: Parameter overrides that make the model small, for the contract check at small dims.
    check_params: Mapping[str, Any] = field(default_factory=dict)
    #: ``bench tune --model NAME --param P``: the model's searchable parameters (see benchmark.tuning.space).
    search_space: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Modules whose code computes the model (the builder's module is always one); the code identity starts here.
    code_modules: tuple[str, ...] = ()
    #: Where the model came from: "built-in", or the plugin (file path, module or entry point) that registered it.
    origin: str = "built-in"


_REGISTRY: dict[str, ModelEntry] = {}
_LOADING: list[str] = []  # the origins of the plugins being imported (innermost last)

#: Called with a model name the registry does not know (None: "every model"); :mod:`baselines.plugins`
#: installs the loader of installed ``ver_bench.models`` entry points here.
MISSING_HOOKS: list[Callable[[str | None], None]] = []


_EXTENSIONS: list[tuple[str, str, str]] = []  # (origin, kind, name) of metrics and corruptions plugins registered


def note_extension(kind: str, name: str) -> None:
    """Called by the metric and corruption registries: a plugin that registers only those is a plugin too."""
    if _LOADING:
        _EXTENSIONS.append((_LOADING[-1], kind, name))


def extensions_of(origin: str) -> list[str]:
    """``kind name`` of what the plugin ``origin`` registered besides models."""
    return [f"{kind} {name}" for o, kind, name in _EXTENSIONS if o == origin]


@contextmanager
def loading(origin: str) -> Iterator[None]:
    """Models registered inside this block record ``origin`` (the plugin file or module)."""
    _LOADING.append(origin)
    try:
        yield
    finally:
        _LOADING.pop()


def register_model(
    name: str,
    *,
    kind: str = "torch",
    defaults: Mapping[str, Any] | None = None,
    description: str = "",
    permutation_invariant: Callable[[Mapping[str, Any]], bool] | None = None,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
    modalities: Sequence[str] | None = None,
    check_params: Mapping[str, Any] | None = None,
    search_space: Mapping[str, Mapping[str, Any]] | None = None,
    code_modules: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``build(dims, n_classes, **params)`` under ``name``.

    ``defaults`` are every parameter the builder takes (a suite row may override only these);
    ``modalities`` limits the modalities a row may give it; ``check_params`` makes it small for
    ``bench check-model``; ``search_space`` maps a parameter to ``{"type": int|float, "choices": [...]}``
    or ``{"type": float, "low": .., "high": .., "log": bool}`` for ``bench tune``.
    """

    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a model name is a non-empty string, got {name!r}")
        if name in _REGISTRY:
            where = _REGISTRY[name].origin
            raise ValueError(f"model {name!r} is already registered ({where}); choose another name")
        if kind not in KINDS:
            raise ValueError(f"model {name!r}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        check_builder_signature(name, build, defaults or {})
        _REGISTRY[name] = ModelEntry(
            name=name,
            build=build,
            kind=kind,
            defaults=dict(defaults or {}),
            description=description or (build.__doc__ or "").strip().split("\n")[0],
            permutation_invariant=permutation_invariant or (lambda params: True),
            variants=dict(variants or {}),
            modalities=tuple(modalities) if modalities is not None else None,
            check_params=dict(check_params or {}),
            search_space={key: dict(spec) for key, spec in (search_space or {}).items()},
            code_modules=tuple(dict.fromkeys([build.__module__, *code_modules])),
            origin=_LOADING[-1] if _LOADING else "built-in",
        )
        return build

    return decorator


def check_builder_signature(name: str, build: Callable[..., Any], defaults: Mapping[str, Any]) -> None:
    """The harness calls ``build(dims=..., n_classes=..., **params)``: a builder that cannot take that is refused."""
    if not callable(build):
        raise ValueError(f"model {name!r}: the registered builder is not callable")
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to inspect
    try:
        signature.bind(dims={}, n_classes=2, **dict(defaults))
    except TypeError as exc:
        raise ValueError(
            f"model {name!r}: builder {build.__name__}{signature} does not fit build(dims, n_classes, **params) "
            f"with its defaults ({exc})"
        ) from None


def list_models() -> list[str]:
    """Every registered name, entry-point plugins included (they load here, once)."""
    for hook in MISSING_HOOKS:
        hook(None)
    return sorted(_REGISTRY)


def registered() -> list[str]:
    """The names registered so far, without loading entry points (for diffs while a plugin loads)."""
    return sorted(_REGISTRY)


def get_model(name: str) -> ModelEntry:
    for hook in MISSING_HOOKS if name not in _REGISTRY else ():
        hook(name)  # an installed distribution may provide it
    if name not in _REGISTRY:
        raise ParamError(
            f"unknown model {name!r}; registered models: {', '.join(sorted(_REGISTRY))} "
            "(a model of your own enters with --plugin FILE, a suite's plugins = [...], or a ver_bench.models entry "
            "point)"
        )
    return _REGISTRY[name]


def entries() -> dict[str, ModelEntry]:
    """A copy of the registry (name -> entry), without loading entry points."""
    return dict(_REGISTRY)


def unregister(name: str) -> None:
    """Remove a model (tests and plugin loading that failed half-way)."""
    _REGISTRY.pop(name, None)


def check_modalities(name: str, modalities: Sequence[str]) -> None:
    """A row asking a model for a modality it has no branch for is an input error naming both."""
    entry = get_model(name)
    if entry.modalities is None:
        return
    extra = [m for m in modalities if m not in entry.modalities]
    if extra:
        raise ParamError(
            f"model {name!r} models only {', '.join(entry.modalities)}; it has no branch for modality {extra[0]!r} "
            "(use a model of your own for other modalities)"
        )


def resolve_params(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The model's defaults updated with ``overrides``; unknown keys are an error, not ignored."""
    entry = get_model(name)
    params = {key: _copy(value) for key, value in entry.defaults.items()}
    for key, value in (overrides or {}).items():
        if key not in params:
            raise ParamError(f"model {name!r} has no parameter {key!r}; it has: {', '.join(sorted(params)) or 'none'}")
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
