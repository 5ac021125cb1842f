"""The tuning objective: mean validation accuracy over K splits, never reading a test part.

For split k the validation part is a stratified fifth (:data:`VALIDATION_FRACTION`) of the split's
*training* part, seeded from the dataset fingerprint and k (a store with fewer official splits than K:
several seeded parts of each official training list); the model trains on the other four fifths
(feature standardisation uses those only). Only positions from the training part are handed to
:func:`benchmark.training.train_split`, so the split's test part never reaches the objective.

Every epoch is reported to Optuna at step ``k * epochs + epoch`` with the mean of the finished splits'
final validation accuracies and the current split's accuracy at that epoch (the "mean so far"), so
Optuna's median pruner compares trials at the same point of their work.
"""

from __future__ import annotations

import functools
import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.auto_precision import resolve_precision
from benchmark.config import Profile, RunConfig, order_modalities, resolve_config
from benchmark.data import load_modalities
from benchmark.precision import at_precision
from benchmark.splits import Split, split_seed, validation_part
from benchmark.training import EpochRecord, run_seed, train_split
from benchmark.tuning.space import SearchParam, split_values
from benchmark.tuning.vocabulary import (
    FAILURE,
    HOST,
    INTERRUPTED,
    PID,
    SKIPPED,
    VAL_MEAN,
    VAL_SPLITS,
    VAL_STD,
    VALIDATION_FRACTION,
    SkipTrial,
)
from features.store import FeatureStore


@dataclass(frozen=True)
class TuningPart:
    """Positions of one split's training part, divided into fit and validation (test part left out)."""

    split: int
    fit: np.ndarray
    validation: np.ndarray


def tuning_parts(
    splits: list[Split],
    labels: np.ndarray,
    dataset_fingerprint: str,
    fraction: float = VALIDATION_FRACTION,
    count: int | None = None,
) -> list[TuningPart]:
    """``count`` (default: one per split) validation parts, part j carved from the training part of
    split j mod len(splits): with one official split, every part comes from its training list. The
    first part of each split keeps the seed it always had (so existing studies keep their parts)."""
    parts = []
    for j in range(len(splits) if count is None else count):
        s = splits[j % len(splits)]
        salt = f"{dataset_fingerprint}:validation" + (f":{j}" if j >= len(splits) else "")
        fit, val = validation_part(s.train, labels, fraction, seed=split_seed(salt, s.index))
        parts.append(TuningPart(j, fit, val))
    return parts


@dataclass
class TuneContext:
    """What every trial of a study shares."""

    store: FeatureStore
    profile: Profile
    space: Mapping[str, SearchParam]
    parts: list[TuningPart]
    train_overrides: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    target: int | None = None  # the study's total number of trials, for surplus detection
    precision: str = "auto"  # as asked (auto|fp32|bf16); every trial trains at :attr:`chosen_precision`
    model: str = "proposed"  # the tuned model (``bench tune --model``)

    @property
    def modalities(self) -> tuple[str, ...]:
        return tune_modalities(self.model, self.store)

    def config(self, values: Mapping[str, Any]) -> RunConfig:
        return at_precision(self._config(values), self.chosen_precision)

    def _config(self, values: Mapping[str, Any]) -> RunConfig:
        model_params, train_params = split_values(self.space, values)
        overrides = {**{k: v for k, v in self.train_overrides.items() if v is not None}, **train_params}
        return resolve_config(
            model=self.model,
            modalities=list(self.modalities),
            row_params=model_params,
            profile=self.profile,
            train_overrides=overrides,
        )

    @functools.cached_property
    def chosen_precision(self) -> str:
        """``precision`` resolved once, for the base configuration, so that all trials of a study share it."""
        return resolve_precision(self.precision, self.device, self._config({}), self.store.dims)


def tune_modalities(model: str, store: FeatureStore) -> tuple[str, ...]:
    """Every modality of the store that the model takes (the paper's three for the built-ins)."""
    from baselines import get_model

    declared = get_model(model).modalities
    names = [m for m in store.arrays if declared is None or m in declared]
    if not names:
        from benchmark.params import ParamError

        raise ParamError(f"model {model!r} takes none of the store's modalities ({', '.join(store.arrays)})")
    return order_modalities(names)


