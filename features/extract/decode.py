"""Decoding with PyAV: T frames at uniformly spaced timestamps, and the audio track as 16 kHz mono.

Frames are reached by seeking (to the keyframe before each timestamp, then decoding forward), so a
long video costs about T short decodes rather than a decode of every frame. When timestamps are
closer together than ``SEEK_GAP_S`` the decoder just runs on, which is cheaper than seeking back to
the same keyframe again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from features.extract import require

AUDIO_RATE = 16_000
SEEK_GAP_S = 2.0
#: Frames are scaled down (never up) so that their longer side is at most this many pixels: enough
#: for BlazePose (256 x 256 input) and Swin (224 x 224 crop), and it bounds memory per video.
MAX_SIDE = 640
#: FFmpeg demuxers that open still images or text as a "video"; such files are not videos here.
NOT_VIDEO_FORMATS = ("tty", "image2")


def _not_a_video(format_name: str) -> bool:
    """Text (tty) and still-image demuxers (image2, jpeg_pipe, png_pipe, ...); animated GIF stays."""
    return format_name in NOT_VIDEO_FORMATS or (format_name.endswith("_pipe") and format_name != "gif_pipe")


SAMPLING_RULE = "t_i = (i + 0.5) * duration / T for i = 0..T-1 (centres of T equal segments); frame shown at t_i"


class VideoReadError(Exception):
    """The file cannot be used as a video; the message is the reason written to failures.csv."""


@dataclass
class Decoded:
    frames: np.ndarray  # uint8 [T, H, W, 3] RGB
    timestamps: np.ndarray  # float64 [T] seconds from the start of the video
    duration: float
    audio: np.ndarray | None  # float32 [samples] mono at AUDIO_RATE; None when there is no audio stream
    audio_error: str | None = None
    audio_offset: float = 0.0  # seconds from the video's first frame to the audio's first sample
    frames_decoded: int = 0  # video frames the decoder produced to find the T frames (seeking keeps it low)


def sample_times(duration: float, frames: int) -> np.ndarray:
    """The sampling rule (see SAMPLING_RULE): segment centres, so no frame sits on the very end."""
    return (np.arange(frames) + 0.5) * duration / frames


def _open(av, path: Path):
    """``av.open``, ignoring undecodable metadata where PyAV takes ``metadata_errors`` (up to 18; 19
    dropped the argument: a GPU machine's Python 3.12 got 19 and every video failed with a TypeError)."""
    try:
        return av.open(str(path), metadata_errors="ignore")
    except TypeError as exc:
        if "metadata_errors" not in str(exc):
            raise
        return av.open(str(path))


def decode(path: str | Path, frames: int) -> Decoded:
    av = require("av")
    path = Path(path)
    if not path.exists():
        raise VideoReadError("file not found")
    if path.stat().st_size == 0:
        raise VideoReadError("empty file (0 bytes)")
    try:
        with _open(av, path) as container:
            if _not_a_video(container.format.name):
                raise VideoReadError(f"not a video (FFmpeg reads it as {container.format.long_name})")
            if not container.streams.video:
                raise VideoReadError("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            times = sample_times(duration, frames)
            start = _start(stream)
            images, decoded = _frames_at(container, stream, times + start)
    except VideoReadError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise VideoReadError(f"cannot decode: {type(exc).__name__}: {exc}") from None
    audio, audio_start, audio_error = _audio(av, path)
    return Decoded(
        frames=images,
        timestamps=times,
        duration=duration,
        audio=audio,
        audio_error=audio_error,
        audio_offset=audio_start - start,
        frames_decoded=decoded,
    )


def _start(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _duration(container, stream) -> float:
    if stream.duration is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # AV_TIME_BASE
    # Unknown from the headers: read packet timestamps (demuxing only, no decoding).
    last = None
    for packet in container.demux(stream):
        if packet.pts is not None:
            end = (packet.pts + (packet.duration or 0)) * stream.time_base
            last = end if last is None else max(last, end)
    container.seek(0)
    if last is None:
        raise VideoReadError("duration unknown and no timestamped video packets")
    return float(last)


class _Cursor:
    """Walks a video stream forward; ``at(t)`` gives the frame on screen at time t."""

    def __init__(self, container, stream):
        self.container, self.stream = container, stream
        self.frames = None
        self.previous = None
        self.current = None
        self.decoded = 0

    def seek(self, t: float) -> None:
        self.container.seek(max(0, int(t / self.stream.time_base)), stream=self.stream, backward=True, any_frame=False)
        self.frames = self.container.decode(self.stream)
        self.previous, self.current = None, self._next()

    def at(self, t: float):
        now = None if self.current is None else _time(self.current)
        if self.frames is None or (now is not None and t - now > SEEK_GAP_S):
            self.seek(t)
        while self.current is not None and ((now := _time(self.current)) is None or now <= t):
            self.previous, self.current = self.current, self._next()
        return self.previous if self.previous is not None else self.current

    def _next(self):
        frame = next(self.frames, None)
        self.decoded += frame is not None
        return frame


def _time(frame) -> float | None:
    return frame.time


def _frames_at(container, stream, times: np.ndarray) -> tuple[np.ndarray, int]:
    cursor = _Cursor(container, stream)
    chosen: list[Any] = []
    for t in times:
        frame = cursor.at(float(t))
        if frame is None:
            if not chosen:
                raise VideoReadError("no decodable video frames")
            chosen.append(chosen[-1])  # past the last frame: repeat it
            continue
        chosen.append(_to_rgb(frame))
    return np.stack(chosen), cursor.decoded


def _to_rgb(frame) -> np.ndarray:
    width, height = frame.width, frame.height
    scale = min(1.0, MAX_SIDE / max(width, height))
    if scale < 1.0:
        width, height = max(2, round(width * scale)), max(2, round(height * scale))
    return frame.to_ndarray(format="rgb24", width=width, height=height)


def _audio(av, path: Path) -> tuple[np.ndarray | None, float, str | None]:
    """(samples, start time, error): the first audio stream mixed to mono at 16 kHz; None without
    one, or with the reason when it exists but cannot be decoded (the frames are still usable)."""
    start = 0.0
    try:
        with _open(av, path) as container:
            if not container.streams.audio:
                return None, start, None
            stream = container.streams.audio[0]
            start = _start(stream)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            chunks: list[np.ndarray] = []
            for packet in container.demux(stream):
                for frame in packet.decode():
                    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        return None, start, f"{type(exc).__name__}: {exc}"
    if not chunks:
        return None, start, "audio stream holds no decodable samples"
    return np.concatenate(chunks).astype(np.float32), start, None
