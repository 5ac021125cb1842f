"""Suites: TOML data files naming the rows of a paper table (see ``benchmark/suites/``).

A suite has ``name``, ``title``, optional ``layout`` / ``reference`` / ``sweep``, and ``[[rows]]``
each with ``name`` (the paper's display name), ``model``, ``modalities``, optional ``params`` (model
parameter overrides) and ``paper`` (the published accuracy). ``reported = true`` marks a row that
cannot be re-run and is shown as reported. ``include = [...]`` builds a suite from others.
``costs = true`` adds parameter-count and seconds-per-epoch columns to the suite's table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from benchmark.params import ParamError

LAYOUTS = ("methods", "ablation", "sweep", "custom")


@dataclass(frozen=True)
class SuiteRow:
    name: str
    model: str | None
    modalities: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    paper: float | None = None
    reported: bool = False
    source: str = ""
    table: str = ""  # the suite the row was defined in (differs from the suite for included rows)


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    rows: tuple[SuiteRow, ...]
    layout: str = "custom"
    reference: str | None = None
    sweep: str | None = None
    parts: tuple["Suite", ...] = ()
    costs: bool = False  # show parameter count and training seconds per epoch beside accuracy

    @property
    def runnable_rows(self) -> list[SuiteRow]:
        return [row for row in self.rows if not row.reported]


def builtin_suites() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("benchmark").joinpath("suites").iterdir() if p.name.endswith(".toml"))


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a user's TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ParamError(f"suite file {path} does not exist")
        return _parse(path.read_text(), str(path), base=path.parent)
    if name_or_path not in builtin_suites():
        raise ParamError(f"unknown suite {name_or_path!r}; built-in suites: {', '.join(builtin_suites())}, or give a path to a .toml file")
    text = resources.files("benchmark").joinpath("suites", f"{name_or_path}.toml").read_text()
    return _parse(text, name_or_path, base=None)


def _parse(text: str, origin: str, base: Path | None) -> Suite:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParamError(f"suite {origin}: invalid TOML ({exc})") from None
    name = data.get("name") or Path(origin).stem
    if "include" in data:
        parts = tuple(_load_included(item, base) for item in data["include"])
        rows = tuple(row for part in parts for row in part.rows)
        return Suite(name=name, title=data.get("title", name), rows=rows, layout="multi", parts=parts)
    rows_data = data.get("rows")
    if not isinstance(rows_data, list) or not rows_data:
        raise ParamError(f"suite {origin}: needs at least one [[rows]] entry")
    rows = tuple(_parse_row(item, origin, name) for item in rows_data)
    names = [row.name for row in rows]
    if len(set(names)) != len(names):
        raise ParamError(f"suite {origin}: two rows share a name")
    layout = data.get("layout", "custom")
    if layout not in LAYOUTS:
        raise ParamError(f"suite {origin}: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    reference = data.get("reference")
    if reference is not None and reference not in names:
        raise ParamError(f"suite {origin}: reference row {reference!r} is not one of its rows")
    costs = data.get("costs", False)
    if not isinstance(costs, bool):
        raise ParamError(f"suite {origin}: costs must be true or false, got {costs!r}")
    return Suite(
        name=name, title=data.get("title", name), rows=rows, layout=layout, reference=reference, sweep=data.get("sweep"), costs=costs
    )


def _load_included(item: str, base: Path | None) -> Suite:
    if base is not None and (base / item).exists():
        return load_suite(str(base / item))
    return load_suite(item)


def _parse_row(item: Mapping[str, Any], origin: str, suite_name: str) -> SuiteRow:
    if "name" not in item:
        raise ParamError(f"suite {origin}: a row has no 'name'")
    reported = bool(item.get("reported", False))
    model = item.get("model")
    if not reported and not model:
        raise ParamError(f"suite {origin}: row {item['name']!r} needs a 'model' (or reported = true)")
    unknown = set(item) - {"name", "model", "modalities", "params", "paper", "reported", "source"}
    if unknown:
        raise ParamError(f"suite {origin}: row {item['name']!r} has unknown key(s) {', '.join(sorted(unknown))}")
    paper = item.get("paper")
    return SuiteRow(
        name=str(item["name"]),
        model=model,
        modalities=tuple(item.get("modalities", ("visual", "audio", "skeleton"))),
        params=dict(item.get("params", {})),
        paper=float(paper) if paper is not None else None,
        reported=reported,
        source=str(item.get("source", "")),
        table=suite_name,
    )
