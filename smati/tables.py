"""What the read commands print: aligned columns for a person's terminal, or one JSON
object per line for scripts (`--json`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

__all__ = ["aligned", "echo_json", "echo_table", "json_option", "table"]

json_option = click.option("--json", "as_json", is_flag=True, help="one JSON object per line")


def aligned(lines: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each cell padded to its column's widest."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [[text.ljust(width) for text, width in zip(line, widths, strict=True)] for line in lines]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A header line and one line per row, in aligned columns."""
    return "\n".join("  ".join(cells).rstrip() for cells in aligned([header, *rows]))


def echo_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], found: int, limit: int
) -> None:
    """The table of the first `limit` of `found` rows, saying so when some are left out."""
    if not rows:
        click.echo("none found", err=True)
        return
    click.echo(table(header, rows))
    if found > limit:
        click.echo(f"(the first {limit} shown: narrow with --since or --limit)", err=True)


def echo_json(rows: Sequence[Mapping[str, Any]]) -> None:
    """One JSON object per row, times in ISO 8601."""
    for row in rows:
        click.echo(json.dumps(row, default=_plain, ensure_ascii=False))


def _plain(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
