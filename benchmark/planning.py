"""Planning a suite run: every row resolved to a configuration and checked before anything touches MLflow.

A row's model, modalities (against the store and the model), parameters, frames and precision are
resolved and the model is built once (bad parameters fail here, with the suite file and row named);
each row gets the fingerprint of its parent run, which includes the code identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmark.config import Profile, RunConfig, resolve_config, stable_hash
from benchmark.data import check_frames
from benchmark.params import ParamError
from benchmark.suite import Suite, SuiteRow
from features.store import FeatureStore


@dataclass(frozen=True)
class PlannedRow:
    row: SuiteRow
    config: RunConfig
    parent_fingerprint: str
    n_parameters: int = 0  # trainable parameters of the row's model on this store's dims
    code_fingerprint: str = ""  # the identity of the code that computes the row (model and training loop)
    precision_choice: str = ""  # how --precision resolved (benchmark.auto_precision), for the parent's tag


def count_parameters(model) -> int:
    """Trainable parameters of a torch model, or an estimator's own ``n_parameters()``."""
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    return int(model.n_parameters())


def plan_rows(
    suite: Suite,
    store: FeatureStore,
    profile: Profile,
    train_overrides: dict[str, Any],
    split_source: str = "",
    *,
    precision: str = "auto",
    device: str = "cpu",
    threads: int | None = None,
) -> list[PlannedRow]:
    """Resolve and check every runnable row (``device``: resolved, and ``threads``: the torch threads of each
    training process, for ``--precision auto``); an error names the suite file and row."""
    from benchmark.precision import check_precision

    check_precision(precision)
    planned: list[PlannedRow] = []
    counts: dict[str, int] = {}  # parameter counts by config fingerprint: each configuration is built once
    for row in suite.runnable_rows:
        try:
            planned.append(
                _plan_row(suite, row, store, profile, train_overrides, split_source, precision, device, counts, threads)
            )
        except ParamError as exc:
            raise ParamError(f"suite {row.origin or suite.name}, row {row.name!r}: {exc}") from None
    return planned


def _plan_row(
    suite: Suite,
    row: SuiteRow,
    store: FeatureStore,
    profile: Profile,
    train_overrides: dict[str, Any],
    split_source: str,
    precision: str,
    device: str,
    counts: dict[str, int],
    threads: int | None = None,
) -> PlannedRow:
    from baselines import build_model
    from baselines.registry import check_modalities
    from benchmark.auto_precision import resolve
    from benchmark.code_identity import code_fingerprint

    config = resolve_config(
        model=row.trained_model,
        modalities=list(row.modalities),
        row_params=row.params,
        profile=profile,
        train_overrides=train_overrides,
    )
    missing = [m for m in config.modalities if m not in store.arrays]
    if missing:
        raise ParamError(
            f"row {row.name!r} needs modality {missing[0]!r}, which the store {store.path} does not have "
            f"(it has {', '.join(store.arrays)})"
        )
    check_modalities(config.model, config.modalities)
    check_frames(config.train.frames, store, f"profile {profile.name!r}")
    config, choice = resolve(config, precision, device, store.dims, threads)
    if config.fingerprint not in counts:  # a dry build catches bad model parameters early
        model = build_model(
            config.model, {m: store.dims[m] for m in config.modalities}, len(store.classes), config.params
        )
        counts[config.fingerprint] = count_parameters(model)
    code = code_fingerprint(config.model)
    key = stable_hash([suite.name, row.table, row.name, config.fingerprint, store.fingerprint, split_source, code])
    return PlannedRow(row, config, key, counts[config.fingerprint], code, choice)
