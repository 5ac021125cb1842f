"""Audio features: torchvggish VGGish, one raw 128-d embedding per 0.96 s window.

Each sampled timestamp t gets the embedding of the window that holds it (window k covers
[0.96 k, 0.96 (k + 1)) s). VGGish's framing keeps only whole windows; by default
(``last_window="zero-padded"``, as AudioSet's own pipeline pads) the clip's final partial window is
completed with silence, so every timestamp inside the audio gets an embedding and the mask is false
only where there is no audio. ``"dropped"`` is the earlier behaviour (the last partial window's
timestamps got zeros, mask false), kept so that stores extracted with it can be resumed. The PCA and 8-bit
quantisation post-process of AudioSet is not applied:
its parameters are a second download, and a linear whitening adds nothing that the benchmark's
per-dimension standardisation and first linear layer do not already do.
"""

from __future__ import annotations

import numpy as np

from features.extract import require
from features.extract.decode import AUDIO_RATE
from features.extract.weights import RANDOM_SEED, Weights

WINDOW_S = 0.96
ZERO_PADDED, DROPPED = "zero-padded", "dropped"
LAST_WINDOW = (ZERO_PADDED, DROPPED)
_WINDOW_SAMPLES = round(WINDOW_S * AUDIO_RATE)  # 15360
_STFT_TAIL = 400 - 160  # a 25 ms STFT window hopping 10 ms: samples past the last hop that complete its frame


class VGGishFeatures:
    dim = 128

    def __init__(self, weights: Weights, device: str = "cpu", last_window: str = ZERO_PADDED):
        if last_window not in LAST_WINDOW:
            from benchmark.params import ParamError

            raise ParamError(f"--audio-last-window must be one of {', '.join(LAST_WINDOW)}, got {last_window!r}")
        self.last_window = last_window
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

                raise ParamError(
                    f"--audio-weights {weights.path}: not a VGGish state dict ({str(exc).splitlines()[0]})"
                ) from None
        self.model = model.eval().to(device)

    @staticmethod
    def info(last_window: str = ZERO_PADDED) -> dict[str, object]:
        from importlib.metadata import version

        info = {
            "extractor": "vggish",
            "library": "torchvggish",
            "version": version("torchvggish"),
            "window_s": WINDOW_S,
            "postprocess": "none (raw embedding, no PCA/quantisation)",
            "alignment": "window floor((t - audio start) / 0.96) holds timestamp t; no such window -> zeros, mask "
            "false",
        }
        if last_window == ZERO_PADDED:  # (a "dropped" store's meta stays as it was written)
            info["alignment"] = (
                "window floor((t - audio start) / 0.96) holds timestamp t, the last partial window zero-padded "
                "to 0.96 s; t outside the audio -> zeros, mask false"
            )
            info["last_window"] = ZERO_PADDED
        return info

    def __call__(
        self, audio: np.ndarray | None, timestamps: np.ndarray, offset: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """16 kHz mono samples (None: no audio stream) -> float32 [T, 128] and bool mask [T].
        ``offset``: seconds from the first video frame to the first audio sample."""
        features = np.zeros((len(timestamps), self.dim), dtype=np.float32)
        mask = np.zeros(len(timestamps), dtype=bool)
        if audio is None:
            return features, mask
        since, seconds = np.asarray(timestamps) - offset, len(audio) / AUDIO_RATE
        if self.last_window == ZERO_PADDED and len(audio):
            windows = -(-len(audio) // _WINDOW_SAMPLES)
            audio = np.pad(audio, (0, windows * _WINDOW_SAMPLES + _STFT_TAIL - len(audio)))  # earlier windows unchanged
        examples = self.examples(audio, AUDIO_RATE, return_tensor=False)  # [windows, 96, 64] log-mel
        window = np.floor(since / WINDOW_S).astype(int)
        mask = (window >= 0) & (window < len(examples))
        if self.last_window == ZERO_PADDED:
            mask &= since < seconds  # inside the audio, not in the padding
        if not mask.any():
            return features, mask
        needed, where = np.unique(window[mask], return_inverse=True)
        batch = self.torch.from_numpy(np.ascontiguousarray(examples[needed], dtype=np.float32))[:, None]
        with self.torch.inference_mode():
            embedded = self.model(batch.to(self.device)).float().cpu().numpy()
        features[mask] = embedded.reshape(len(needed), self.dim)[where]
        return features, mask
