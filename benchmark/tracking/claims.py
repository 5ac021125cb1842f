"""Claims: which process trains a (configuration, split) when several share one tracking store.

Any number of ``bench run`` / ``bench tune --evaluate`` processes (one machine on SQLite, many on an
MLflow server) train each split fingerprint once between them. The claim is the split's own child run,
so it needs nothing but the tracking store (no file locks):

1. the job creates its RUNNING child run, tagged ``bench.claim = pending``;
2. it searches the runs of that fingerprint. A FINISHED one, a live one marked ``won``, or a live
   undecided one that is older (``start_time``, then ``run_id``) makes it step aside; a live undecided
   one that is younger makes it wait until that one decides (the younger may not have seen ours);
3. otherwise it marks its run ``won`` and trains.

Two winners are impossible: of two claims, the one whose search ran first was visible to the other's
search (its run was created before its own search), so the later searcher either saw it undecided
and older (steps aside), saw it undecided and younger (waited for its decision: ``won`` makes it step
aside), or saw it won (steps aside). Waits only go from older to younger claims, so nobody waits in a
circle. Stepping aside is always safe: the loser's run is ended and deleted, never left RUNNING, and
``bench run`` later reuses the winner's result (or takes the split over if the winner died).

A claim is live while its process is: on this host the pid must exist (:func:`tracking.process_gone`);
for other hosts the ``bench.heartbeat`` tag (refreshed during training) must be younger than
``BENCH_CLAIM_STALE_S`` seconds (default 600).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from benchmark import tracking
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

STATE = f"{TAG}claim"
HEARTBEAT = f"{TAG}heartbeat"
PENDING, WON, STEPPED_ASIDE = "pending", "won", "stepped-aside"
CLAIMED = "CLAIMED"  # JobOutcome.status of a job that stepped aside: another process trains that split
DECISION_TIMEOUT_S = 120.0
HEARTBEAT_EVERY_S = 30.0
_last_beat: dict[str, float] = {}


def stale_after_s() -> float:
    """How old a heartbeat from another host may be before its claim counts as dead."""
    return float(os.environ.get("BENCH_CLAIM_STALE_S", "600"))


def claim_tags() -> dict[str, str]:
    """Tags a new split run carries so that other processes can see it as a pending claim."""
    return {STATE: PENDING, HEARTBEAT: str(int(time.time()))}


def heartbeat(client: MlflowClient, run_id: str, now: float | None = None) -> None:
    """Refresh the run's heartbeat (at most every ``HEARTBEAT_EVERY_S``), so other hosts see it live."""
    now = time.time() if now is None else now
    if now - _last_beat.get(run_id, 0.0) >= HEARTBEAT_EVERY_S:
        client.set_tag(run_id, HEARTBEAT, str(int(now)))
        _last_beat[run_id] = now


def is_live(run: Run, now: float | None = None) -> bool:
    """A RUNNING run whose process still runs (this host) or still beats (other hosts)."""
    if run.info.status != "RUNNING":
        return False
    tags = run.data.tags
    host, pid = tags.get(f"{TAG}host"), tags.get(f"{TAG}pid")
    if host == socket.gethostname():
        return not (pid in (None, "0") or tracking.process_gone(host, pid))
    try:
        beat = float(tags[HEARTBEAT])
    except (KeyError, ValueError):
        return True  # a run of an older version on another host: cannot tell, so respect it
    return (time.time() if now is None else now) - beat < stale_after_s()


def _key(run: Run) -> tuple[int, str]:
    return (run.info.start_time or 0, run.info.run_id)


def _runs_of(client: MlflowClient, experiment: str, fingerprint: str) -> list[Run]:
    return tracking.search_all(
        client, [experiment], f"tags.`{TAG}kind` = '{tracking.SPLIT}' and tags.`{TAG}fingerprint` = '{fingerprint}'"
    )


def taken(client: MlflowClient, experiment: str, fingerprint: str, *, ignore_finished: bool = False) -> bool:
    """True when the split is already FINISHED or held by a live winning claim: no need to claim it."""
    for run in _runs_of(client, experiment, fingerprint):
        if run.info.status == "FINISHED" and not ignore_finished:
            return True
        if is_live(run) and run.data.tags.get(STATE, WON) == WON:
            return True
    return False


