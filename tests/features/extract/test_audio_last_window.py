"""`bench extract` gives every sampled timestamp of a clip with sound an audio embedding; parts made
before the setting existed (the last partial window dropped) are not mixed with new ones."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from features.extract.clips import write_clip
from tests.features.extract.conftest import bench

T = 16


def digest(folder):
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_4_s_clip_with_sound_has_audio_in_all_16_frames_and_old_parts_are_not_mixed(tmp_path):
    videos = tmp_path / "videos"
    write_clip(videos / "Joy" / "tone.mp4", seconds=4.0, fps=8, size=(160, 120))
    out = tmp_path / "store"
    args = [
        "extract",
        str(videos),
        "--out",
        str(out),
        "--frames",
        str(T),
        "--workers",
        "1",
        "--device",
        "cpu",
        "--visual-weights",
        "random",
        "--audio-weights",
        "random",
    ]
    result = bench(*args)
    assert result.exit_code == 0, result.output
    mask = np.load(out / "audio.mask.npy")
    assert mask.shape == (1, T) and mask.all()
    assert np.abs(np.load(out / "audio.npy")[0]).sum(axis=1).min() > 0
    assert json.loads((out / "meta.json").read_text())["modalities"]["audio"]["last_window"] == "zero-padded"

    settings = out / "parts" / "settings.json"  # as a store extracted before the setting existed
    old = json.loads(settings.read_text())
    del old["audio_last_window"]
    settings.write_text(json.dumps(old, indent=2))
    kept = digest(out)
    refused = bench(*args)
    assert refused.exit_code == 2 and "audio_last_window" in refused.output and "'dropped'" in refused.output
    resumed = bench(*args, "--audio-last-window", "dropped")
    assert resumed.exit_code == 0 and "nothing to extract" in resumed.output, resumed.output
    assert digest(out) == kept and json.loads(settings.read_text()) == old  # its bytes are kept
