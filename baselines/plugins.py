"""Plugins: a user's models enter the registry from a file, a module, or an installed distribution.

Three ways in, one registry (as mmengine's ``custom_imports`` and benchopt's user solvers):

1. a suite file's top-level ``plugins = ["my_models.py", "my_pkg.models"]`` (paths relative to the suite file);
2. ``--plugin PATH|MODULE`` on ``bench run``, ``tune``, ``report``, ``models`` and ``check-model``;
3. a distribution's entry point in the group ``ver_bench.models``, loaded when a suite names a model
   the registry does not know, or when ``bench models`` lists everything.

A plugin is plain Python that calls :func:`baselines.registry.register_model`. Loading is idempotent
(the same file or module twice is loaded once) and a bad plugin is a :class:`PluginError`: one line that
names the plugin and the problem, raised before anything touches MLflow. Jobs carry the resolved specs
so that worker processes and Dask workers load the same plugins.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from baselines import registry
from benchmark.params import ParamError

ENTRY_POINT_GROUP = "ver_bench.models"


class PluginError(ParamError):
    """A plugin that cannot be used: missing, fails to import, registers nothing or something invalid."""


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin: its spec (absolute path or module name), the module, and the models it registered."""

    spec: str
    module: str
    models: tuple[str, ...]
    path: str | None  # the source file (None for a namespace package)
    stamp: tuple[int, int] | None = None  # the file's (mtime_ns, size) when loaded: an edited file is loaded again


_LOADED: dict[str, Plugin] = {}
_ENTRY_POINTS_DONE: set[str] = set()


def is_path(spec: str) -> bool:
    """A spec naming a file (``my_models.py``, ``./x``, ``dir/x.py``) rather than a module (``my_pkg.models``)."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def resolve_spec(spec: str, base: Path | None = None) -> str:
    """An absolute file path for a path spec (relative to ``base``, else the working folder); a module name as is."""
    spec = spec.strip()
    if not spec:
        raise PluginError("plugin: an empty name; give a path to a .py file or a module name")
    if not is_path(spec):
        return spec
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return str(path.resolve())


def load_plugins(specs: Iterable[str], base: Path | None = None) -> list[Plugin]:
    """Load every plugin once; the specs are resolved against ``base`` (a suite file's folder)."""
    return [load_plugin(resolve_spec(spec, base)) for spec in specs]


def load_plugin(spec: str) -> Plugin:
    """Import one plugin (an absolute path or a module name) and check what it registered."""
    if spec in _LOADED:
        previous = _LOADED[spec]
        if previous.stamp is None or previous.stamp == _file_stamp(previous.path):
            return previous
        _unload(previous)  # edited since it was loaded (a notebook, a long-lived process): its new code counts
    before = set(registry.registered())
    try:
        with registry.loading(spec):
            module = _import_file(spec) if is_path(spec) else _import_module(spec)
    except PluginError:
        _forget(before)
        raise
    except ValueError as exc:  # register_model refused: a name taken, a builder that does not fit
        _forget(before)
        raise PluginError(f"plugin {spec}: {exc}") from None
    except BaseException as exc:
        _forget(before)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise PluginError(f"plugin {spec} failed to import: {_last_line(exc)}") from None
    new = tuple(sorted(set(registry.registered()) - before))
    if not new:  # imported earlier by other code (a notebook, another plugin): its models are already in
        new = tuple(n for n, entry in registry.entries().items() if module.__name__ in entry.code_modules)
    if not new and not registry.extensions_of(spec):
        raise PluginError(
            f"plugin {spec} registers no model, metric or corruption (call baselines.registry.register_model, "
            "benchmark.metrics.register_metric or benchmark.evaluation.corruptions.register_corruption in it)"
        )
    path = getattr(module, "__file__", None)
    plugin = Plugin(
        spec=spec, module=module.__name__, models=new, path=path, stamp=_file_stamp(path) if is_path(spec) else None
    )
    _LOADED[spec] = plugin
    return plugin


def _file_stamp(path: str | None) -> tuple[int, int] | None:
    if not path or not Path(path).exists():
        return None
    stat = Path(path).stat()
    return (stat.st_mtime_ns, stat.st_size)


def _unload(plugin: Plugin) -> None:
    for name in plugin.models:
        registry.unregister(name)
    sys.modules.pop(plugin.module, None)
    _LOADED.pop(plugin.spec, None)


def load_entry_points(name: str | None = None) -> None:
    """Load installed ``ver_bench.models`` entry points: the one called ``name`` first, else all of them.

    An entry point's name is the model it provides (a distribution with several models declares one
    entry point per model, all pointing at the same module); its value is the module to import.
    """
    from importlib.metadata import entry_points

    points = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value not in _ENTRY_POINTS_DONE]
    if name is not None:
        named = [ep for ep in points if ep.name == name]
        points = named or points
    for ep in points:
        module = ep.value.split(":")[0].strip()
        _ENTRY_POINTS_DONE.add(ep.value)
        if module in _LOADED:
            continue
        try:
            load_plugin(module)
        except PluginError as exc:
            dist = getattr(ep, "dist", None)
            where = f" (entry point {ep.name!r} of {dist.name})" if dist is not None else f" (entry point {ep.name!r})"
            raise PluginError(f"{exc}{where}") from None


def _import_file(path: str):
    file = Path(path)
    if not file.exists():
        raise PluginError(f"plugin {path} does not exist")
    if file.is_dir():
        if not (file / "__init__.py").is_file():
            raise PluginError(f"plugin {path} is a folder without __init__.py; name a .py file")
        file = file / "__init__.py"
    if file.suffix != ".py":
        raise PluginError(f"plugin {path} is not a .py file")
    name = f"ver_bench_plugin_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}"
    folder = str(file.parent if file.name != "__init__.py" else file.parent.parent)
    if folder not in sys.path:
        sys.path.append(folder)  # a plugin may import its own helper modules beside it
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"plugin {path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_module(name: str):
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise PluginError(f"plugin {name} failed to import: {_last_line(exc)}") from None
    if found is None:
        raise PluginError(f"plugin {name} does not exist (no file {name!r} and no importable module of that name)")
    if name in sys.modules:  # imported before by other code: its registrations are already in
        return sys.modules[name]
    return importlib.import_module(name)


def _forget(before: set[str]) -> None:
    """A plugin that failed half-way leaves none of its models behind."""
    for name in set(registry.registered()) - before:
        registry.unregister(name)


def _last_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[-1] if text else type(exc).__name__


registry.MISSING_HOOKS.append(load_entry_points)
