"""The claim protocol against a real (SQLite) MLflow store: one winner, losers step aside, dead claims lose."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from mlflow.tracking import MlflowClient

from benchmark import tracking
from benchmark.tracking import claims

FP = "abc123"


@pytest.fixture
def store(tracking_uri):
    client = tracking.client(tracking_uri)
    return client, tracking.experiment_id(client, "claims")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def make_run(client, experiment, *, start, pid=None, host=None, state=claims.PENDING, beat=None, status=None):
    tags = {
        "bench.kind": "split",
        "bench.fingerprint": FP,
        "bench.host": host or socket.gethostname(),
        "bench.pid": str(pid or os.getpid()),
        claims.STATE: state,
        claims.HEARTBEAT: str(int(beat or time.time())),
    }
    run_id = client.create_run(experiment, start_time=start, tags=tags).info.run_id
    if status:
        client.set_terminated(run_id, status)
    return run_id


def active(client, experiment):
    return {r.info.run_id: r for r in client.search_runs([experiment], "tags.`bench.kind` = 'split'")}


def test_the_older_of_two_pending_claims_wins_and_the_younger_steps_aside(store):
    client, experiment = store
    older, younger = make_run(client, experiment, start=1000), make_run(client, experiment, start=2000)
    assert not claims.claim(client, experiment, FP, younger)
    assert claims.claim(client, experiment, FP, older)
    runs = active(client, experiment)
    assert list(runs) == [older] and runs[older].data.tags[claims.STATE] == claims.WON
    assert client.get_run(younger).info.lifecycle_stage == "deleted"
    assert client.get_run(younger).info.status == "KILLED"  # never left RUNNING


def test_an_older_claim_waits_for_a_younger_undecided_one(store):
    client, experiment = store
    older, younger = make_run(client, experiment, start=1000), make_run(client, experiment, start=2000)
    threading.Timer(0.8, claims.step_aside, (MlflowClient(client._tracking_client.tracking_uri), younger)).start()
    began = time.monotonic()
    assert claims.claim(client, experiment, FP, older, poll_s=0.1)
    assert time.monotonic() - began >= 0.7


def test_an_undecided_claim_that_never_decides_makes_the_older_step_aside_after_the_timeout(store):
    client, experiment = store
    older, _ = make_run(client, experiment, start=1000), make_run(client, experiment, start=2000)
    assert not claims.claim(client, experiment, FP, older, poll_s=0.1, timeout_s=0.5)


def test_a_finished_run_or_a_live_winner_makes_a_new_claim_step_aside(store):
    client, experiment = store
    make_run(client, experiment, start=1000, state=claims.WON, status="FINISHED")
    assert claims.taken(client, experiment, FP)
    assert not claims.taken(client, experiment, FP, ignore_finished=True)  # --force
    late = make_run(client, experiment, start=500)
    assert not claims.claim(client, experiment, FP, late)
    forced = make_run(client, experiment, start=3000)
    assert claims.claim(client, experiment, FP, forced, ignore_finished=True)


def test_claims_of_dead_processes_and_silent_hosts_are_taken_over(store, monkeypatch):
    client, experiment = store
    make_run(client, experiment, start=1, pid=dead_pid(), state=claims.WON)
    make_run(client, experiment, start=2, host="other-machine", state=claims.WON, beat=time.time() - 3600)
    assert not claims.taken(client, experiment, FP)
    mine = make_run(client, experiment, start=3)
    assert claims.claim(client, experiment, FP, mine)
    assert claims.settled(client, experiment, FP, 0)[0] == "RUNNING"
    monkeypatch.setenv("BENCH_CLAIM_STALE_S", "7200")
    assert claims.taken(client, experiment, FP)  # the other host's heartbeat now counts as fresh


def test_settled_reports_a_winner_that_failed_after_the_wait_began_and_frees_a_killed_one(store):
    client, experiment = store
    since = int(time.time() * 1000)
    run_id = make_run(client, experiment, start=since, state=claims.WON)
    client.set_terminated(run_id, "KILLED")
    assert claims.settled(client, experiment, FP, since) == ("", None)
    failed = make_run(client, experiment, start=since + 1, state=claims.WON, status="FAILED")
    state, run = claims.settled(client, experiment, FP, since)
    assert state == "FAILED" and run.info.run_id == failed


def test_wait_for_returns_a_split_whose_holder_ended_without_finishing_so_the_waiter_takes_it_over(store):
    client, experiment = store
    since = int(time.time() * 1000)
    holder = make_run(client, experiment, start=since, state=claims.WON)
    shown = []
    threading.Timer(
        0.5, lambda: MlflowClient(client._tracking_client.tracking_uri).set_terminated(holder, "KILLED")
    ).start()
    finished, failed, free = claims.wait_for(client, experiment, [FP], since, poll_s=0.1, on_wait=shown.append)
    assert (finished, failed, free) == ({}, {}, [FP])
    assert [[r.info.run_id for r in holders] for holders in shown] == [[holder]]  # the wait was shown, once
