"""`bench server` refuses an open server that other machines reach, and what MLflow would refuse, before binding."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from benchmark.cli import app


@pytest.fixture
def started(monkeypatch):
    """The mlflow command bench server would run (nothing binds)."""
    calls = []
    monkeypatch.setattr(
        "benchmark.server.process.supervise", lambda command, env, after_start=None: calls.append((command, env)) or 0
    )
    return calls


def invoke(*args):
    return CliRunner().invoke(app, ["server", *args])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_a_host_other_machines_reach_needs_auth(host, tmp_path, started):
    result = invoke("--host", host, "--backend-store-uri", f"sqlite:///{tmp_path / 'db' / 'mlflow.db'}")
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "--auth" in result.output and "--insecure" in result.output
    assert not started and not (tmp_path / "db").exists()


def test_insecure_starts_with_a_warning_and_loopback_needs_nothing(tmp_path, started):
    result = invoke(
        "--host",
        "0.0.0.0",
        "--insecure",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--allowed-hosts",
        "tracking.lab,10.0.0.5:5000",
        "--cors-allowed-origins",
        "https://tracking.lab",
    )
    assert result.exit_code == 0, result.output
    assert "warning: --insecure" in result.output
    command = started[0][0]
    assert command[command.index("--allowed-hosts") + 1] == "tracking.lab,10.0.0.5:5000"
    assert command[command.index("--cors-allowed-origins") + 1] == "https://tracking.lab"
    assert "--app-name" not in command
    assert invoke("--host", "127.0.0.1", "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}").exit_code == 0


@pytest.mark.parametrize(
    "extra",
    [
        ["--allowed-hosts", "a.lab", "--gunicorn-opts", "--timeout 60"],
        ["--gunicorn-opts", "-w 2", "--uvicorn-opts", "--reload"],
        ["--allowed-hosts", "a.lab,,b.lab"],
    ],
)
def test_combinations_mlflow_refuses_are_one_line(extra, tmp_path, started):
    result = invoke("--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", *extra)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert not started


def test_auth_secrets_are_generated_once_private_and_never_printed(tmp_path, started, monkeypatch):
    monkeypatch.delenv("MLFLOW_AUTH_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("MLFLOW_FLASK_SERVER_SECRET_KEY", raising=False)
    args = ["--auth", "--host", "0.0.0.0", "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    password, key = (tmp_path / "admin-password").read_text().strip(), (tmp_path / "secret-key").read_text().strip()
    assert len(password) >= 12 and (tmp_path / "admin-password").stat().st_mode & 0o077 == 0
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0 and (
        tmp_path / "basic_auth.ini"
    ).stat().st_mode & 0o077 == 0
    for result, (command, env) in zip((first, second), started):
        assert (
            password not in result.output
            and key not in result.output
            and str(tmp_path / "admin-password") in result.output
        )
        assert (
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] == password and env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == key
        )  # the same on every start
        assert command[command.index("--app-name") + 1] == "basic-auth"
    assert f"database_uri = sqlite:///{tmp_path / 'basic_auth.db'}" in (tmp_path / "basic_auth.ini").read_text()
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", "short")
    assert invoke(*args).exit_code == 2
