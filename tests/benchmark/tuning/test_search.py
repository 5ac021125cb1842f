"""A study's bookkeeping: a rerun adds nothing, a grid point is not run twice to completion, trials of
killed processes are run again (fast fake training; the real thing runs in test_tune_command.py)."""

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from benchmark.config import get_profile
from benchmark.tuning import bookkeeping
from benchmark.tuning.search import run_search
from benchmark.tuning.space import build_space
from features.store import open_store


def search(store_path, tracking_uri, **kwargs):
    options = dict(
        store=open_store(store_path),
        profile=get_profile("quick"),
        space=build_space(["alpha"]),
        n_splits=2,
        train_overrides={"epochs": 2},
        device="cpu",
        storage=None,
        study_name="s",
        tracking_uri=tracking_uri,
        echo=lambda _: None,
    )
    options.update(kwargs)
    return run_search(**options)


def complete_alphas(study):
    return sorted(t.params["alpha"] for t in study.get_trials(states=(TrialState.COMPLETE,)))


def trial_runs(tracking_uri, parent):
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3")
    return client.search_runs(
        [experiment.experiment_id], f"tags.`bench.kind` = 'trial' and tags.`mlflow.parentRunId` = '{parent}'"
    )


def test_grid_finishes_logs_one_run_per_trial_and_a_rerun_adds_nothing(tiny_store, tracking_uri, fake_training):
    first = search(tiny_store, tracking_uri)
    assert first.finished and first.ran == 4 and complete_alphas(first.study) == [2, 4, 8, 16]
    runs = trial_runs(tracking_uri, first.parent_run_id)
    assert len(runs) == 4 and {r.data.tags["bench.state"] for r in runs} == {"complete"}
    assert all(
        len(MlflowClient(tracking_uri).get_metric_history(r.info.run_id, "val_acc")) == 4 for r in runs
    )  # 2 splits x 2 epochs
    calls = len(fake_training)
    again = search(tiny_store, tracking_uri)
    assert again.ran == 0 and len(fake_training) == calls and len(again.study.trials) == 4
    assert again.parent_run_id == first.parent_run_id and len(trial_runs(tracking_uri, first.parent_run_id)) == 4


def test_other_settings_under_the_same_study_name_are_refused(tiny_store, tracking_uri, fake_training):
    search(tiny_store, tracking_uri)
    with pytest.raises(Exception, match="was made with"):
        search(tiny_store, tracking_uri, train_overrides={"epochs": 3})


def _storage():
    from benchmark.tuning.study import make_storage

    return make_storage(None)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_grid_point_running_elsewhere_is_not_run_again(tiny_store, tracking_uri, fake_training):
    search(tiny_store, tracking_uri, trials=1)  # creates the study (grid point 0 complete)
    before = len(fake_training)
    study = optuna.load_study(study_name="s", storage=_storage())
    # Another (live) process is running grid point 1 as trial 1.
    other = study._storage.create_new_trial(study._study_id)
    study._storage.set_trial_system_attr(other, "search_space", {"alpha": [2, 4, 8, 16]})
    study._storage.set_trial_system_attr(other, "grid_id", 1)
    # A queued trial for the same point (as two processes picking it at once, or a stray re-queue) is next.
    study._storage.create_new_trial(
        study._study_id,
        optuna.trial.create_trial(
            state=TrialState.WAITING,
            params={},
            distributions={},
            system_attrs={"search_space": {"alpha": [2, 4, 8, 16]}, "grid_id": 1},
        ),
    )
    result = search(tiny_store, tracking_uri, trials=None)
    trials = result.study.get_trials()
    skipped = [t for t in trials if t.user_attrs.get("skipped")]
    assert len(skipped) == 1 and "duplicate of trial 1" in skipped[0].user_attrs["skipped"]
    completed_points = [t.system_attrs["grid_id"] for t in trials if t.state == TrialState.COMPLETE]
    assert sorted(completed_points) == [0, 2, 3]  # point 1 is left to the process running it
    assert not result.finished and [t.number for t in result.book.active] == [1]
    trained_here = [c["alpha"] for c in fake_training[before:]]
    assert len(trained_here) == 2 * 2 and len(set(trained_here)) == 2  # points 2 and 3, two splits each


def test_two_trials_that_picked_the_same_point_at_once_the_higher_number_gives_way(tiny_store, tracking_uri):
    study = optuna.create_study(study_name="race", storage=_storage())
    ids = [study._storage.create_new_trial(study._study_id) for _ in range(2)]
    for trial_id in ids:
        study._storage.set_trial_system_attr(trial_id, "grid_id", 3)
    assert bookkeeping.rival_of(study, 1) == 0
    assert bookkeeping.rival_of(study, 0) is None


def test_a_trial_left_running_by_a_killed_process_is_run_again(tiny_store, tracking_uri, fake_training):
    search(tiny_store, tracking_uri, trials=1)
    study = optuna.load_study(study_name="s", storage=_storage())
    # trial 1: grid point 1, RUNNING, owned by a process on this host that no longer exists (kill -9)
    dead = study._storage.create_new_trial(study._study_id)
    for key, value in {"search_space": {"alpha": [2, 4, 8, 16]}, "grid_id": 1}.items():
        study._storage.set_trial_system_attr(dead, key, value)
    for key, value in {"host": __import__("socket").gethostname(), "pid": _dead_pid()}.items():
        study._storage.set_trial_user_attr(dead, key, value)
    result = search(tiny_store, tracking_uri)
    assert result.requeued == [1] and result.finished
    assert complete_alphas(result.study) == [2, 4, 8, 16]
    assert result.study.trials[1].state == TrialState.FAIL
    retry = next(t for t in result.study.trials if t.system_attrs.get("failed_trial") == 1)
    assert retry.state == TrialState.COMPLETE and retry.system_attrs["grid_id"] == 1


def test_tpe_is_seeded_per_trial_so_processes_differ_and_runs_repeat():
    from benchmark.tuning.study import TrialSeededSampler

    def lrs(seed):
        study = optuna.create_study(sampler=TrialSeededSampler(seed), direction="maximize")
        study.optimize(lambda t: t.suggest_float("lr", 1e-5, 1e-2, log=True), n_trials=3)
        return [t.params["lr"] for t in study.trials]

    assert lrs(0) == lrs(0)  # reproducible
    assert len(set(lrs(0))) == 3  # trial numbers differ, so two processes sharing a study do too
    assert lrs(0) != lrs(1)
