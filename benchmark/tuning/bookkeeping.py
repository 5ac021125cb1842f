"""Which trials of a study count, which point of the search each one covers, what is left to do.

Several ``bench tune`` processes (on one machine or many) share a study through its storage. These
rules keep them from doing the same work twice and let a killed search resume:

- a trial is *skipped* (``skipped`` user attribute, state FAIL) when it noticed it would repeat a
  point another trial covers; it counts for nothing;
- a trial is *stale* when it was left RUNNING by a dead process, or FAILed because its process was
  killed or interrupted; it is re-queued as a WAITING copy (Optuna's retry callback) and the copy
  counts instead;
- every other finished trial (COMPLETE, PRUNED, or FAILed by its own error) is *done*;
- RUNNING and WAITING trials are *active*.

A point is a grid id for grid studies (set by Optuna's GridSampler before the objective runs), else
the trial's parameters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from benchmark import tracking
from benchmark.tuning.vocabulary import HOST, INTERRUPTED, PID, SKIPPED


def retry_callback():
    """Optuna's callback that re-queues a failed stale trial as WAITING (name differs by version)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cls = (
            getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
            or optuna.storages.RetryFailedTrialCallback
        )
        return cls(max_retry=3)


def point(trial) -> Any:
    if "grid_id" in trial.system_attrs:
        return ("grid", trial.system_attrs["grid_id"])
    if trial.params:
        return ("params", tuple(sorted((k, repr(v)) for k, v in trial.params.items())))
    return None


def _retried_numbers(trials) -> set[int]:
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


@dataclass
class Ledger:
    """The study's trials sorted by the rules above."""

    done: list = field(default_factory=list)
    active: list = field(default_factory=list)
    waiting: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    stale: list = field(default_factory=list)

    @property
    def counted(self) -> int:
        return len(self.done) + len(self.active)

    def points(self, which: str) -> set:
        return {point(t) for t in getattr(self, which)} - {None}


def ledger(study) -> Ledger:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = _retried_numbers(trials)
    out = Ledger()
    for t in trials:
        if t.user_attrs.get(SKIPPED):
            out.skipped.append(t)
        elif t.state == TrialState.FAIL and (t.number in retried or t.user_attrs.get(INTERRUPTED)):
            out.stale.append(t)
        elif t.state.is_finished():
            out.done.append(t)
        else:
            out.active.append(t)
            if t.state == TrialState.WAITING:
                out.waiting.append(t)
    return out


def remaining_grid(study, grid_size: int) -> set[int]:
    """Grid ids that no done or active trial covers."""
    book = ledger(study)
    covered = {p[1] for p in book.points("done") | book.points("active") if p[0] == "grid"}
    return set(range(grid_size)) - covered


def rival_of(study, number: int) -> int | None:
    """A trial that covers the same point as trial ``number`` and takes precedence over it.

    Precedence: a done trial, else the active (RUNNING) trial with the lowest number. Two processes
    that picked the same grid point at once both see each other, and the higher number gives way.
    """
    from optuna.trial import TrialState

    book = ledger(study)
    mine = next((t for t in book.active if t.number == number), None)
    if mine is None or point(mine) is None:
        return None
    key = point(mine)
    for t in book.done:
        if point(t) == key:
            return t.number
    for t in book.active:
        if t.number < number and t.state == TrialState.RUNNING and point(t) == key:
            return t.number
    return None


def surplus(study, number: int, target: int) -> bool:
    """Whether trials numbered below ``number`` already make up the study's target."""
    book = ledger(study)
    return sum(t.number < number for t in book.done + book.active) >= target


def fail_dead_trials(study) -> list[int]:
    """Fail RUNNING trials whose process on this host is gone, and FAILed trials interrupted by Ctrl-C
    that were never re-queued; re-queue both as WAITING copies. Returns the numbers re-queued.

    Optuna's heartbeat does the same for other machines once their grace period has passed.
    """
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # other machines' trials past the heartbeat grace period
    trials = study.get_trials(deepcopy=False)
    retried = _retried_numbers(trials)
    callback = retry_callback()
    requeued = []
    for t in trials:
        if t.number in retried or t.user_attrs.get(SKIPPED):
            continue
        dead = t.state == TrialState.RUNNING and tracking.process_gone(t.user_attrs.get(HOST), t.user_attrs.get(PID))
        interrupted = t.state == TrialState.FAIL and t.user_attrs.get(INTERRUPTED)
        if dead:
            try:
                study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
            except UpdateFinishedTrialError:  # another process got there first
                continue
        if dead or interrupted:
            callback(study, study._storage.get_trial(t._trial_id))
            requeued.append(t.number)
    return requeued
