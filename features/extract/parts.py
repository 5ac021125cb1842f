"""Per-video results on disk (``STORE/parts/``), so that a run can be killed and resumed.

Each finished video is one ``<key>.npz`` written to a temporary name and renamed, so a part is
either complete or absent: a killed run loses only the videos that were in flight. A video that
could not be read leaves ``<key>.failed.json`` with the reason instead. ``settings.json`` holds what
the parts depend on (T, sampling, weights); parts made with other settings are never mixed in.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.params import ParamError
from features.extract.sources import Video

PARTS_DIR = "parts"
SETTINGS_FILE = "settings.json"


@dataclass
class Part:
    """One video's features. Arrays are [T, dim] float32; masks [T] bool."""

    visual: np.ndarray
    audio: np.ndarray
    audio_mask: np.ndarray
    skeleton: np.ndarray
    skeleton_mask: np.ndarray
    info: dict = field(default_factory=dict)  # duration, audio stream, per-stage seconds, ...


def part_key(video_id: str) -> str:
    return hashlib.sha1(video_id.encode()).hexdigest()[:20]


class Parts:
    def __init__(self, store: Path):
        self.dir = Path(store) / PARTS_DIR

    def prepare(self, settings: dict, legacy: dict | None = None) -> None:
        """Create the folder, or check that its parts were made with the same settings. ``legacy``:
        the value a setting had before it was recorded (a ``settings.json`` without that key)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / SETTINGS_FILE
        if path.exists():
            old = {**(legacy or {}), **json.loads(path.read_text())}
            if old != settings:
                changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
                raise ParamError(
                    f"{self.dir} holds features extracted with other settings ({', '.join(changed)}: "
                    f"{[old.get(k) for k in changed]} there, {[settings.get(k) for k in changed]} now); "
                    "extract into another --out, or delete that folder to start again"
                )
        else:
            _atomic_write(path, json.dumps(settings, indent=2).encode())

    def _file(self, video: Video, suffix: str) -> Path:
        return self.dir / f"{part_key(video.id)}{suffix}"

    def done(self, video: Video) -> bool:
        return self._file(video, ".npz").exists()

    def failure(self, video: Video) -> str | None:
        path = self._file(video, ".failed.json")
        return json.loads(path.read_text())["reason"] if path.exists() else None

    def save(self, video: Video, part: Part) -> None:
        import io

        buffer = io.BytesIO()
        np.savez(
            buffer,
            id=np.array(video.id),
            visual=part.visual,
            audio=part.audio,
            audio_mask=part.audio_mask,
            skeleton=part.skeleton,
            skeleton_mask=part.skeleton_mask,
            info=np.array(json.dumps(part.info)),
        )
        _atomic_write(self._file(video, ".npz"), buffer.getvalue())
        self._file(video, ".failed.json").unlink(missing_ok=True)

    def save_failure(self, video: Video, reason: str) -> None:
        record = {"id": video.id, "label": video.label, "path": str(video.path), "reason": reason}
        _atomic_write(self._file(video, ".failed.json"), json.dumps(record).encode())

    def load(self, video: Video) -> Part:
        with np.load(self._file(video, ".npz"), allow_pickle=False) as data:
            if str(data["id"]) != video.id:  # a hash collision, or a folder copied from elsewhere
                raise ParamError(f"{self._file(video, '.npz')} holds {str(data['id'])!r}, expected {video.id!r}")
            return Part(
                visual=data["visual"],
                audio=data["audio"],
                audio_mask=data["audio_mask"],
                skeleton=data["skeleton"],
                skeleton_mask=data["skeleton_mask"],
                info=json.loads(str(data["info"])),
            )


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
