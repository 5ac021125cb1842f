"""The layout's promises (docs/architecture.md), checked on the source: MLflow writes only in the tracking
package, no import circle, no module in benchmark/ over MAX_LINES lines unless the architecture document says why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("baselines", "benchmark", "features")
WRITES = re.compile(
    r"\.(create_run|set_terminated|set_tag|set_tags|delete_run|set_experiment_tag|update_run|log_param|log_params|log_metric|"
    r"log_metrics|log_batch|log_artifact|log_artifacts|log_inputs|log_text|log_dict|create_experiment|restore_run)\("
)
MAX_LINES = 350  # formatted by ruff at 120 columns (it was 300 when lines were packed by hand)


def sources(package: str = "") -> list[Path]:
    folders = [ROOT / p for p in (PACKAGES if not package else (package,))]
    return sorted(f for folder in folders for f in folder.rglob("*.py"))


def test_mlflow_writes_only_inside_the_tracking_package():
    outside = []
    for file in sources():
        if file.is_relative_to(ROOT / "benchmark" / "tracking"):
            continue
        for number, line in enumerate(file.read_text().splitlines(), 1):
            code = line.split("#")[0]
            for match in WRITES.finditer(code):
                receiver = code[: match.start()].rstrip().split()[-1] if code[: match.start()].strip() else ""
                if not receiver.endswith(("tracking", "tracking.mlflow_client")):  # a call into the package is fine
                    outside.append(f"{file.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not outside, "MLflow writes outside benchmark/tracking/:\n" + "\n".join(outside)


def _module_name(file: Path) -> str:
    parts = list(file.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(file: Path, modules: set[str]) -> set[str]:
    """Project modules a file imports, top-level or inside functions (``from a import b``: ``a.b`` if a module, else
    ``a``)."""
    name = _module_name(file)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


def test_no_import_circle():
    files = {_module_name(f): f for f in sources()}
    modules = set(files)
    graph = {name: {m for m in _imports(file, modules) if m not in _faces(files)} for name, file in files.items()}
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "import circles:\n" + "\n".join(circles)


def _faces(files: dict[str, Path]) -> set[str]:
    """Package faces (an ``__init__`` that only re-exports): importing a name through them is not an edge back."""
    return {
        name
        for name, file in files.items()
        if file.name == "__init__.py"
        and not any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in ast.parse(file.read_text()).body)
    }


def test_modules_in_benchmark_stay_small_or_say_why():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    long = [
        (f.relative_to(ROOT).as_posix(), n)
        for f in sources("benchmark")
        if (n := len(f.read_text().splitlines())) > MAX_LINES
    ]
    unexplained = [f"{path} ({n} lines)" for path, n in long if path not in doc]
    assert not unexplained, f"over {MAX_LINES} lines and not explained in docs/architecture.md: " + ", ".join(
        unexplained
    )


def _importers_of(prefix: str, package: str) -> list[str]:
    files = {_module_name(f): f for f in sources()}
    return [
        f"{name} imports {m}"
        for name, file in files.items()
        if name.startswith(package)
        for m in _imports(file, set(files))
        if m == prefix or m.startswith(prefix + ".")
    ]


def test_tracking_and_statistics_import_nothing_from_the_report():
    """The row statistics live in benchmark.statistics: the runner, the parents and the report share them."""
    offenders = _importers_of("benchmark.report", "benchmark.tracking") + _importers_of(
        "benchmark.report", "benchmark.statistics"
    )
    assert not offenders, "\n".join(offenders)


def test_evaluation_code_is_outside_the_code_identity():
    """Metrics, corruptions and what a run keeps never decide whether a split run is reused."""
    from benchmark.code_identity import code_identity

    covered = set(code_identity("proposed").modules)
    assert not {
        m
        for m in covered
        if m.startswith(("benchmark.metrics", "benchmark.evaluation", "benchmark.kept", "benchmark.checkpoints"))
    }


def test_one_tag_prefix_and_one_sqlite_url_parser():
    """``bench.`` is spelled once (tracking/tags.py) and SQLite URLs are parsed once (benchmark/sqlite.py)."""
    spelled = [
        f.relative_to(ROOT).as_posix()
        for f in sources()
        if f.relative_to(ROOT).as_posix() != "benchmark/tracking/tags.py"
        and any(
            isinstance(node, ast.Constant) and node.value == "bench." for node in ast.walk(ast.parse(f.read_text()))
        )
    ]
    assert not spelled, "the tag prefix spelled outside benchmark/tracking/tags.py: " + ", ".join(spelled)
    slicing = re.compile(r"len\((\"sqlite:/|sqlite\.SCHEME|SCHEME)")
    parsers = [
        f.relative_to(ROOT).as_posix()
        for f in sources()
        if f.relative_to(ROOT).as_posix() != "benchmark/sqlite.py" and slicing.search(f.read_text())
    ]
    assert not parsers, "SQLite URLs parsed outside benchmark/sqlite.py: " + ", ".join(parsers)


def test_no_project_module_is_imported_under_another_modules_name():
    """``from benchmark.tracking import parents as views`` reads as the views module: a name that misleads."""
    files = {_module_name(f): f for f in sources()}
    short_names = {name.rpartition(".")[2] for name in files}
    misleading = []
    for name, file in files.items():
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                pairs = [(a.name, a.asname) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                pairs = [(f"{node.module}.{a.name}", a.asname) for a in node.names]
            else:
                continue
            for module, alias in pairs:
                if module in files and alias and alias != module.rpartition(".")[2] and alias in short_names:
                    misleading.append(f"{name}: {module} imported as {alias}")
    assert not misleading, "project modules imported under another module's name:\n" + "\n".join(misleading)
