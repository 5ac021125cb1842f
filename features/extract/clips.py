"""Synthetic clips written with PyAV: a moving photo of a person with a tone, or a blank picture.

The tests and the throughput benchmark use them, and they are a quick way to check an install:
``bench extract`` on a folder of these must find a pose on the person clips and none on the blank.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.extract import require


def person_picture() -> np.ndarray:
    """scikit-image's astronaut photo (RGB uint8): a real person, shipped with the package."""
    data = require("skimage.data")
    return data.astronaut()


def write_clip(
    path: str | Path,
    *,
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] = (240, 180),
    person: bool = True,
    tone_hz: float | None = 440.0,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    sample_rate: int = 44100,
    keyframe_interval: int | None = None,
) -> Path:
    """Write a clip: the person photo drifting across the frame (or a flat grey picture), with a
    stereo sine tone at ``sample_rate`` (or no audio stream when ``tone_hz`` is None)."""
    av = require("av")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    n_frames = max(1, int(round(seconds * fps)))
    picture = _fit(person_picture(), height) if person else None
    with av.open(str(path), mode="w") as container:
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if keyframe_interval:
            video.codec_context.gop_size = keyframe_interval
        audio = None
        if tone_hz is not None:
            audio = container.add_stream(audio_codec, rate=sample_rate)
            audio.layout = "stereo"
        for i in range(n_frames):
            image = np.full((height, width, 3), 128, dtype=np.uint8)
            if picture is not None:
                shift = int((width - picture.shape[1]) * (0.5 + 0.5 * np.sin(2 * np.pi * i / max(n_frames, 2))))
                image[:, shift : shift + picture.shape[1]] = picture
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio is not None and tone_hz is not None:
            _write_tone(av, container, audio, seconds, tone_hz, sample_rate)
    return path


def _fit(picture: np.ndarray, height: int) -> np.ndarray:
    """Scale the photo to the clip's height (nearest neighbour keeps this free of extra deps)."""
    rows = np.linspace(0, picture.shape[0] - 1, height).astype(int)
    width = int(round(picture.shape[1] * height / picture.shape[0]))
    cols = np.linspace(0, picture.shape[1] - 1, width).astype(int)
    return picture[rows][:, cols]


def _write_tone(av, container, stream, seconds: float, tone_hz: float, sample_rate: int) -> None:
    total = int(seconds * sample_rate)
    chunk = 1024
    for start in range(0, total, chunk):
        t = np.arange(start, min(start + chunk, total)) / sample_rate
        wave = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        samples = np.stack([wave, wave])  # planar stereo
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())
