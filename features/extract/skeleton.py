"""Skeleton features: mediapipe BlazePose (``solutions.pose``), 33 landmarks x (x, y, z) = 99.

The pose model is bundled in mediapipe 0.10.21, so this runs offline. Tracking is on
(``static_image_mode=False``): the landmarks of one sampled frame seed the search in the next, and
the tracker is reset between videos. mediapipe's Python package runs on the CPU only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from features.extract import require

LANDMARKS = 33
MODEL_COMPLEXITY = 1  # BlazePose Full
MIN_CONFIDENCE = 0.5  # mediapipe's default detection and tracking thresholds
LANDMARK_MODEL = "pose_landmark_full.tflite"  # the model that MODEL_COMPLEXITY = 1 selects


class PoseFeatures:
    dim = LANDMARKS * 3

    def __init__(self):
        os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging is noise here
        pose = require("mediapipe.python.solutions.pose")
        self.pose = pose.Pose(
            static_image_mode=False,
            model_complexity=MODEL_COMPLEXITY,
            min_detection_confidence=MIN_CONFIDENCE,
            min_tracking_confidence=MIN_CONFIDENCE,
        )

    @staticmethod
    def info() -> dict[str, object]:
        from importlib.metadata import version

        return {
            "extractor": "blazepose (mediapipe solutions.pose)",
            "library": "mediapipe",
            "version": version("mediapipe"),
            **bundled_weights(),
            "tracking": True,
            "model_complexity": MODEL_COMPLEXITY,
            "min_detection_confidence": MIN_CONFIDENCE,
            "min_tracking_confidence": MIN_CONFIDENCE,
            "layout": "33 landmarks x (x, y, z): normalised image x, y; z depth relative to the hips",
        }

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB [T, H, W, 3] -> float32 [T, 99] and bool mask [T] (False: no person found)."""
        features = np.zeros((len(frames), self.dim), dtype=np.float32)
        mask = np.zeros(len(frames), dtype=bool)
        self.pose.reset()
        for i, frame in enumerate(frames):
            result = self.pose.process(np.ascontiguousarray(frame))
            if result.pose_landmarks is not None:
                features[i] = [c for lm in result.pose_landmarks.landmark for c in (lm.x, lm.y, lm.z)]
                mask[i] = True
        return features, mask

    def close(self) -> None:
        self.pose.close()


def bundled_weights() -> dict[str, str]:
    """sha256 of the pose models that ship inside mediapipe (landmark model, then person detector)."""
    from features.extract.weights import sha256_file

    root = require("mediapipe").__path__[0]
    landmark = os.path.join(root, "modules", "pose_landmark", LANDMARK_MODEL)
    detector = os.path.join(root, "modules", "pose_detection", "pose_detection.tflite")
    return {
        "weights": f"sha256:{sha256_file(Path(landmark))}",
        "weights_source": "bundled with mediapipe",
        "weights_file": LANDMARK_MODEL,
        "detector_weights": f"sha256:{sha256_file(Path(detector))}",
    }
