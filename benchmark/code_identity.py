"""The identity of the code that computes a run: part of every split run's fingerprint.

A FINISHED run is reused only when the code that would compute it again is the same code (benchopt
puts a hash of each solver's file into its cache key for the same reason). The rule, stated in the
tracking guide (docs/guide/tracking.md):

- **What is covered**: the model's modules (the module of its builder and the ``code_modules`` it
  registered with, or the plugin file) and the training loop's (:data:`TRAINING_ROOTS`), each followed
  through its imports (top-level and inside functions) to every module of this project or of the
  plugin's own folder or package. Boundary modules (:data:`BOUNDARY`) are not followed: what they
  produce is already in the fingerprint (the resolved config, the dataset fingerprint) or they only
  check input. Installed libraries (torch, scikit-learn) are not covered: their versions are tagged.
- **What counts**: each module's code as Python's parser sees it, without docstrings, comments,
  formatting and import statements; the identity hashes the sorted set of top-level statements of all
  covered modules. So a comment, a docstring, a re-wrapped line, moving a function to another covered
  module or renaming a module changes nothing, while any change of a statement (a constant, an
  initialisation, a forward) changes the identity and the runs are trained again.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Where the training loops start (the plain loop and the vectorised engine).
TRAINING_ROOTS = ("benchmark.training", "benchmark.engine.train")

#: Project modules not followed: their output is fingerprinted otherwise, or they only validate input.
BOUNDARY = (
    "benchmark.params",  # parameter checks: refuse or pass, never change a number
    "benchmark.config",  # the resolved configuration: its values are the config fingerprint
    "baselines",  # the package's import list (each model module is covered on its own)
    "baselines.registry",  # lookup by name
    "baselines.plugins",  # plugin loading
    "features",  # the store: its content is the dataset fingerprint
)

PROJECT_PACKAGES = ("baselines", "benchmark", "features")


@dataclass(frozen=True)
class CodeIdentity:
    """``fingerprint``: what goes into the run fingerprint; ``modules``: module -> (file, its own hash), for the
    artifact."""

    fingerprint: str
    modules: dict[str, tuple[str, str]]

    def to_json(self) -> str:
        return json.dumps(
            {
                "fingerprint": self.fingerprint,
                "rule": "sorted top-level statements, imports and docstrings removed",
                "modules": {
                    name: {"file": file, "sha256": digest} for name, (file, digest) in sorted(self.modules.items())
                },
            },
            indent=2,
        )


def code_fingerprint(model: str) -> str:
    """The code identity of a model trained by the harness's loop (16 hex digits)."""
    return code_identity(model).fingerprint


def code_identity(model: str) -> CodeIdentity:
    from baselines.registry import get_model

    entry = get_model(model)
    roots = tuple(entry.code_modules) + TRAINING_ROOTS
    return _identity(roots, _stamp(roots))


def _stamp(roots: tuple[str, ...]) -> tuple:
    """Modification times of the root files, so an edited plugin is hashed anew in a long-lived process."""
    stamp = []
    for name in roots:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file and Path(file).exists():
            stat = Path(file).stat()
            stamp.append((file, stat.st_mtime_ns, stat.st_size))
    return tuple(stamp)


#: Declared equivalences (``code_equivalences.json``): module -> {"now": hash of its statements today,
#: "was": its statements before, "why": ...}. A module rewritten without changing a number it computes
#: (the golden record in ``tests/benchmark/test_code_identity.py`` proves it, with the old identities)
#: keeps its former identity while its statements hash to ``now``; any later edit ends the equivalence.
EQUIVALENCES = Path(__file__).with_name("code_equivalences.json")


@lru_cache(maxsize=1)
def _equivalences() -> dict[str, dict]:
    return json.loads(EQUIVALENCES.read_text(encoding="utf-8")) if EQUIVALENCES.is_file() else {}


def effective_statements(name: str, own: list[str]) -> list[str]:
    """``own`` (a module's normalised statements), or its declared former statements while it is unchanged since."""
    entry = _equivalences().get(name)
    if entry and _sha("\n".join(sorted(own))) == entry["now"]:
        return list(entry["was"])
    return own


