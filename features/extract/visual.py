"""Visual features: timm Swin-T, globally pooled 768-d per sampled frame, in batches."""

from __future__ import annotations

import numpy as np

from features.extract import require
from features.extract.weights import RANDOM_SEED, SWIN, Weights


class SwinFeatures:
    dim = 768

    def __init__(self, weights: Weights, device: str = "cpu", batch_size: int = 32):
        timm = require("timm")
        torch = require("torch")
        self.torch, self.device, self.batch_size = torch, device, batch_size
        overlay = {"file": str(weights.path)} if weights.path is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            # num_classes=0: the head is dropped and forward() returns the pooled 768-d feature.
            model = timm.create_model(
                SWIN, pretrained=overlay is not None, num_classes=0, pretrained_cfg_overlay=overlay
            )
        self.model = model.eval().to(device)
        config = timm.data.resolve_data_config({}, model=model)
        self.transform = timm.data.create_transform(**config)  # resize, centre crop 224, ImageNet mean/std

    @staticmethod
    def info() -> dict[str, str]:
        timm = require("timm")
        cfg = timm.models.get_pretrained_cfg(SWIN)
        return {
            "extractor": SWIN,
            "library": "timm",
            "version": timm.__version__,
            "pooling": "global average pool of the last stage (timm num_classes=0)",
            "preprocessing": f"timm eval transform: {cfg.interpolation} resize, crop_pct {cfg.crop_pct}, centre crop "
            f"{cfg.input_size[1]}x{cfg.input_size[2]}, mean {list(cfg.mean)}, std {list(cfg.std)}",
        }

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB [T, H, W, 3] -> float32 [T, 768]."""
        from PIL import Image

        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                batch = torch.stack(
                    [self.transform(Image.fromarray(f)) for f in frames[start : start + self.batch_size]]
                )
                out.append(self.model(batch.to(self.device)).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)
