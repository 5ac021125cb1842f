"""The documentation's links hold: every relative link in README.md and docs/ names a file that exists (the site
build, `make docs`, checks anchors too), and the README stays a front door, not a manual."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 260
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SNIPPET = re.compile(r"^--8<--\s+\"([^\"]+)\"", re.M)


def relative_links(text: str) -> list[str]:
    """Link targets outside code, without their anchors; absolute URLs and in-page anchors left out."""
    prose = _CODE.sub("", _FENCE.sub("", text))
    targets = [m.group(1) for m in _LINK.finditer(prose)]
    return [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_link_finder_skips_code_and_urls():
    text = "[a](docs/x.md#y) `[b](no.md)` [c](https://e.org) [d](#here)\n```\n[e](no2.md)\n```\n"
    assert relative_links(text) == ["docs/x.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_files_that_exist(page):
    text = page.read_text()
    missing = [t for t in relative_links(text) if t and not (page.parent / t).exists()]
    missing += [f"--8<-- {s}" for s in _SNIPPET.findall(text) if not (ROOT / s).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_readme_stays_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail into docs/"
    )


def test_every_docs_page_is_in_the_site_nav():
    """A page outside mkdocs.yml's nav is unreachable on the site (mkdocs only warns at build time)."""
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert not {p for p in pages if p not in nav}


def test_the_cli_reference_is_generated_with_every_command_and_option():
    """docs/reference/cli.md is filled at build time by docs/hooks/cli_reference.py from the typer app."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "hooks" / "cli_reference.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert hook.MARKER in page
    text = hook.on_page_markdown(page)
    for command in (
        "run",
        "evaluate",
        "report",
        "tune",
        "extract",
        "perf",
        "models",
        "check-model",
        "synth",
        "ui",
        "server user add",
    ):
        assert f"`bench {command}`" in text, command
    assert "--suite" in text and "--kept-dtype" in text and "--nested" in text
