"""Weights: explicit sources only, files hashed, a random network identical in every process."""

import hashlib
import re

import pytest
import torch

from benchmark.params import ParamError
from features.extract.weights import RANDOM, resolve_audio, resolve_visual


def test_random_and_missing_files(tmp_path):
    assert resolve_visual("random").meta_value == RANDOM == resolve_audio("random").meta_value
    with pytest.raises(
        ParamError,
        match=re.escape("--visual-weights 'nope.pth' is neither a weights file nor one of 'timm' or 'random'"),
    ):
        resolve_visual("nope.pth")
    with pytest.raises(ParamError, match="--audio-weights"):
        resolve_audio(str(tmp_path / "missing.pth"))


def test_a_swin_weights_file_is_loaded_and_hashed(tmp_path):
    import timm

    from features.extract.visual import SwinFeatures

    torch.manual_seed(123)
    source = timm.create_model("swin_tiny_patch4_window7_224").eval()  # with its 1000-class head, as released
    path = tmp_path / "swin.pth"
    torch.save(source.state_dict(), path)
    weights = resolve_visual(str(path))
    assert weights.meta_value == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = SwinFeatures(weights).model.state_dict()  # random init would be seed 0, not the saved seed-123 network
    saved = source.state_dict()
    assert set(saved) - set(loaded) == {"head.fc.weight", "head.fc.bias"}  # the classifier is dropped: pooled 768-d out
    for key, value in loaded.items():
        assert torch.equal(value, saved[key]), key


def test_a_wrong_vggish_file_is_refused(tmp_path):
    from features.extract.audio import VGGishFeatures

    path = tmp_path / "other.pth"
    torch.save({"layer.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ParamError, match="not a VGGish state dict"):
        VGGishFeatures(resolve_audio(str(path)))
