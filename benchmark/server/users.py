"""``bench server user add``: MLflow's own auth client, signed in as the admin.

Permissions are MLflow's: READ sees runs (reports, the UI); EDIT also creates and changes runs
(``bench run``, ``bench tune``). Every signed-in user has READ on experiments nobody granted
(``default_permission``); a user who creates an experiment manages it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmark.params import ParamError

PERMISSIONS = ("READ", "EDIT")


@contextmanager
def _signed_in(user: str, password: str) -> Iterator[None]:
    keep = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ.update(MLFLOW_TRACKING_USERNAME=user, MLFLOW_TRACKING_PASSWORD=password)
    try:
        yield
    finally:
        for key, value in keep.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def add_user(
    tracking_uri: str, name: str, password: str, permission: str, experiments: Sequence[str], auth_dir: Path
) -> list[str]:
    """Create ``name`` (unless it exists) and grant ``permission`` on the experiments; lines to print."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient
    from mlflow.tracking import MlflowClient

    from benchmark.server import auth as auth_server
    from benchmark.uri_check import check_tracking_uri

    permission = permission.upper()
    if permission not in PERMISSIONS:
        raise ParamError(f"--permission must be one of {', '.join(PERMISSIONS)}, got {permission!r}")
    if len(password) < auth_server.MIN_PASSWORD:
        raise ParamError(f"the password must have at least {auth_server.MIN_PASSWORD} characters")
    admin = auth_server.admin_password(auth_dir)
    lines = []
    with _signed_in(auth_server.ADMIN_USER, admin):
        uri = check_tracking_uri(tracking_uri)
        users, runs = AuthServiceClient(uri), MlflowClient(uri)
        try:
            users.create_user(name, password)
            lines.append(f"user {name} created")
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            lines.append(f"user {name} exists (password unchanged)")
        if experiments:
            from benchmark import tracking

            chosen = [(title, tracking.experiment_id(runs, title)) for title in experiments]  # created where missing
        else:
            chosen = [(e.name, e.experiment_id) for e in runs.search_experiments()]
        for title, experiment_id in chosen:
            users.grant_user_permission(name, "experiment", experiment_id, permission)
            lines.append(f"  {permission} on experiment {title} ({experiment_id})")
        if not chosen:
            lines.append("  no experiments yet: name them with --experiment (the store's name, e.g. synthetic-ve8)")
    return lines
