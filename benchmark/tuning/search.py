"""One ``bench tune`` process: join or create the study, run trials until nothing is left, report.

The loop asks the study what is left before every trial (:mod:`benchmark.tuning.bookkeeping`): for a
grid, the points no done or active trial covers; otherwise the study's total target minus the trials
that count. A rerun of a finished search therefore trains nothing, and several processes stop when
the work is shared out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from benchmark import tracking
from benchmark.config import Profile, stable_hash
from benchmark.data import check_frames
from benchmark.params import ParamError
from benchmark.protocol import Protocol, resolve_protocol
from benchmark.tracking.tags import TAG
from benchmark.tuning import bookkeeping
from benchmark.tuning.objective import VALIDATION_FRACTION, Objective, SkipTrial, TuneContext, TuningPart, tuning_parts
from benchmark.tuning.space import SearchParam, grid, to_payload
from benchmark.tuning.study import DEFAULT_TPE_TRIALS, make_pruner, make_sampler, open_study, use_grid
from features.store import FeatureStore


@dataclass
class SearchResult:
    study: Any
    study_name: str
    storage: str
    grid: bool
    target: int
    ran: int  # trials this process ran to an end (complete, pruned or failed)
    book: bookkeeping.Ledger
    finished: bool  # nothing left to run anywhere
    parent_run_id: str | None
    requeued: list[int]
    precision: str = "fp32"  # what every trial trained at (``--precision`` resolved)


def settings_of(
    store: FeatureStore,
    profile: Profile,
    space: Mapping[str, SearchParam],
    context: TuneContext,
    n_splits: int,
    is_grid: bool,
    prune: bool,
    seed: int,
) -> dict[str, Any]:
    """Everything that defines the objective and the search: a study never mixes two of them.

    The number of trials is not among them: ``--trials`` may grow a TPE study on a later run.
    """
    from benchmark.code_identity import code_fingerprint

    base = context.config({})
    return {
        "dataset_fingerprint": store.fingerprint,
        "dataset": store.name,
        "model": context.model,
        "code_fingerprint": code_fingerprint(context.model),  # a study never mixes trials of two versions of the code
        "space": to_payload(space),
        "profile": profile.name,
        "base_config_fingerprint": base.fingerprint,
        "n_splits": n_splits,
        "validation_fraction": VALIDATION_FRACTION,
        "sampler": "grid" if is_grid else "tpe",
        "prune": prune,
        "seed": seed,
    }


def default_study_name(space: Mapping[str, SearchParam], profile: Profile, settings: Mapping[str, Any]) -> str:
    model = settings.get("model", "proposed")
    prefix = "" if model == "proposed" else f"{model}-"
    return f"{prefix}{'+'.join(space)}-{profile.name}-{stable_hash(dict(settings))[:8]}"


def check_configs(context: TuneContext, space: Mapping[str, SearchParam], is_grid: bool) -> None:
    """Build the model for every grid point (or every listed value) before anything is stored."""
    from baselines import build_model

    store = context.store
    if is_grid:
        names = list(space)
        combos = [dict(zip(names, values)) for values in product(*grid(space).values())]
    else:
        combos = [{p.name: c} for p in space.values() if p.categorical for c in p.choices or ()] or [{}]
    for values in combos:
        config = context.config(values)
        check_frames(config.train.frames, store, f"profile {context.profile.name!r}")
        try:
            build_model(config.model, {m: store.dims[m] for m in config.modalities}, len(store.classes), config.params)
        except ParamError as exc:
            label = ", ".join(f"{k}={v}" for k, v in values.items())
            raise ParamError(f"{label}: {exc} (change the space with --values)") from None


@dataclass
class SearchPlan:
    """One study's objective and search, checked and named, before anything is stored."""

    context: TuneContext
    is_grid: bool
    grid_size: int
    target: int
    settings: dict[str, Any]
    name: str
    epochs: int


