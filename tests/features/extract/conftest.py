"""Short clips made with PyAV, and one extraction of them shared by the tests that read its store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("av")
pytest.importorskip("mediapipe")

from features.extract.clips import write_clip

FRAMES = 3
CLIP = {"seconds": 2.0, "fps": 8, "size": (160, 120)}
#: class -> file -> clip kind. Every class keeps 3 readable videos, so the store can be split.
LAYOUT = {
    "Joy": {"tone1.mp4": "person", "tone2.MP4": "person", "silent.AVI": "silent"},
    "Calm": {
        "blank.mkv": "blank",
        "tone3.mov": "person",
        "tone4.mp4": "person",
        "zero.mp4": "zero",
        "corrupt.mp4": "corrupt",
    },
}
PERSON = ["Joy/tone1.mp4", "Joy/tone2.MP4", "Joy/silent.AVI", "Calm/tone3.mov", "Calm/tone4.mp4"]
UNREADABLE = ["Calm/corrupt.mp4", "Calm/zero.mp4"]


def make_clip(path: Path, kind: str) -> None:
    if kind == "person":
        write_clip(path, **CLIP)
    elif kind == "silent":
        write_clip(path, tone_hz=None, video_codec="mpeg4", **CLIP)
    elif kind == "blank":
        write_clip(path, person=False, tone_hz=None, **CLIP)
    elif kind == "zero":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for label, files in LAYOUT.items():
        (root / label).mkdir()
        for name, kind in files.items():
            make_clip(root / label / name, kind)
    (root / "Joy" / ".DS_Store").write_bytes(b"finder junk")  # hidden: ignored
    return root


def copy_videos(src: Path, dst: Path, ids: list[str] | None = None) -> Path:
    if ids is None:
        shutil.copytree(src, dst)
        return dst
    for video_id in ids:
        (dst / video_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / video_id, dst / video_id)
    return dst


def extract_args(videos: Path, out: Path, *extra: str) -> list[str]:
    return [
        "extract",
        str(videos),
        "--out",
        str(out),
        "--frames",
        str(FRAMES),
        "--workers",
        "1",
        "--device",
        "cpu",
        "--visual-weights",
        "random",
        "--audio-weights",
        "random",
        *extra,
    ]


def bench(*args: str):
    from tests.cli import bench as run_bench

    return run_bench(*args)


@pytest.fixture(scope="session")
def extracted(clip_dir, tmp_path_factory):
    """(store path, CLI output) of one `bench extract` over every clip."""
    out = tmp_path_factory.mktemp("extracted") / "store"
    result = bench(*extract_args(clip_dir, out, "--name", "clips"))
    assert result.exit_code == 0, result.output
    return out, result.output
