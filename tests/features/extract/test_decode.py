import av
import numpy as np
import pytest

from features.extract.clips import write_clip
from features.extract.decode import AUDIO_RATE, VideoReadError, decode, sample_times


def test_sample_times_are_segment_centres_over_the_whole_duration():
    times = sample_times(10.0, 4)
    assert times.tolist() == [1.25, 3.75, 6.25, 8.75]
    assert np.allclose(np.diff(sample_times(107.0, 100)), 1.07)


def all_frames(path):
    with av.open(str(path)) as container:
        return [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


@pytest.mark.parametrize("count", [4, 25])
def test_decode_returns_the_frame_on_screen_at_each_timestamp(tmp_path, count):
    path = write_clip(tmp_path / "clip.mp4", seconds=20, fps=5, size=(64, 48), keyframe_interval=10)
    decoded = decode(path, count)
    reference = all_frames(path)
    times = np.array([t for t, _ in reference])
    assert decoded.frames.shape == (count, 48, 64, 3)
    for frame, t in zip(decoded.frames, decoded.timestamps):
        expected = reference[np.searchsorted(times, t, side="right") - 1][1]
        assert np.array_equal(frame, expected)
    if count == 4:  # timestamps 5 s apart: seeks, never decodes the whole 100-frame video
        assert decoded.frames_decoded < len(reference) / 2


def test_audio_is_mono_16k_and_absent_without_an_audio_stream(tmp_path):
    with_tone = decode(write_clip(tmp_path / "a.mkv", seconds=2, fps=5, size=(64, 48), sample_rate=44100), 3)
    assert with_tone.audio.ndim == 1 and with_tone.audio.dtype == np.float32
    assert abs(len(with_tone.audio) - 2 * AUDIO_RATE) < 0.1 * AUDIO_RATE
    spectrum = np.abs(np.fft.rfft(with_tone.audio))
    assert np.fft.rfftfreq(len(with_tone.audio), 1 / AUDIO_RATE)[spectrum.argmax()] == pytest.approx(440, abs=5)
    silent = decode(
        write_clip(tmp_path / "b.avi", seconds=2, fps=5, size=(64, 48), tone_hz=None, video_codec="mpeg4"), 3
    )
    assert silent.audio is None and silent.audio_error is None


def test_unreadable_files_raise_with_a_reason(tmp_path):
    (tmp_path / "zero.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a video\n" * 50)
    (tmp_path / "junk.mp4").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "photo.JPG").write_bytes(_jpeg())
    with pytest.raises(VideoReadError, match="0 bytes"):
        decode(tmp_path / "zero.mp4", 4)
    with pytest.raises(VideoReadError, match="not found"):
        decode(tmp_path / "missing.mp4", 4)
    for name in ("notes.txt", "junk.mp4", "photo.JPG"):
        with pytest.raises(VideoReadError):
            decode(tmp_path / name, 4)


def test_a_sound_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(VideoReadError, match="no video stream"):
        decode(path, 4)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_pyav_without_metadata_errors_still_decodes(tmp_path, monkeypatch):
    """PyAV 19 dropped ``av.open(..., metadata_errors=)`` (seen on Python 3.12): decode opens without it."""
    path = write_clip(tmp_path / "clip.mp4", seconds=2, fps=5, size=(64, 48))
    real_open, calls = av.open, []

    def open_without_metadata_errors(file, *args, **kwargs):
        calls.append(sorted(kwargs))
        if "metadata_errors" in kwargs:
            raise TypeError("open() got an unexpected keyword argument 'metadata_errors'")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", open_without_metadata_errors)
    decoded = decode(path, 3)
    assert decoded.frames.shape == (3, 48, 64, 3) and decoded.audio is not None
    assert [] in calls and ["metadata_errors"] in calls