def plan_search(
    *,
    store: FeatureStore,
    profile: Profile,
    space: Mapping[str, SearchParam],
    parts: list[TuningPart],
    train_overrides: Mapping[str, Any],
    device: str,
    study_name: str | None,
    trials: int | None = None,
    sampler: str = "auto",
    prune: bool = True,
    seed: int = 0,
    extra_settings: Mapping[str, Any] | None = None,
    check: bool = True,
    precision: str = "auto",
    model: str = "proposed",
) -> SearchPlan:
    """The objective over ``parts`` and the sampler's target; ``extra_settings`` join the study's settings
    (and so its default name), e.g. the outer split of a nested evaluation."""
    is_grid = use_grid(space, sampler)
    if trials is not None and trials < 1:
        raise ParamError(f"--trials must be >= 1, got {trials}")
    grid_size = len(list(product(*grid(space).values()))) if is_grid else 0
    target = min(trials, grid_size) if is_grid and trials else grid_size if is_grid else (trials or DEFAULT_TPE_TRIALS)
    context = TuneContext(store, profile, space, parts, dict(train_overrides), device, target, precision, model)
    if check:
        check_configs(context, space, is_grid)
    settings = {
        **settings_of(store, profile, space, context, len(parts), is_grid, prune, seed),
        **dict(extra_settings or {}),
    }
    name = study_name or default_study_name(space, profile, settings)
    return SearchPlan(context, is_grid, grid_size, target, settings, name, context.config({}).train.epochs)


def run_search(
    *,
    store: FeatureStore,
    profile: Profile,
    space: Mapping[str, SearchParam],
    n_splits: int,
    train_overrides: Mapping[str, Any],
    device: str,
    storage: str | None,
    study_name: str | None,
    tracking_uri: str | None,
    trials: int | None = None,
    sampler: str = "auto",
    prune: bool = True,
    seed: int = 0,
    echo: Callable[[str], None] = print,
    precision: str = "auto",
    model: str = "proposed",
    protocol: Protocol | None = None,
) -> SearchResult:
    """``n_splits`` validation parts, carved from the training parts of the protocol's splits
    (``protocol``: the store's by default, :func:`benchmark.protocol.resolve_protocol`)."""
    protocol = protocol or resolve_protocol(store)
    splits = protocol.tuning_splits(store, n_splits)
    plan = plan_search(
        store=store,
        profile=profile,
        space=space,
        parts=tuning_parts(splits, store.labels, store.fingerprint, count=n_splits),
        train_overrides=train_overrides,
        device=device,
        study_name=study_name,
        trials=trials,
        sampler=sampler,
        prune=prune,
        seed=seed,
        precision=precision,
        model=model,
        extra_settings=protocol.settings(store, splits),
    )
    from benchmark.tracking.studies import StudyLogger

    logger = StudyLogger(tracking_uri, store.name, plan.name)
    return run_study(plan, storage, logger, echo=echo)


def study_tags(plan: SearchPlan, storage: str) -> dict[str, Any]:
    """Tags of the MLflow run that holds a study's trial runs."""
    store = plan.context.store
    return {
        f"{TAG}kind": tracking.TUNE_STUDY,
        f"{TAG}study": plan.name,
        f"{TAG}storage": storage,
        f"{TAG}params": ",".join(plan.context.space),
        f"{TAG}sampler": plan.settings["sampler"],
        f"{TAG}dataset": store.name,
        f"{TAG}dataset_fingerprint": store.fingerprint,
        f"{TAG}synthetic": str(store.synthetic).lower(),
        f"{TAG}profile": plan.context.profile.name,
        f"{TAG}model": plan.context.model,
    }


def study_params(plan: SearchPlan) -> dict[str, Any]:
    return {
        **{f"space.{k}": v.describe() for k, v in plan.context.space.items()},
        "n_splits": len(plan.context.parts),
        "validation_fraction": VALIDATION_FRACTION,
        "target_trials": plan.target,
        "prune": plan.settings["prune"],
        "seed": plan.settings["seed"],
    }


