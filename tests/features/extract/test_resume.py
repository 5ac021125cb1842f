"""A killed run loses at most the videos in flight; the next run finishes the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from features.store import open_store
from tests.features.extract.conftest import bench, copy_videos, extract_args

REPO = Path(__file__).resolve().parents[3]
VIDEOS = ["Joy/tone1.mp4", "Joy/tone2.MP4", "Joy/silent.AVI"]


def test_kill_during_a_parallel_run_then_resume(clip_dir, extracted, tmp_path):
    videos = copy_videos(clip_dir, tmp_path / "videos", VIDEOS)
    out = tmp_path / "store"
    args = extract_args(videos, out)
    args[args.index("--workers") + 1] = "2"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = tmp_path / "first-run.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmark.cli", *args],
            env=env,
            start_new_session=True,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240
        while not list((out / "parts").glob("*.npz")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the command and its worker processes, mid-run
        except ProcessLookupError:  # it had already finished
            pass
        process.wait()
    kept = len(list((out / "parts").glob("*.npz")))
    assert kept >= 1, log.read_text()
    assert not (out / "meta.json").exists() or kept == len(VIDEOS)

    resumed = bench(*args[: args.index("--workers")], *args[args.index("--workers") + 2 :], "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert f"{len(VIDEOS) - kept} to extract, {kept} already extracted" in " ".join(resumed.output.split())
    store, reference = open_store(out), open_store(extracted[0])
    assert sorted(store.ids) == sorted(VIDEOS)
    # workers and the main process built the same random networks: features match the one-process run
    for i, video_id in enumerate(store.ids):
        j = list(reference.ids).index(video_id)
        for modality in ("visual", "audio", "skeleton"):
            np.testing.assert_allclose(store.arrays[modality][i], reference.arrays[modality][j], rtol=1e-3, atol=1e-4)
