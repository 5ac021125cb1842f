"""Optuna studies in an RDB storage: default SQLite under ``mlruns/``, any URL Optuna accepts.

- One parameter with a categorical space is searched with Optuna's GridSampler (every point once);
  anything else with a TPE sampler seeded per trial from (seed, trial number), so one process is
  reproducible and several processes sharing a study do not sample the same points.
- The study records the settings it was made with (dataset, space, profile, splits ...); a process
  joining it with other settings is refused, so one study never mixes objectives.
- Heartbeats: a trial whose process stops beating is failed by the next process after the grace
  period and re-queued (Optuna's retry callback); on the same host a dead process is noticed at once
  (see :mod:`benchmark.tuning.bookkeeping`).
"""

from __future__ import annotations

import inspect
import json
import random
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.samplers import BaseSampler  # this module is imported only by `bench tune`

from benchmark import sqlite
from benchmark.params import ParamError
from benchmark.redaction import check_url, redact, scrub

DEFAULT_STORAGE = "sqlite:///mlruns/optuna.db"
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 60
SETTINGS_ATTR = "bench_settings"
DEFAULT_TPE_TRIALS = 20


def storage_url(url: str | None = None) -> str:
    """``--storage`` or the default (a relative SQLite path made absolute); a URL that cannot be taken apart
    (a port that is not a number ...) is an input error."""
    return sqlite.absolute(check_url(url or DEFAULT_STORAGE, "--storage"))


def make_storage(url: str | None = None, attempts: int = 5):
    """Open (and on first use create) the study database.

    SQLite is serialised by a lock file. A server database may be shared by machines that start
    together, and two of them creating the schema at once collide (PostgreSQL: a duplicate-key error
    on its catalogue); the schema is created idempotently, so the loser simply tries again.
    """
    url = storage_url(url)
    if url.startswith(sqlite.SCHEME):
        with sqlite.creation_lock(url):
            return _make_storage(url)
    for attempt in range(1, attempts + 1):
        try:
            return _make_storage(url)
        except SchemaRace:
            if attempt == attempts:
                raise ParamError(
                    f"--storage {redact(url)}: cannot create the study tables (other processes kept creating them)"
                ) from None
            time.sleep(random.uniform(0.2, 1.0) * attempt)
    raise AssertionError("unreachable")


class SchemaRace(Exception):
    """Another process was creating the same tables at the same moment."""


def _make_storage(url: str):
    import optuna

    from benchmark.tuning.bookkeeping import retry_callback

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    callback_arg = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in inspect.signature(optuna.storages.RDBStorage).parameters
        else "failed_trial_callback"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT_INTERVAL_S,
                grace_period=GRACE_PERIOD_S,
                **{callback_arg: retry_callback()},
            )
    except (ImportError, ModuleNotFoundError) as exc:
        raise ParamError(
            f"--storage {redact(url)}: the database driver is missing ({exc}); for PostgreSQL pip install "
            "'ver-bench[distributed]'"
        ) from None
    except Exception as exc:
        if type(exc).__name__ in ("IntegrityError", "ProgrammingError") and type(exc).__module__.startswith(
            "sqlalchemy"
        ):
            raise SchemaRace(str(exc)) from exc
        if type(exc).__module__.startswith("sqlalchemy"):
            raise ParamError(
                f"--storage {redact(url)}: cannot open the storage ({scrub(str(exc).splitlines()[0], url)})"
            ) from None
        raise


def use_grid(space: Mapping[str, Any], sampler: str = "auto") -> bool:
    all_categorical = all(p.categorical for p in space.values())
    if sampler == "grid":
        if not all_categorical:
            ranged = next(p.name for p in space.values() if not p.categorical)
            raise ParamError(
                f"--sampler grid needs lists of values; {ranged!r} is a range (give it a list with --values)"
            )
        return True
    if sampler == "tpe":
        return False
    return all_categorical and len(space) == 1


def make_sampler(space: Mapping[str, Any], grid: bool, seed: int):
    import optuna

    from benchmark.tuning.space import grid as grid_of

    if grid:
        # The same (default) seed in every process: GridSampler shuffles its points with it, and
        # grid ids must mean the same points in every process sharing the study.
        return optuna.samplers.GridSampler(grid_of(space))
    return TrialSeededSampler(seed)


def make_pruner(prune: bool, epochs: int):
    """Median pruner that never prunes during the first split (one split's epochs are warm-up)."""
    import optuna

    if not prune:
        return optuna.pruners.NopPruner()
    # Steps are k * epochs + epoch (1-based) and Optuna prunes from step n_warmup_steps on, so
    # epochs + 1 keeps the whole first split (its last epoch included) out of pruning.
    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=epochs + 1)


class TrialSeededSampler(BaseSampler):
    """TPE whose random state is seeded from (seed, trial number) for every trial.

    Optuna's own ``TPESampler(seed=...)`` seeds once per process, so two processes started together
    would propose the same first points; trial numbers are unique across processes.
    """

    def __init__(self, seed: int):
        self.seed = seed
        self._current: tuple[int, Any] | None = None

    def _for(self, trial):
        import optuna

        if self._current is None or self._current[0] != trial.number:
            self._current = (
                trial.number,
                optuna.samplers.TPESampler(seed=(self.seed * 100_003 + trial.number) % 2**32),
            )
        return self._current[1]

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._for(trial).after_trial(study, trial, state, values)


@dataclass
class OpenedStudy:
    study: Any
    created: bool  # this process created it (and so sets up its settings and MLflow parent)
    storage: str  # URL, password hidden


def open_study(
    name: str, storage_url_: str | None, sampler, pruner, settings: Mapping[str, Any], wait_s: float = 30.0
) -> OpenedStudy:
    """Create the study, or join it (``load_if_exists``) after checking it was made with ``settings``."""
    import optuna

    storage = make_storage(storage_url_)
    try:
        study = optuna.create_study(
            study_name=name, storage=storage, sampler=sampler, pruner=pruner, direction="maximize"
        )
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        created = False
    if created:
        study.set_user_attr(SETTINGS_ATTR, json.loads(json.dumps(settings, default=str)))
    else:
        from benchmark.tracking.studies import wait_for_attr

        stored = wait_for_attr(study, SETTINGS_ATTR, wait_s)
        if stored is None:  # the creator died before writing them
            study.set_user_attr(SETTINGS_ATTR, json.loads(json.dumps(settings, default=str)))
        else:
            check_settings(name, stored, settings)
    return OpenedStudy(study, created, redact(storage_url(storage_url_)))


def check_settings(name: str, stored: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
    wanted = json.loads(json.dumps(settings, default=str))
    for key in sorted(set(stored) | set(wanted)):
        if stored.get(key) != wanted.get(key):
            raise ParamError(
                f"study {name!r} was made with {key}={json.dumps(stored.get(key))}, not {json.dumps(wanted.get(key))}; "
                "use another --study-name (or the same options as before)"
            )
