"""``bench`` in-process for tests (typer's CliRunner): the result, with a real error re-raised, not swallowed."""

from __future__ import annotations

from typer.testing import CliRunner

from benchmark.cli import app


def bench(*args, columns: int = 250):
    """Run ``bench ARGS``; wide output so that rich never cuts a table cell the test reads."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def flat(text: str) -> str:
    """Output with its line wrapping undone (for phrases that a table or a long line may wrap)."""
    return " ".join(text.split())
