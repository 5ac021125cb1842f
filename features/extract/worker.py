"""One video in, one :class:`Part` out: decoding and the three extractors, timed per stage.

The networks are built on the first video that decodes, so a folder of unreadable files never
loads them. The process-pool functions keep one set of extractors per worker process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from benchmark.params import ParamError
from features.extract.decode import VideoReadError, decode
from features.extract.parts import Part
from features.extract.sources import Video
from features.extract.weights import Weights


@dataclass(frozen=True)
class Settings:
    frames: int
    device: str
    visual: Weights
    audio: Weights
    batch_size: int = 32
    threads: int | None = None  # torch threads per worker process; None leaves torch's default
    native_log: Path | None = None  # where C++ libraries' stderr lines go (mediapipe logs at every video)
    audio_last_window: str = "zero-padded"  # features.extract.audio.LAST_WINDOW


class Extractors:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.models: tuple[Any, Any, Any] | None = None

    def build(self) -> None:
        """Load the networks (once). Bad weights raise ParamError: a setup error, not a video's."""
        if self.models is not None:
            return
        if self.settings.threads:
            import torch

            torch.set_num_threads(self.settings.threads)
        s = self.settings
        self.models = _models(s.visual, s.audio, s.device, s.batch_size, s.audio_last_window)

    def __call__(self, video: Video) -> Part:
        """Raises VideoReadError when the file cannot be used as a video."""
        clock = time.perf_counter
        start = clock()
        decoded = decode(video.path, self.settings.frames)
        t_decode = clock()
        self.build()
        assert self.models is not None  # build() made them
        swin, vggish, pose = self.models
        t_build = clock()
        visual = swin(decoded.frames)
        t_visual = clock()
        audio, audio_mask = vggish(decoded.audio, decoded.timestamps, decoded.audio_offset)
        t_audio = clock()
        skeleton, skeleton_mask = pose(decoded.frames)
        t_skeleton = clock()
        info = {
            "duration_s": round(decoded.duration, 3),
            "audio_stream": decoded.audio is not None,
            "audio_error": decoded.audio_error or "",
            "seconds": {
                "decode": t_decode - start,
                "visual": t_visual - t_build,
                "audio": t_audio - t_visual,
                "skeleton": t_skeleton - t_audio,
            },
        }
        return Part(
            visual=visual, audio=audio, audio_mask=audio_mask, skeleton=skeleton, skeleton_mask=skeleton_mask, info=info
        )


@lru_cache(maxsize=1)
def _models(visual: Weights, audio: Weights, device: str, batch_size: int, last_window: str = "zero-padded") -> tuple:
    """The three extractors, kept for the next run in the same process (a notebook, or a re-run
    after --retry-failed) since building them takes seconds. The pose tracker is reset per video."""
    from features.extract.audio import VGGishFeatures
    from features.extract.skeleton import PoseFeatures
    from features.extract.visual import SwinFeatures

    return SwinFeatures(visual, device, batch_size), VGGishFeatures(audio, device, last_window), PoseFeatures()


def attempt(extractors: Extractors, video: Video) -> tuple[Part | None, str | None]:
    """(part, None) or (None, reason): an unreadable video, or any extractor error on it."""
    try:
        return extractors(video), None
    except VideoReadError as exc:
        return None, str(exc)
    except ParamError:
        raise
    except Exception as exc:
        return None, f"extraction error: {type(exc).__name__}: {exc}"


@contextmanager
def native_stderr_to(path: Path | None) -> Iterator[None]:
    """Send file descriptor 2 (where mediapipe's C++ logging writes, breaking the progress bar) to
    a log file; Python's own errors are raised, not printed, so nothing of use is lost."""
    if path is None:
        yield
        return
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


_EXTRACTORS: Extractors | None = None
_SETUP_ERROR: str | None = None


def init_worker(settings: Settings) -> None:
    """Build the extractors once per process. A setup error (say, a weights file of the wrong model)
    is kept and returned with each video, so the main process reports it instead of a dead pool."""
    global _EXTRACTORS, _SETUP_ERROR
    if settings.native_log is not None:
        log = os.open(settings.native_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 2)
        os.close(log)
    try:
        extractors = Extractors(settings)
        extractors.build()
        _EXTRACTORS = extractors
    except Exception as exc:
        _SETUP_ERROR = str(exc)


def run_in_worker(video: Video) -> tuple[Video, Part | None, str | None, str | None]:
    if _EXTRACTORS is None:
        return video, None, None, _SETUP_ERROR or "extractors were not set up"
    part, reason = attempt(_EXTRACTORS, video)
    return video, part, reason, None