class Objective:
    """Callable for ``study.optimize``; ``logger`` (MLflow) and ``on_split`` (terminal) are optional."""

    def __init__(self, context: TuneContext, logger=None, on_split=None):
        self.ctx = context
        self.logger = logger
        self.on_split = on_split

    def __call__(self, trial) -> float:
        import optuna

        from benchmark.tuning.bookkeeping import rival_of, surplus

        ctx = self.ctx
        # A re-queued copy of a killed trial inherits its user attributes: start clean.
        fresh = {
            HOST: socket.gethostname(),
            PID: os.getpid(),
            VAL_SPLITS: [],
            VAL_MEAN: None,
            VAL_STD: None,
            FAILURE: None,
            INTERRUPTED: False,
            SKIPPED: None,
        }
        for key, value in fresh.items():
            trial.set_user_attr(key, value)
        values = {name: p.suggest(trial) for name, p in ctx.space.items()}
        self._check_rivals(trial, rival_of, surplus)
        config = ctx.config(values)
        data = load_modalities(ctx.store, config.modalities, config.train.frames)
        labels = ctx.store.labels
        n_classes = len(ctx.store.classes)
        epochs = config.train.epochs
        run_id = self.logger.start_trial(trial, values, config) if self.logger else None
        finished: list[float] = []
        try:
            for k, part in enumerate(ctx.parts):

                def on_epoch(record: EpochRecord, k: int = k, part: TuningPart = part) -> None:
                    step = k * epochs + record.epoch
                    running = float(np.mean(finished + [record.test_acc]))
                    trial.report(running, step)
                    if self.logger:
                        self.logger.log_epoch(run_id, part.split, record, running, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned(
                            f"median pruner at epoch {record.epoch} of split {part.split}: mean so far {running:.3f}"
                        )
                    self._check_rivals(trial, rival_of, surplus, started=True)

                result = train_split(
                    config,
                    data,
                    labels,
                    part.fit,
                    part.validation,
                    n_classes,
                    seed=run_seed(config, part.split),
                    device=ctx.device,
                    on_epoch=on_epoch,
                )
                finished.append(float(result.test_acc))
                trial.set_user_attr(VAL_SPLITS, finished)
                if self.on_split:
                    self.on_split(trial, part.split, float(result.test_acc))
        except optuna.TrialPruned:
            self._end(trial, run_id, "pruned", finished)
            raise
        except SkipTrial as exc:
            self._end(trial, run_id, "skipped", finished, str(exc))
            raise
        except KeyboardInterrupt:
            trial.set_user_attr(INTERRUPTED, True)
            self._end(trial, run_id, "killed", finished, "interrupted (Ctrl-C)")
            raise
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr(FAILURE, reason[:1000])
            self._end(trial, run_id, "failed", finished, reason)
            raise
        self._end(trial, run_id, "complete", finished)
        return float(np.mean(finished))

    def _check_rivals(self, trial, rival_of, surplus, started: bool = False) -> None:
        rival = rival_of(trial.study, trial.number)
        if rival is not None:
            reason = f"duplicate of trial {rival}" + (" (found while training)" if started else "")
        elif not started and self.ctx.target is not None and surplus(trial.study, trial.number, self.ctx.target):
            reason = f"the study already has its {self.ctx.target} trials"
        else:
            return
        trial.set_user_attr(SKIPPED, reason)
        raise SkipTrial(reason)

    def _end(self, trial, run_id, state: str, finished: list[float], reason: str = "") -> None:
        mean = float(np.mean(finished)) if finished else math.nan
        std = float(np.std(finished, ddof=1)) if len(finished) > 1 else math.nan
        if finished:
            trial.set_user_attr(VAL_MEAN, mean)
            if math.isfinite(std):
                trial.set_user_attr(VAL_STD, std)
        if self.logger and run_id:
            self.logger.end_trial(run_id, state, finished, mean, std, reason)
