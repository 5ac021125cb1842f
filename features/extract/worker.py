"""One video in, one :class:`Part` out: decoding and the three extractors, timed per stage.

The process-pool functions keep one set of extractors per worker process, built once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

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


class Extractors:
    def __init__(self, settings: Settings):
        from features.extract.audio import VGGishFeatures
        from features.extract.skeleton import PoseFeatures
        from features.extract.visual import SwinFeatures

        if settings.threads:
            import torch

            torch.set_num_threads(settings.threads)
        self.settings = settings
        self.visual = SwinFeatures(settings.visual, settings.device, settings.batch_size)
        self.audio = VGGishFeatures(settings.audio, settings.device)
        self.skeleton = PoseFeatures()

    def __call__(self, video: Video) -> Part:
        """Raises VideoReadError when the file cannot be used as a video."""
        clock = time.perf_counter
        start = clock()
        decoded = decode(video.path, self.settings.frames)
        t_decode = clock()
        visual = self.visual(decoded.frames)
        t_visual = clock()
        audio, audio_mask = self.audio(decoded.audio, decoded.timestamps)
        t_audio = clock()
        skeleton, skeleton_mask = self.skeleton(decoded.frames)
        t_skeleton = clock()
        info = {
            "duration_s": round(decoded.duration, 3),
            "audio_stream": decoded.audio is not None,
            "audio_error": decoded.audio_error or "",
            "seconds": {"decode": t_decode - start, "visual": t_visual - t_decode,
                        "audio": t_audio - t_visual, "skeleton": t_skeleton - t_audio},
        }
        return Part(visual=visual, audio=audio, audio_mask=audio_mask, skeleton=skeleton,
                    skeleton_mask=skeleton_mask, info=info)


def attempt(extractors: Extractors, video: Video) -> tuple[Part | None, str | None]:
    """(part, None) or (None, reason): an unreadable video, or any extractor error on it."""
    try:
        return extractors(video), None
    except VideoReadError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad video must not stop the others; the reason is kept
        return None, f"extraction error: {type(exc).__name__}: {exc}"


_EXTRACTORS: Extractors | None = None
_SETUP_ERROR: str | None = None


def init_worker(settings: Settings) -> None:
    """Build the extractors once per process. A setup error (say, a weights file of the wrong model)
    is kept and returned with each video, so the main process reports it instead of a dead pool."""
    global _EXTRACTORS, _SETUP_ERROR
    try:
        _EXTRACTORS = Extractors(settings)
    except Exception as exc:  # noqa: BLE001
        _SETUP_ERROR = str(exc)


def run_in_worker(video: Video) -> tuple[Video, Part | None, str | None, str | None]:
    if _EXTRACTORS is None:
        return video, None, None, _SETUP_ERROR or "extractors were not set up"
    part, reason = attempt(_EXTRACTORS, video)
    return video, part, reason, None