def claim(
    client: MlflowClient,
    experiment: str,
    fingerprint: str,
    run_id: str,
    *,
    ignore_finished: bool = False,
    poll_s: float = 0.3,
    timeout_s: float = DECISION_TIMEOUT_S,
) -> bool:
    """Decide whether ``run_id`` (a fresh RUNNING run of ``fingerprint``) trains the split. On a loss the
    run has already stepped aside (ended and deleted)."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = _runs_of(client, experiment, fingerprint)
        mine = next((r for r in runs if r.info.run_id == run_id), None)
        if mine is None:  # our run vanished (deleted by hand): nothing to train under
            return False
        verdict = _verdict(mine, [r for r in runs if r.info.run_id != run_id], ignore_finished)
        if verdict == WON:
            client.set_tag(run_id, STATE, WON)
            return True
        if verdict == STEPPED_ASIDE or time.monotonic() > deadline:
            step_aside(client, run_id)
            return False
        time.sleep(poll_s)


def _verdict(mine: Run, others: Iterable[Run], ignore_finished: bool) -> str:
    """WON, STEPPED_ASIDE, or PENDING (wait for a younger undecided claim to decide)."""
    wait = False
    for run in others:
        if run.info.status == "FINISHED" and not ignore_finished:
            return STEPPED_ASIDE
        if not is_live(run):
            continue
        state = run.data.tags.get(STATE, WON)
        if state == WON or (state == PENDING and _key(run) < _key(mine)):
            return STEPPED_ASIDE
        if state == PENDING:
            wait = True
    return PENDING if wait else WON


def step_aside(client: MlflowClient, run_id: str) -> None:
    """End and delete a losing claim: it never trained, so nothing of it should show or stay RUNNING."""
    client.set_tag(run_id, STATE, STEPPED_ASIDE)
    tracking.discard_run(client, run_id)


def settled(client: MlflowClient, experiment: str, fingerprint: str, since_ms: int) -> tuple[str, Any]:
    """Where a split another process claimed stands: ("FINISHED", run), ("FAILED", run) for a winner
    that failed after ``since_ms`` (when the waiting process started), ("RUNNING", run) while a live claim holds it,
    or ("", None) when
    nobody holds it any more (its process died or was interrupted): take it over."""
    runs = _runs_of(client, experiment, fingerprint)
    finished = [r for r in runs if r.info.status == "FINISHED"]
    if finished:
        return "FINISHED", max(finished, key=_key)
    live = [r for r in runs if is_live(r)]
    if live:
        return "RUNNING", min(live, key=_key)
    failed = [
        r
        for r in runs
        if r.info.status == "FAILED" and r.data.tags.get(STATE) == WON and (r.info.end_time or 0) >= since_ms
    ]
    if failed:
        return "FAILED", max(failed, key=_key)
    return "", None


def wait_for(
    client: MlflowClient,
    experiment: str,
    fingerprints: Iterable[str],
    since_ms: int,
    *,
    poll_s: float = 2.0,
    on_wait: Callable[[list[Run]], None] | None = None,
) -> tuple[dict[str, Run], dict[str, Run], list[str]]:
    """Wait for splits other processes hold. Returns (FINISHED runs, FAILED runs, free fingerprints) as
    soon as every one is settled or at least one is free (its holder died: the caller trains it).
    ``on_wait(holders)`` is called with the live holding runs whenever they change, to show progress."""
    pending, finished, failed = set(fingerprints), {}, {}
    shown: set[str] = set()
    while pending:
        holders, free = {}, []
        for fp in sorted(pending):
            state, run = settled(client, experiment, fp, since_ms)
            if state == "FINISHED":
                finished[fp] = run
            elif state == "FAILED":
                failed[fp] = run
            elif state == "RUNNING":
                holders[fp] = run
            else:
                free.append(fp)
        pending = set(holders)
        if free or not pending:
            return finished, failed, free
        ids = {run.info.run_id for run in holders.values()}
        if on_wait and ids != shown:
            on_wait(list(holders.values()))
            shown = ids
        time.sleep(poll_s)
    return finished, failed, []
