"""Services the distributed tests need, started on 127.0.0.1 and stopped afterwards.

PostgreSQL comes from Debian's packages (``.ci/run`` installs them); a throwaway cluster is created in a
temporary folder on a free port. When the binaries are missing the tests that need them are skipped
with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres(databases: tuple[str, ...] = ("mlflow", "optuna"), password: str = "bench") -> Iterator[str]:
    """Yield ``postgresql://bench:PASSWORD@127.0.0.1:PORT`` with the given databases created."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does this)")
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    run = lambda cmd: subprocess.run(_as_postgres(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run([str(bin_dir / "initdb"), "-D", str(data), "-U", "bench", "--pwfile", str(pwfile), "-A", "md5"])
    run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(root / "log"),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "start",
        ]
    )
    env = {**os.environ, "PGPASSWORD": password}
    try:
        for name in databases:
            subprocess.run(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bench", name],
                check=True,
                env=env,
                capture_output=True,
            )
        yield f"postgresql://bench:{password}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def mlflow_server(backend_store_uri: str, artifacts: Path) -> Iterator[str]:
    """Start the real ``bench server`` on a free port; yield its tracking URI."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmark.cli",
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        str(artifacts),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    log = open(artifacts.parent / "mlflow-server.log", "w")  # noqa: SIM115  (the server writes it until it stops)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(
                    f"bench server did not start: {(artifacts.parent / 'mlflow-server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield uri
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
        log.close()
