"""``bench extract``: videos -> a feature store (Swin-T visual, VGGish audio, BlazePose skeleton).

Heavy libraries (PyAV, timm, torchvggish, mediapipe) are imported inside the functions that use them,
so importing this package costs nothing and a missing library fails with an install hint.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from benchmark.params import ParamError

INSTALL_HINT = "pip install 'ver-bench[extract]'"


def require(module: str) -> ModuleType:
    """Import an extraction dependency, or fail with one line that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ParamError(
            f"bench extract needs {module.split('.')[0]} ({exc}); install it with: {INSTALL_HINT}"
        ) from None
