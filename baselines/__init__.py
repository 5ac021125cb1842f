"""Model definitions. Importing this package registers every built-in model (see ``baselines.registry``)
and installs the loader of users' models (``baselines.plugins``)."""

from baselines import fusion, linear_probe, nextvlad_baseline, plugins, proposed  # noqa: F401  (registration)
from baselines.registry import build_model, get_model, list_models, register_model, resolve_params

__all__ = ["build_model", "get_model", "list_models", "register_model", "resolve_params"]
