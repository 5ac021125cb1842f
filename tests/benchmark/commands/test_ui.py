"""``bench ui``: deep links that open each suite's table, and no server left behind after SIGTERM.

Both tests start a real MLflow server (tens of seconds on a loaded machine); the first also drives the
printed links in headless Chromium and reads the rendered runs table.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.benchmark.test_run import bench
from tests.browser import dump_dom, grid_rows, screenshot

SUITE = """
name = "mini"
title = "Mini ablation"
reference = "full"
[[rows]]
name = "w/o visual"
model = "proposed"
modalities = ["audio", "skeleton"]
paper = 37.4
[[rows]]
name = "w/o audio"
model = "proposed"
modalities = ["visual", "skeleton"]
paper = 39.9
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
paper = 43.2
"""
ROWS = ["w/o visual", "w/o audio", "full"]
STARTUP_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_ui(uri: str, port: int, log: Path) -> tuple[subprocess.Popen, list[str]]:
    """``bench ui`` as a user runs it; returns the process and the lines it printed once it is up."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    out = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmark.cli", "ui", "--tracking-uri", uri, "--port", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Ctrl-C stops the server." in text:
            return process, text.splitlines()
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"bench ui did not come up:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.slow
def test_sigterm_leaves_the_port_free_within_10_s(tmp_path):
    port = free_port()
    process, lines = start_ui(f"sqlite:///{tmp_path / 'mlflow.db'}", port, tmp_path / "ui.log")
    try:
        assert any("no suite tables yet" in line for line in lines)
        assert not port_free(port)
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_free(port), "the MLflow server still holds the port 10 s after SIGTERM"
        assert process.wait(timeout=10) == 0
    finally:
        stop(process)


def test_a_busy_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = bench("ui", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--port", str(port))
    assert result.exit_code == 2 and f"port {port}" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_each_printed_link_opens_the_suite_table_in_row_order(tiny_store, tmp_path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium is not installed (apt-get install chromium; make test does this)")
    suite = tmp_path / "mini.toml"
    suite.write_text(SUITE)
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    result = bench(
        "run",
        "--suite",
        str(suite),
        "--features",
        str(tiny_store),
        "--n-splits",
        "2",
        "--epochs",
        "2",
        "--tracking-uri",
        uri,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    result = bench(
        "run",
        "--suite",
        "table2",
        "--features",
        str(tiny_store),
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--tracking-uri",
        uri,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    process, lines = start_ui(uri, free_port(), tmp_path / "ui.log")
    try:
        links = dict(re.findall(r"synthetic-ve8-seed3 / (\S+): (http://\S+)", "\n".join(lines)))
        assert sorted(links) == ["mini", "table2"]
        for suite_name, link in links.items():
            expected = client.search_runs(
                [experiment],
                f"tags.`bench.kind` = 'parent' and tags.`bench.suite` = '{suite_name}'",
                order_by=["tags.`bench.row_order` ASC"],
            )
            shot = screenshot(link, tmp_path / f"{suite_name}.png")
            if os.environ.get("BENCH_SCREENSHOTS"):  # keep them for a person to look at
                shutil.copy(shot, Path(os.environ["BENCH_SCREENSHOTS"]) / shot.name)
            rows = grid_rows(dump_dom(link))
            names = [r.get("attributes.`Run Name`", "") for r in rows]
            assert len(rows) == len(expected), names
            for row, run in zip(rows, expected):  # the suite's parents only, in its row order, accuracy filled
                assert row["attributes.`Run Name`"].endswith(f"{suite_name} / {run.data.tags['bench.row']}")
                shown = float(row["metrics.`test_acc_mean`"])
                assert shown == pytest.approx(run.data.metrics["test_acc_mean"], abs=1e-6) and 0 <= shown <= 1
                assert float(row["metrics.`test_acc_paper`"]) == pytest.approx(run.data.metrics["test_acc_paper"])
                assert row["metrics.`n_splits`"] == "2" and row["params.`modalities`"] == run.data.params["modalities"]
                assert "synthetic-ve8-seed3" in row["attributes.`Dataset`"]
            if suite_name == "mini":
                assert [n.split(" / ")[-1] for n in names] == ROWS
    finally:
        stop(process)
