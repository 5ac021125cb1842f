"""Suites: TOML data files naming the rows of a paper table (see ``benchmark/suites/``).

A suite has ``name``, ``title``, optional ``layout`` / ``reference`` / ``sweep``, and ``[[rows]]``
each with ``name`` (the paper's display name), ``model``, ``modalities``, optional ``params`` (model
parameter overrides) and ``paper`` (the published accuracy). ``reported = true`` marks a row that
cannot be re-run and is shown as reported. ``include = [...]`` builds a suite from others.
``costs = true`` adds parameter-count and seconds-per-epoch columns to the suite's table.
``plugins = ["my_models.py", "my_pkg.models"]`` loads a user's models (paths relative to the suite
file, or module names; see :mod:`baselines.plugins`). Any other top-level key is an error.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from benchmark.params import ParamError
from features.format import PAPER_MODALITIES

LAYOUTS = ("methods", "ablation", "sweep", "custom")
SUITE_KEYS = ("name", "title", "layout", "reference", "sweep", "costs", "rows", "include", "plugins")
ROW_KEYS = ("name", "model", "modalities", "params", "paper", "reported", "source")


@dataclass(frozen=True)
class SuiteRow:
    name: str
    model: str | None
    modalities: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    paper: float | None = None  # a plain number: the first dataset's (``paper_for``)
    reported: bool = False
    source: str = ""
    table: str = ""  # the suite the row was defined in (differs from the suite for included rows)
    origin: str = field(
        default="", compare=False
    )  # the suite file (or built-in name) that defines the row, for messages
    papers: Mapping[str, float] = field(
        default_factory=dict
    )  # ``paper = { ve8 = 43.2, ekman6 = 55.3 }``: per dataset key

    @property
    def trained_model(self) -> str:
        """The registered model a runnable row trains (a reported row has none: asking is a bug)."""
        if self.model is None:
            raise ValueError(f"row {self.name!r} is reported from the literature: it trains no model")
        return self.model

    def paper_for(self, dataset: str, first: bool = True) -> float | None:
        """The published number for ``dataset`` (a store name): the ``papers`` key equal to it or to one of its
        dash-separated words (``ve8`` matches ``synthetic-ve8``); a plain ``paper`` only for the first dataset."""
        if self.papers:
            words = dataset.split("-")
            return next((v for k, v in self.papers.items() if k == dataset or k in words), None)
        return self.paper if first else None


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    rows: tuple[SuiteRow, ...]
    layout: str = "custom"
    reference: str | None = None
    sweep: str | None = None
    parts: tuple[Suite, ...] = ()
    costs: bool = False  # show parameter count and training seconds per epoch beside accuracy
    plugins: tuple[str, ...] = ()  # resolved plugin specs (absolute paths or module names), included suites' too

    @property
    def runnable_rows(self) -> list[SuiteRow]:
        return [row for row in self.rows if not row.reported]

    def for_dataset(self, dataset: str, first: bool = True) -> Suite:
        """The suite with each row's ``paper`` set to its number for ``dataset`` (:meth:`SuiteRow.paper_for`)."""
        from dataclasses import replace

        def row(r: SuiteRow) -> SuiteRow:
            return replace(r, paper=r.paper_for(dataset, first))

        return replace(
            self, rows=tuple(row(r) for r in self.rows), parts=tuple(p.for_dataset(dataset, first) for p in self.parts)
        )


def builtin_suites() -> list[str]:
    return sorted(
        p.name[:-5] for p in resources.files("benchmark").joinpath("suites").iterdir() if p.name.endswith(".toml")
    )


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a user's TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ParamError(f"suite file {path} does not exist")
        return _parse(path.read_text(), str(path), base=path.parent)
    if name_or_path not in builtin_suites():
        raise ParamError(
            f"unknown suite {name_or_path!r}; built-in suites: {', '.join(builtin_suites())}, or give a path to a "
            ".toml file"
        )
    text = resources.files("benchmark").joinpath("suites").joinpath(f"{name_or_path}.toml").read_text()
    return _parse(text, name_or_path, base=None)


def suite_from_mapping(data: Mapping[str, Any], base: Path | None = None, origin: str = "<python suite>") -> Suite:
    """A suite given as a Python mapping with the TOML file's keys (the notebook API); paths are relative to
    ``base``."""
    if not isinstance(data, Mapping):
        raise ParamError(f"a suite is a mapping with the keys of a suite file, got {type(data).__name__}")
    return _from_data(dict(data), origin, base if base is not None else Path.cwd())


def _parse(text: str, origin: str, base: Path | None) -> Suite:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParamError(f"suite {origin}: invalid TOML ({exc})") from None
    return _from_data(data, origin, base)


def _from_data(data: dict[str, Any], origin: str, base: Path | None) -> Suite:
    unknown = sorted(set(data) - set(SUITE_KEYS))
    if unknown:
        raise ParamError(
            f"suite {origin}: unknown top-level key(s) {', '.join(unknown)}; a suite has {', '.join(SUITE_KEYS)}"
        )
    name = data.get("name") or Path(origin).stem
    plugins = _plugins(data.get("plugins", []), origin, base)
    if "include" in data:
        parts = tuple(_load_included(item, base) for item in data["include"])
        rows = tuple(row for part in parts for row in part.rows)
        plugins = tuple(dict.fromkeys(plugins + tuple(p for part in parts for p in part.plugins)))
        return Suite(name=name, title=data.get("title", name), rows=rows, layout="multi", parts=parts, plugins=plugins)
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
        name=name,
        title=data.get("title", name),
        rows=rows,
        layout=layout,
        reference=reference,
        sweep=data.get("sweep"),
        costs=costs,
        plugins=plugins,
    )


def _plugins(value: Any, origin: str, base: Path | None) -> tuple[str, ...]:
    """``plugins = [...]``: paths are resolved against the suite file's folder, module names kept."""
    from baselines.plugins import PluginError, resolve_spec

    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ParamError(f"suite {origin}: plugins must be a list of file paths or module names, got {value!r}")
    try:
        return tuple(resolve_spec(item, base) for item in value)
    except PluginError as exc:
        raise ParamError(f"suite {origin}: {exc}") from None


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
    unknown = set(item) - set(ROW_KEYS)
    if unknown:
        raise ParamError(f"suite {origin}: row {item['name']!r} has unknown key(s) {', '.join(sorted(unknown))}")
    paper = item.get("paper")
    papers = {}
    if isinstance(paper, Mapping):  # per dataset: { ve8 = 43.2, ekman6 = 55.3 }; the first key is "the" paper number
        try:
            papers = {str(k): float(v) for k, v in paper.items()}
        except (TypeError, ValueError):
            raise ParamError(
                f"suite {origin}: row {item['name']!r}: paper must be a number or a table of numbers per dataset"
            ) from None
        paper = next(iter(papers.values()), None)
    modalities = item.get("modalities", PAPER_MODALITIES)
    if isinstance(modalities, str) or not isinstance(modalities, (list, tuple)):
        raise ParamError(
            f"suite {origin}: row {item['name']!r}: modalities must be a list of names, got {modalities!r}"
        )
    return SuiteRow(
        name=str(item["name"]),
        model=model,
        modalities=tuple(modalities),
        params=dict(item.get("params", {})),
        paper=float(paper) if paper is not None else None,
        papers=papers,
        reported=reported,
        source=str(item.get("source", "")),
        table=suite_name,
        origin=origin,
    )


def sections(suite: Suite) -> list[Suite]:
    """The paper tables a suite renders: its parts (``all``) or itself."""
    return list(suite.parts) or [suite]
