"""``bench server``: a shared MLflow tracking server for several machines; ``bench server user add``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

server_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="Run a shared MLflow tracking server; `user add` grants access.",
)
user_app = typer.Typer(no_args_is_help=True, help="Users of a `bench server --auth`.")
server_app.add_typer(user_app, name="user")

AUTH_DIR_HELP = "Folder of the auth settings and generated secrets (default: beside a SQLite store, else ./mlruns)."


@server_app.callback()
def server(
    ctx: typer.Context,
    backend_store_uri: str = typer.Option(
        "sqlite:///mlruns/mlflow.db",
        "--backend-store-uri",
        help="Where runs are stored, e.g. postgresql://USER:PASSWORD@HOST:5432/mlflow.",
    ),
    artifacts_destination: Path = typer.Option(
        Path("mlruns/artifacts"),
        "--artifacts-destination",
        help="Artifact root the server writes to (it serves artifacts to the workers).",
    ),
    host: str = typer.Option(
        "127.0.0.1", help="Interface to listen on; 0.0.0.0 (other machines) needs --auth, or --insecure."
    ),
    port: int = typer.Option(5000, help="Port to listen on."),
    workers: int | None = typer.Option(None, help="Server worker processes (MLflow's default when unset)."),
    auth: bool = typer.Option(
        False, "--auth", help="MLflow's basic-auth app: users and passwords, READ or EDIT per experiment."
    ),
    auth_dir: Path | None = typer.Option(None, "--auth-dir", help=AUTH_DIR_HELP),
    auth_db_uri: str | None = typer.Option(
        None,
        "--auth-db-uri",
        help="The users' database (default: basic_auth.db beside a SQLite store, <db>_auth on PostgreSQL).",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Allow a non-loopback --host without --auth (a warning on every start)."
    ),
    allowed_hosts: str | None = typer.Option(
        None,
        "--allowed-hosts",
        help="Host headers the server accepts (MLflow's security middleware), e.g. tracking.lab,10.0.0.5:5000.",
    ),
    cors_allowed_origins: str | None = typer.Option(
        None, "--cors-allowed-origins", help="Browser origins allowed to call the API, e.g. https://tracking.lab."
    ),
    gunicorn_opts: str | None = typer.Option(
        None, "--gunicorn-opts", help="Serve with gunicorn and these options (no security middleware)."
    ),
    uvicorn_opts: str | None = typer.Option(
        None, "--uvicorn-opts", help="Options for uvicorn (MLflow's default server)."
    ),
) -> None:
    """Run `mlflow server` and print the tracking URI to give workers (--tracking-uri or MLFLOW_TRACKING_URI)."""
    if ctx.invoked_subcommand is not None:
        return
    from benchmark.commands.common import user_errors
    from benchmark.server import auth as auth_server
    from benchmark.uri_check import shown

    with user_errors():  # refused before anything binds or is created
        from benchmark.params import ParamError
        from benchmark.redaction import check_url
        from benchmark.server.process import port_free

        check_url(backend_store_uri, "--backend-store-uri")
        warning = auth_server.check_exposure(
            host, auth, insecure
        )  # first: an exposed host without --auth is refused as such
        if not port_free(host, port):
            raise ParamError(f"port {port} on {host} is in use (another bench server or bench ui?); pass --port")
        auth_server.check_security_options(allowed_hosts, cors_allowed_origins, gunicorn_opts, uvicorn_opts)
        if backend_store_uri.startswith("postgresql"):
            try:
                import psycopg  # noqa: F401  (SQLAlchemy 2.1's default PostgreSQL driver)
            except ImportError:
                from benchmark.params import ParamError

                raise ParamError("a PostgreSQL backend needs psycopg: pip install 'ver-bench[distributed]'") from None
        if backend_store_uri.startswith("sqlite"):
            from benchmark import faults, tracking
            from benchmark.uri_check import check_tracking_uri

            backend_store_uri = check_tracking_uri(
                backend_store_uri
            )  # a folder, read-only or non-SQLite file: one line now
            faults.watch(backend_store_uri)
            tracking.client(backend_store_uri)  # first creation of the database: atomic (see benchmark/sqlite.py)
        env = dict(os.environ)
        if auth:
            try:
                import flask_wtf  # noqa: F401  (what MLflow's basic-auth app imports)
            except ImportError:
                from benchmark.params import ParamError

                raise ParamError(
                    "--auth needs MLflow's auth extra: pip install 'ver-bench[distributed]' (or 'mlflow[auth]')"
                ) from None
            setup = auth_server.prepare_auth(
                backend_store_uri, auth_dir or auth_server.default_auth_dir(backend_store_uri), auth_db_uri
            )
            env.update(setup.env)
        artifacts_destination.mkdir(parents=True, exist_ok=True)
    if warning:
        typer.secho(warning, fg="yellow", err=True)
    env["MLFLOW_BACKEND_STORE_URI"] = backend_store_uri  # not on the command line, where `ps` shows its password
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--artifacts-destination",
        str(artifacts_destination.resolve()),
        "--serve-artifacts",
        "--host",
        host,
        "--port",
        str(port),
    ]
    if auth:
        command += ["--app-name", "basic-auth"]
    for option, value in (
        ("--workers", workers),
        ("--allowed-hosts", allowed_hosts),
        ("--cors-allowed-origins", cors_allowed_origins),
        ("--gunicorn-opts", gunicorn_opts),
        ("--uvicorn-opts", uvicorn_opts),
    ):
        if value:
            command += [option, str(value)]
    address = "<this machine's address>" if host in ("0.0.0.0", "::") else host
    typer.echo(f"tracking store: {shown(backend_store_uri)}")
    if auth:
        for line in setup.shown:
            typer.echo(f"  {line}")
        typer.echo(
            "  add users: bench server user add NAME --permission READ|EDIT; workers set MLFLOW_TRACKING_USERNAME "
            "and MLFLOW_TRACKING_PASSWORD"
        )
    typer.echo(f"tracking URI for workers: http://{address}:{port}")
    typer.echo(
        f"  e.g. bench run --suite all --executor dask --scheduler tcp://SCHEDULER:8786 --tracking-uri http://{address}:{port}"
    )
    sys.stdout.flush()
    from benchmark.server.process import supervise

    raise typer.Exit(supervise(command, env))  # SIGTERM / Ctrl-C: forwarded to the server's whole process group


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name to create (or to grant more, if it exists)."),
    permission: str = typer.Option(
        ..., "--permission", help="READ (reports, the UI) or EDIT (also bench run and tune)."
    ),
    experiment: list[str] = typer.Option(
        [],
        "--experiment",
        "-e",
        help="Experiment (= store name) to grant; repeatable; created when missing (default: every existing one).",
    ),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="BENCH_USER_PASSWORD",
        help="The new user's password (prompted; or $BENCH_USER_PASSWORD). Never put it on the command line.",
    ),
    tracking_uri: str = typer.Option("http://127.0.0.1:5000", "--tracking-uri", help="The bench server --auth."),
    auth_dir: Path = typer.Option(
        Path("mlruns"),
        "--auth-dir",
        help="Folder with the generated admin password (what bench server printed), unless "
        "$MLFLOW_AUTH_ADMIN_PASSWORD is set.",
    ),
) -> None:
    """Create a user on a `bench server --auth` and grant READ or EDIT on experiments (as admin)."""
    from benchmark.commands.common import user_errors

    with user_errors():
        from benchmark.server.users import add_user

        for line in add_user(tracking_uri, name, password, permission, experiment, auth_dir):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
