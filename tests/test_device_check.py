"""``scripts/device_check.sh --dry-run``: the GPU check's steps, tiny, on the CPU, ending in one JSON line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_check_dry_run_runs_every_step_and_prints_json_last():
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "device_check.sh"), "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["device_check"] == "dry-run"
    assert figures["perf_vectorised"]["engine"] == "vectorised" and figures["perf_plain"]["engine"] == "plain"
    for name in ("perf_vectorised", "perf_plain"):
        assert "pct_of_matmul_peak" in figures[name]["loops"]["reference"]
    assert "trained 4 split runs" in figures["table2_paper_split"]["summary"]
    assert figures["extract"]["videos_per_s"] > 0
    assert not (ROOT / ".device-venv").exists()  # a dry run installs nothing
