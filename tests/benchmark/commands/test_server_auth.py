"""`bench server --auth` on 127.0.0.1, with SQLite and with PostgreSQL: who may read and who may write.

One server per backend (module scope): alice has EDIT, bob READ on the dataset's experiment.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from benchmark.cli import app
from features.synthetic import make_synthetic_store
from tests.conftest import TINY_COUNTS, TINY_DIMS
from tests.services import free_port, postgres

ROOT = Path(__file__).resolve().parents[3]
EXPERIMENT = "synthetic-ve8-seed3"
PASSWORDS = {"alice": "alice-secret-pw-1", "bob": "bob-secret-pw-22"}
PG_PASSWORD = "pg-Secret-7x9qK"  # distinctive, so that a grep for it finds only real leaks
SUITE = '[[rows]]\nname = "probe"\nmodel = "linear_probe"\nmodalities = ["visual", "audio", "skeleton"]\n'


def env_for(user: str | None, password: str | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MLFLOW_TRACKING_") and k != "MLFLOW_AUTH_ADMIN_PASSWORD"
    }
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", HOME=env.get("BENCH_TEST_HOME", env.get("HOME", "/tmp")))
    if user:
        env.update(MLFLOW_TRACKING_USERNAME=user, MLFLOW_TRACKING_PASSWORD=password or PASSWORDS[user])
    return env


@contextmanager
def auth_server(backend: str, folder: Path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmark.cli",
        "server",
        "--auth",
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--auth-dir",
        str(folder / "auth"),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env_for(None), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"bench server --auth did not start: {log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield uri
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"auth-{request.param}")
    store = make_synthetic_store(folder / "tiny", counts=TINY_COUNTS, dims=TINY_DIMS, frames=12, seed=3)
    (folder / "suite.toml").write_text('name = "tiny"\n' + SUITE)
    with (
        postgres(("mlflow", "optuna"), password=PG_PASSWORD)
        if request.param == "postgresql"
        else _nothing(f"sqlite:///{folder / 'db' / 'mlflow.db'}")
    ) as base:
        backend = f"{base}/mlflow" if request.param == "postgresql" else base
        with auth_server(backend, folder) as uri:
            admin = folder / "auth" / "admin-password"
            assert (
                stat.S_IMODE(admin.stat().st_mode) == 0o600
                and stat.S_IMODE((folder / "auth" / "secret-key").stat().st_mode) == 0o600
            )
            for user, permission in (("alice", "EDIT"), ("bob", "READ")):
                result = CliRunner().invoke(
                    app,
                    [
                        "server",
                        "user",
                        "add",
                        user,
                        "--permission",
                        permission,
                        "--experiment",
                        EXPERIMENT,
                        "--tracking-uri",
                        uri,
                        "--auth-dir",
                        str(folder / "auth"),
                    ],
                    env={"BENCH_USER_PASSWORD": PASSWORDS[user]},
                )
                assert result.exit_code == 0, result.output
                assert f"{permission} on experiment {EXPERIMENT}" in result.output
            yield {
                "uri": uri,
                "folder": folder,
                "store": store,
                "suite": folder / "suite.toml",
                "admin": admin.read_text().strip(),
                "log": folder / "server.log",
                "backend": backend,
            }


@contextmanager
def _nothing(value):
    yield value


def bench(server, user, *args, password=None, cwd=None):
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", *args],
        env=env_for(user, password),
        cwd=cwd or server["folder"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_args(server):
    return [
        "run",
        "--suite",
        str(server["suite"]),
        "--features",
        str(server["store"]),
        "--n-splits",
        "2",
        "--tracking-uri",
        server["uri"],
        "--no-report",
    ]


def split_runs(server):
    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=server["admin"])
    try:
        client = MlflowClient(server["uri"])
        experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
        return client.search_runs([experiment], "tags.`bench.kind` = 'split'", max_results=1000)
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_unauthenticated_request_gets_401(server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server['uri']}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10)
    assert caught.value.code == 401


def as_user(user, password=None):
    """os.environ for an in-process command (CliRunner sets and restores it)."""
    creds = (
        {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password or PASSWORDS.get(user)} if user else {}
    )
    return {"MLFLOW_TRACKING_USERNAME": None, "MLFLOW_TRACKING_PASSWORD": None, **creds}


def test_wrong_or_missing_password_is_one_line_and_exit_2_before_training(server):
    started = time.monotonic()
    process = bench(
        server, "alice", *run_args(server), password="not-alices-password"
    )  # a fresh process, as a user starts it
    out, err = process.communicate(timeout=120)
    # the time is shown (pytest -s), not asserted: a loaded CI machine took 39 s to start torch and MLflow
    print(f"wrong password: exit {process.returncode} after {time.monotonic() - started:.1f} s")
    assert process.returncode == 2, out + err
    assert "trained" not in out  # refused at the URI check, before any split (no runs either, below)
    line = one_line(err)
    assert "refused user 'alice'" in line and server["uri"] in line and "MLFLOW_TRACKING_PASSWORD" in line
    result = CliRunner().invoke(app, run_args(server), env=as_user(None))
    assert result.exit_code == 2 and "asks for a user name and password" in one_line(result.stderr)
    assert not split_runs(server)


def test_edit_users_share_the_work_and_a_read_user_reports_but_cannot_run(server):
    other = bench(server, "alice", *run_args(server))  # another process, while this one runs the same suite
    here = CliRunner().invoke(
        app, [*run_args(server), "--executor", "processes", "--jobs", "1"], env=as_user("alice")
    )  # workers inherit the credentials
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0 and here.exit_code == 0, out + err + here.output
    runs = split_runs(server)
    finished = sorted(r.data.tags["bench.split"] for r in runs if r.info.status == "FINISHED")
    assert finished == ["0", "1"], [(r.info.status, r.data.tags) for r in runs]
    assert sum(int(text.split("trained ")[1].split()[0]) for text in (out, here.output)) == 2

    report = CliRunner().invoke(
        app,
        [
            "report",
            "--suite",
            str(server["suite"]),
            "--experiment",
            EXPERIMENT,
            "--tracking-uri",
            server["uri"],
            "--out",
            str(server["folder"] / "report"),
        ],
        env=as_user("bob"),
    )
    assert report.exit_code == 0, report.output
    assert "probe" in (server["folder"] / "report" / "table.md").read_text()

    before = len(split_runs(server))
    refused = CliRunner().invoke(app, [*run_args(server), "--force"], env=as_user("bob"))
    assert refused.exit_code == 2, refused.output
    line = one_line(refused.stderr)
    assert "'bob'" in line and "EDIT" in line and server["uri"] in line
    assert len(split_runs(server)) == before


def test_no_password_is_printed_logged_or_written(server, tmp_path):
    """Passwords inside URIs (the server's PostgreSQL, bench tune --storage, http://USER:PASSWORD@) and the
    admin's: not in any output, MLflow param, tag, artifact, report or file the commands wrote."""
    secret_uri = server["uri"].replace("http://", f"http://alice:{PASSWORDS['alice']}@")
    storage = (server["backend"].rsplit("/", 1)[0] + "/optuna") if server["backend"].startswith("postgresql") else None
    commands = [
        [*run_args(server)[:-1], "--force"],  # with the report: rendered here and logged to MLflow
        ["report", "--suite", str(server["suite"]), "--experiment", EXPERIMENT, "--out", str(tmp_path / "report")],
        [
            "tune",
            "--param",
            "alpha",
            "--values",
            "2,4",
            "--n-splits",
            "1",
            "--epochs",
            "1",
            "--features",
            str(server["store"]),
            *(["--storage", storage] if storage else []),
        ],
        ["ui"],
    ]
    outputs = []
    for args in commands:
        result = CliRunner().invoke(
            app,
            [*args, "--tracking-uri", secret_uri]
            if "--tracking-uri" not in args
            else [a if a != server["uri"] else secret_uri for a in args],
            env=as_user(None),
        )
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    secrets = [PASSWORDS["alice"], server["admin"], *([PG_PASSWORD] if storage else [])]
    texts = outputs + [server["log"].read_text()]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=server["admin"])
    try:
        client = MlflowClient(server["uri"])
        for experiment in client.search_experiments():
            texts.append(repr(experiment.tags))
            for run in client.search_runs([experiment.experiment_id], max_results=1000):
                texts += [repr(run.data.params), repr(run.data.tags), repr(run.info)]
                folder = tmp_path / "artifacts" / run.info.run_id
                folder.mkdir(parents=True)
                client.download_artifacts(run.info.run_id, "", str(folder))
                texts += [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    assert len(texts) > 20 and any("bench.versions" in text for text in texts)
    for secret in secrets:
        leaks = [text[max(0, text.find(secret) - 80) : text.find(secret) + 40] for text in texts if secret in text]
        assert not leaks, leaks