@lru_cache(maxsize=256)
def _identity(roots: tuple[str, ...], _stamp: tuple) -> CodeIdentity:
    statements: list[str] = []
    modules: dict[str, tuple[str, str]] = {}
    for name, file, source in _closure(roots):
        own = effective_statements(name, normalised_statements(source, file))
        statements += own
        modules[name] = (file, _sha("\n".join(sorted(own))))
    return CodeIdentity(_sha("\n".join(sorted(statements)))[:16], modules)


def normalised_statements(source: str, filename: str = "<source>") -> list[str]:
    """A module's top-level statements as the parser sees them: no docstrings, comments, formatting or imports."""
    tree = ast.parse(source, filename)
    _Strip().visit(tree)
    return [ast.unparse(node) for node in tree.body]


class _Strip(ast.NodeTransformer):
    """Drop docstrings (any bare string statement: it computes nothing) and import statements (anywhere:
    local imports too), keeping bodies valid."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if isinstance(body, list):
            body = [n for n in body if not isinstance(n, (ast.Import, ast.ImportFrom)) and not _is_docstring(n)]
            if not body and not isinstance(node, ast.Module):
                body = [ast.Pass()]
            setattr(node, "body", body)  # noqa: B010  (any node with a body: Module, def, for, with ...)
        for attr in ("orelse", "finalbody"):
            block = getattr(node, attr, None)
            if isinstance(block, list) and block:
                kept = [n for n in block if not isinstance(n, (ast.Import, ast.ImportFrom))]
                setattr(node, attr, kept or [ast.Pass()])
        return node


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _closure(roots: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(module, file, source) of the roots and every covered module they import, in a stable order."""
    allowed = _allowed_folders(roots)
    seen: dict[str, tuple[str, str]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or _is_boundary(name):
            continue
        file = _file_of(name)
        if file is None or not _covered(file, allowed):
            continue
        source = Path(file).read_text(encoding="utf-8")
        seen[name] = (file, source)
        todo += _imports(source, name, file)
    return [(name, *seen[name]) for name in sorted(seen)]


def _allowed_folders(roots: tuple[str, ...]) -> list[Path]:
    """This project's packages, and for a root outside them (a plugin) its top package's folder, or the
    plugin file's own folder (its helper modules beside it); a single-module distribution covers its file only."""
    here = Path(__file__).resolve().parent.parent
    folders = [here / package for package in PROJECT_PACKAGES]
    for name in roots:
        file = _file_of(name)
        if file is None:
            continue
        path = Path(file).resolve()
        if any(_inside(path, folder) for folder in folders):
            continue
        top = sys.modules.get(name.split(".")[0])
        top_file = getattr(top, "__file__", None) if "." in name else None
        if top_file and Path(top_file).name == "__init__.py":
            folders.append(Path(top_file).resolve().parent)
        elif _in_site_packages(path.parent.parts):
            folders.append(path)
        else:
            folders.append(path.parent)
    return folders


def _covered(file: str, allowed: list[Path]) -> bool:
    """A Python file inside an allowed folder, and not in an installed library below it (a venv inside a work
    folder)."""
    path = Path(file).resolve()
    if path.suffix != ".py":
        return False
    return any(_inside(path, folder) and not _in_site_packages(path.parts[len(folder.parts) :]) for folder in allowed)


def _in_site_packages(parts: tuple[str, ...]) -> bool:
    return "site-packages" in parts or "dist-packages" in parts


def _inside(path: Path, folder: Path) -> bool:
    if path == folder:
        return True
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _is_boundary(name: str) -> bool:
    return name in BOUNDARY or any(name.startswith(b + ".") for b in BOUNDARY if b == "features")


def _file_of(name: str) -> str | None:
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if file:
        return file
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    return spec.origin if spec is not None and spec.origin not in (None, "built-in", "frozen") else None


def _imports(source: str, module: str, file: str) -> list[str]:
    """Modules a source imports (``from a import b`` yields ``a.b`` where that is a module, else ``a``)."""
    package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source, file)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                try:
                    base = importlib.util.resolve_name("." * node.level + base, package)
                except ImportError:
                    continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(sub if _is_module(sub) else base)
    return found


def _is_module(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
