"""`smati status`: the transmission status of every usage, for a person or a script."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from smati.tables import aligned
from smati.times import shown

COLOURS = {"green": "green", "orange": "yellow", "red": "red", "violet": "magenta"}
COLUMNS = ("ENTITY", "USAGE", "STATUS", "SINCE", "LAST READING", "PERIOD s (reg/est)", "OPEN GAP")


def status_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([_plain(row) for row in rows], indent=2)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def status_table(rows: Sequence[dict[str, Any]], now: datetime) -> str:
    """Aligned columns; times in each entity's own time zone, shown, with their age."""
    lines = []
    for n, padded in enumerate(aligned([COLUMNS, *(_cells(row, now) for row in rows)])):
        if n:
            padded[2] = click.style(padded[2], fg=COLOURS[rows[n - 1]["status"]], bold=True)
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _cells(row: dict[str, Any], now: datetime) -> tuple[str, ...]:
    zone = row["timezone"]
    estimated = row["period_estimated_s"]
    period = f"{row['period_registered_s']:g}/" + (f"{estimated:.3g}" if estimated else "-")
    return (
        row["entity_name"] or row["entity_id"],
        row["usage_id"],
        row["status"],
        _when(row["status_since"], now, zone),
        _when(row["last_reading_at"], now, zone),
        period,
        _when(row["open_gap_start"], now, zone),
    )


def _when(moment: datetime | None, now: datetime, zone: str) -> str:
    if moment is None:
        return "-"
    return f"{shown(moment, zone)} ({_age(now - moment)} ago)"


def _age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
