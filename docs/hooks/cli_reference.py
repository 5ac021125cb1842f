"""MkDocs hook: the command line reference, generated from the ``bench`` typer app when the site is built.

A page that holds the marker below gets, in its place, every command's help, usage, arguments and options,
as ``bench COMMAND --help`` prints them. (mkdocs-click cannot read typer >= 0.29's commands, whose click is
typer's own copy, so the few lines here walk them with typer's own API.)
"""

from __future__ import annotations

import inspect

import typer
from typer.core import TyperGroup

MARKER = "<!-- bench-cli-reference -->"


def _cell(text: str) -> str:
    """One line of a Markdown table cell: pipes escaped, angle brackets shown as text."""
    text = " ".join(inspect.cleandoc(text).split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _command(command, parent, path: list[str], level: int) -> list[str]:
    ctx = typer.Context(command, info_name=path[-1], parent=parent)
    lines = [f"{'#' * level} `{' '.join(path)}`", ""]
    if command.help:
        lines += [inspect.cleandoc(command.help), ""]
    lines += ["```text", " ".join(path + command.collect_usage_pieces(ctx)), "```", ""]
    records = {"argument": [], "option": []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None and param.param_type_name in records:
            records[param.param_type_name].append(record)
    for kind, rows in records.items():
        if rows:
            lines += [f"**{kind.title()}s**", "", f"| {kind} | description |", "| --- | --- |"]
            lines += [f"| `{name}` | {_cell(help_ or '')} |" for name, help_ in rows]
            lines.append("")
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            lines += _command(command.get_command(ctx, name), ctx, path + [name], level + 1)
    return lines


def on_page_markdown(markdown: str, **kwargs) -> str:
    if MARKER not in markdown:
        return markdown
    from benchmark.cli import app

    return markdown.replace(MARKER, "\n".join(_command(typer.main.get_command(app), None, ["bench"], 2)))