def run_study(
    plan: SearchPlan,
    storage: str | None,
    logger,
    *,
    echo: Callable[[str], None] = print,
    close: bool = True,
) -> SearchResult:
    """Create or join the study and run trials until nothing is left; ``logger`` (a
    :class:`~benchmark.tracking.studies.StudyLogger`) holds the MLflow run the trials hang under.
    ``close=False`` leaves that run open (its owner finishes it: a nested evaluation's outer split)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.ERROR)  # skipped duplicates are reported by us, not as errors

    name, is_grid, grid_size, target = plan.name, plan.is_grid, plan.grid_size, plan.target
    sampler = make_sampler(plan.context.space, is_grid, plan.settings["seed"])
    opened = open_study(name, storage, sampler, make_pruner(plan.settings["prune"], plan.epochs), plan.settings)
    study = opened.study
    logger.device = plan.context.device
    logger.open_parent(opened, study_tags(plan, opened.storage), study_params(plan))
    requeued = bookkeeping.fail_dead_trials(study)

    def on_split(trial, split: int, acc: float) -> None:
        echo(f"  trial {trial.number} {_label(trial.params)}: split {split} val acc {100 * acc:.1f}%")

    objective = Objective(plan.context, logger, on_split)
    echo(
        f"study {name} in {opened.storage} ({'joined' if not opened.created else 'created'}; "
        f"{'grid of ' + str(grid_size) if is_grid else 'TPE, target ' + str(target) + ' trials'}; "
        + (
            f"{len(plan.context.parts)} splits, validation = {VALIDATION_FRACTION:.0%} of each split's training part)"
            if not str(plan.settings.get("split_source", "")).startswith("files:")
            else f"{len(plan.context.parts)} validation parts of {VALIDATION_FRACTION:.0%}, all from the official "
            "training list(s))"
        )
        + (f"; re-queued killed trials {requeued}" if requeued else "")
    )
    counts = {"ran": 0, "skipped_in_a_row": 0}
    while _work_left(study, is_grid, grid_size, target):
        if counts["skipped_in_a_row"] > max(grid_size, 2) + 2:
            echo("stopping: every point left is being run by another process")
            break
        if counts["skipped_in_a_row"]:
            time.sleep(1.0)
        requeued += bookkeeping.fail_dead_trials(study)
        study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=[_reporter(echo, counts)])
    book = bookkeeping.ledger(study)
    finished = not _work_left(study, is_grid, grid_size, target) and not book.active
    best = max((t for t in book.done if t.state.name == "COMPLETE"), key=best_key, default=None)
    logger.close_parent(book, best, finished and close)
    return SearchResult(
        study,
        name,
        opened.storage,
        is_grid,
        target,
        counts["ran"],
        book,
        finished,
        logger.parent_run_id,
        requeued,
        plan.context.chosen_precision,
    )


def best_key(trial) -> tuple:
    """Highest mean validation accuracy; ties go to the smaller std over splits, then the earlier trial."""
    std = trial.user_attrs.get("val_acc_std")
    return (trial.value, -(std if std is not None else float("inf")), -trial.number)


def _work_left(study, is_grid: bool, grid_size: int, target: int) -> bool:
    book = bookkeeping.ledger(study)
    if book.waiting:
        return True
    if book.counted >= target:
        return False
    return bool(bookkeeping.remaining_grid(study, grid_size)) if is_grid else True


def _label(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _reporter(echo: Callable[[str], None], counts: dict[str, int]):
    def report(study, trial) -> None:
        attrs = trial.user_attrs
        if attrs.get("skipped"):
            counts["skipped_in_a_row"] += 1
            echo(f"trial {trial.number} {_label(trial.params)}: skipped ({attrs['skipped']})")
            return
        counts["skipped_in_a_row"] = 0
        counts["ran"] += 1
        state = trial.state.name.lower()
        mean, std = attrs.get("val_acc_mean"), attrs.get("val_acc_std")
        acc = (
            f"val acc {100 * mean:.1f}" + (f" ± {100 * std:.1f}" if std is not None else "") + "%"
            if mean is not None
            else "no finished split"
        )
        extra = f" ({attrs['failure_reason']})" if state == "fail" and attrs.get("failure_reason") else ""
        echo(f"trial {trial.number} {_label(trial.params)}: {acc} ({ {'fail': 'failed'}.get(state, state) }){extra}")

    return report


__all__ = ["SearchPlan", "SearchResult", "SkipTrial", "plan_search", "run_search", "run_study"]
