"""Model definitions. Importing this package imports every module in it, so every built-in model is
registered (``baselines.registry``) and the loader of users' models is installed (``baselines.plugins``):
a new model module needs no edit here (docs/architecture.md, "Where to put").
"""

import importlib
import pkgutil

from baselines.registry import build_model, get_model, list_models, register_model, resolve_params

for _module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)

__all__ = ["build_model", "get_model", "list_models", "register_model", "resolve_params"]
