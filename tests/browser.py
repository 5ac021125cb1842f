"""Headless Chromium for tests that look at the MLflow UI as a user would (``make test`` installs it)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

# ag-grid renders only the columns in view, and MLflow 3.17 opens its assistant panel beside the table:
# the window is wide enough for every column a suite view selects.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (apt-get install chromium; make test does this)")


def _run(url: str, extra: list[str], budget_ms: int, timeout_s: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:  # a new, empty profile every time
        command = [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=3400,1000",
            f"--virtual-time-budget={budget_ms}",
            *extra,
            url,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)


def dump_dom(url: str, budget_ms: int = 30000, timeout_s: float = 180) -> str:
    """The page's DOM after the single-page app has rendered (virtual time lets its requests finish)."""
    return _run(url, ["--dump-dom"], budget_ms, timeout_s).stdout


def screenshot(url: str, path: Path, budget_ms: int = 30000, timeout_s: float = 180) -> Path:
    _run(url, [f"--screenshot={path}"], budget_ms, timeout_s)
    return path


class _GridCells(HTMLParser):
    """ag-grid rows (``row-index``) and their cells (``col-id``), as text; pinned and scrolled parts of
    a row are separate elements with the same ``row-index``, so they are merged."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, dict[str, str]] = {}
        self.stack: list[tuple[str, int | None, str | None]] = []  # (tag, row index, col id) per open element
        self.void = {
            "br",
            "img",
            "input",
            "meta",
            "link",
            "hr",
            "source",
            "wbr",
            "col",
            "area",
            "base",
            "embed",
            "param",
            "track",
        }

    def handle_starttag(self, tag, attrs):
        if tag in self.void:
            return
        attrs = dict(attrs)
        row = (
            int(attrs["row-index"])
            if attrs.get("role") == "row" and str(attrs.get("row-index", "")).isdigit()
            else None
        )
        col = attrs.get("col-id") if attrs.get("role") == "gridcell" else None
        parent_row = next((r for _, r, _ in reversed(self.stack) if r is not None), None)
        self.stack.append((tag, row if row is not None else parent_row, col))
        if row is not None:
            self.rows.setdefault(row, {})

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        row = next((r for _, r, _ in reversed(self.stack) if r is not None), None)
        col = next((c for _, _, c in reversed(self.stack) if c is not None), None)
        if row is not None and col is not None and data.strip():
            cells = self.rows[row]
            cells[col] = (cells.get(col, "") + " " + data.strip()).strip()


def grid_rows(dom: str) -> list[dict[str, str]]:
    """The rendered runs table: one dict (column id -> text) per row, in display order."""
    parser = _GridCells()
    parser.feed(dom)
    return [parser.rows[k] for k in sorted(parser.rows)]
