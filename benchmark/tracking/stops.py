"""Runs a stopped command leaves behind: closed before it exits, so none stays RUNNING.

After a stop signal or a fault, the split jobs mark their own runs KILLED; this catches the rest: runs
of this very process caught between creation and their job's cleanup, and runs of this host's worker
processes that were killed before they could (Dask's workers, a worker past its grace period).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from benchmark.tracking.mlflow_client import TAG, is_orphan, search_all

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def close_left_running(mlflow_client: MlflowClient, experiment: str, reason: str) -> int:
    """Mark RUNNING runs of this process, and of this host's processes that are gone, KILLED with ``reason``;
    returns how many. Best effort: the store may be what failed."""
    closed = 0
    try:
        runs = search_all(mlflow_client, [experiment], "attributes.status = 'RUNNING'")
    except Exception:
        return 0
    for run in runs:
        tags = run.data.tags
        mine = tags.get(f"{TAG}host") == socket.gethostname() and tags.get(f"{TAG}pid") == str(os.getpid())
        if not (mine or is_orphan(run)):
            continue
        try:
            mlflow_client.set_tag(run.info.run_id, f"{TAG}failure_reason", reason)
            mlflow_client.set_terminated(run.info.run_id, "KILLED")
            closed += 1
        except Exception:
            return closed
    return closed
