"""Audio features: torchvggish VGGish, one raw 128-d embedding per 0.96 s window.

Each sampled timestamp t gets the embedding of the window that holds it (window k covers
[0.96 k, 0.96 (k + 1)) s). The PCA and 8-bit quantisation post-process of AudioSet is not applied:
its parameters are a second download, and a linear whitening adds nothing that the benchmark's
per-dimension standardisation and first linear layer do not already do.
"""

from __future__ import annotations

import numpy as np

from features.extract import require
from features.extract.decode import AUDIO_RATE
from features.extract.weights import RANDOM_SEED, Weights

WINDOW_S = 0.96


class VGGishFeatures:
    dim = 128

    def __init__(self, weights: Weights, device: str = "cpu"):
        torch = require("torch")
        vggish = require("torchvggish.torchvggish")
        self.torch, self.device = torch, device
        self.examples = require("torchvggish.vggish_input").waveform_to_examples
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            model = vggish.VGG(vggish.make_layers(), postprocess=False)
        if weights.path is not None:
            state = torch.load(weights.path, map_location="cpu", weights_only=True)
            try:
                model.load_state_dict(state)
            except RuntimeError as exc:
                from benchmark.params import ParamError

                raise ParamError(f"--audio-weights {weights.path}: not a VGGish state dict ({str(exc).splitlines()[0]})") from None
        self.model = model.eval().to(device)

    @staticmethod
    def info() -> dict[str, object]:
        from importlib.metadata import version

        return {"extractor": "vggish", "library": "torchvggish", "version": version("torchvggish"),
                "window_s": WINDOW_S, "postprocess": "none (raw embedding, no PCA/quantisation)",
                "alignment": "window floor((t - audio start) / 0.96) holds timestamp t; no such window -> zeros, mask false"}

    def __call__(self, audio: np.ndarray | None, timestamps: np.ndarray, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """16 kHz mono samples (None: no audio stream) -> float32 [T, 128] and bool mask [T].
        ``offset``: seconds from the first video frame to the first audio sample."""
        features = np.zeros((len(timestamps), self.dim), dtype=np.float32)
        mask = np.zeros(len(timestamps), dtype=bool)
        if audio is None:
            return features, mask
        examples = self.examples(audio, AUDIO_RATE, return_tensor=False)  # [windows, 96, 64] log-mel
        window = np.floor((np.asarray(timestamps) - offset) / WINDOW_S).astype(int)
        mask = (window >= 0) & (window < len(examples))
        if not mask.any():
            return features, mask
        needed, where = np.unique(window[mask], return_inverse=True)
        batch = self.torch.from_numpy(np.ascontiguousarray(examples[needed], dtype=np.float32))[:, None]
        with self.torch.inference_mode():
            embedded = self.model(batch.to(self.device)).float().cpu().numpy()
        features[mask] = embedded.reshape(len(needed), self.dim)[where]
        return features, mask
