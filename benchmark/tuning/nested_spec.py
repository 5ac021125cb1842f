"""What defines a nested evaluation (``bench tune --nested``): its spec, its inner divisions, its key.

Plain data and pure functions, shared by the outer split jobs and the orchestration in
:mod:`benchmark.tuning.nested`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from benchmark.config import Profile, stable_hash
from benchmark.protocol import Protocol, resolve_protocol
from benchmark.splits import Split, split_seed, validation_part
from benchmark.tuning.objective import VALIDATION_FRACTION, TuningPart
from benchmark.tuning.space import SearchParam

DEFAULT_INNER_SPLITS = 3


def inner_parts(outer: Split, labels, dataset_fingerprint: str, inner_splits: int) -> list[TuningPart]:
    """``inner_splits`` stratified (fit, validation) divisions of the outer split's training part.

    Seeded from (dataset, outer split, inner split): the same on every machine, different for every
    outer split. Nothing of ``outer.test`` is an input.
    """
    seeds = [split_seed(f"{dataset_fingerprint}:nested:{outer.index}", j) for j in range(inner_splits)]
    return [
        TuningPart(j, *validation_part(outer.train, labels, VALIDATION_FRACTION, seed=seed))
        for j, seed in enumerate(seeds)
    ]


@dataclass(frozen=True)
class NestedSpec:
    """Everything that defines a nested evaluation except its number of outer splits (plain data, so
    worker processes and Dask workers receive it)."""

    store_path: str
    profile: Profile
    space: Mapping[str, SearchParam]
    inner_splits: int
    train_overrides: Mapping[str, Any]
    storage: str
    tracking_uri: str
    device: str = "cpu"
    trials: int | None = None
    sampler: str = "auto"
    prune: bool = True
    seed: int = 0
    study_name: str | None = None  # base name of the per-split studies (default: from the settings)
    model: str = "proposed"  # the tuned model
    plugins: tuple[str, ...] = ()  # plugin specs the workers load (a plugin's model)
    protocol: Protocol | None = None  # the outer splits' protocol (None: the store's)


def outer_protocol(spec: NestedSpec) -> Protocol:
    return spec.protocol or resolve_protocol(spec_store(spec.store_path))


def spec_store(path: str):
    """The store a spec names, read once per process (workers included)."""
    from benchmark.jobs import cached_store as cached

    return cached(path)


def plan_inner_search(spec: NestedSpec, split: Split, study_name: str | None, check: bool = False):
    """The inner search of one outer split (``check``: only verify that every value of the space builds)."""
    from benchmark.tuning.search import plan_search

    store = spec_store(spec.store_path)
    return plan_search(
        store=store,
        profile=spec.profile,
        space=spec.space,
        parts=inner_parts(split, store.labels, store.fingerprint, spec.inner_splits),
        train_overrides=spec.train_overrides,
        device=spec.device,
        study_name=study_name,
        trials=spec.trials,
        sampler=spec.sampler,
        prune=spec.prune,
        seed=spec.seed,
        check=check,
        model=spec.model,
        extra_settings={
            "nested": True,
            "outer_split": split.index,
            "outer_split_digest": split.digest(store.ids),
            "outer_split_source": split.source,
        },
    )


def nested_key(spec: NestedSpec) -> dict[str, Any]:
    """What the nested evaluation computes, outer split count aside (the base study name's hash); an
    official split's digests join it (the default protocol's key is what it always was)."""
    store = spec_store(spec.store_path)
    protocol = outer_protocol(spec)
    splits = (protocol.with_count(1) if protocol.kind == "random" else replace(protocol, n_splits=None)).splits(store)
    plan = plan_inner_search(spec, splits[0], None)
    settings = {k: v for k, v in plan.settings.items() if not k.startswith("outer_split")}
    extra = {k: v for k, v in protocol.settings(store, splits).items() if k != "split_source"}
    return {**settings, "split_source": protocol.source, **extra, "target": plan.target}


def base_name(spec: NestedSpec, key: Mapping[str, Any]) -> str:
    """The studies' base name: from the settings, not the number of trials (``--trials`` grows a TPE study)."""
    settings = {k: v for k, v in key.items() if k != "target"}
    prefix = "" if spec.model == "proposed" else f"{spec.model}-"
    return spec.study_name or f"{prefix}{'+'.join(spec.space)}-{spec.profile.name}-nested-{stable_hash(settings)[:8]}"


def label_of(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
