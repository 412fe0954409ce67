"""Read commands an operator looks for first: dead letters, detection events, readings.

Times are shown in the building's zone, the zone shown; dead letters, which may belong to
no building, in UTC, marked as such. `--json` prints one JSON object per line instead.
"""

from __future__ import annotations

from datetime import datetime

import click

from models.dead_letter import DeadLetter, RejectCode
from models.detection import DetectionKind
from models.errors import SmatiError
from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import echo_json, echo_table, json_option
from smati.times import Moment, shown

__all__ = ["dead_letters", "events", "readings"]

_since = click.option(
    "--since",
    type=Moment(),
    default="1d",
    show_default=True,
    help="from this time (2026-11-25T10:00+01:00) or this age back (30min, 2h, 7d)",
)
_limit = click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)


class UnknownUsage(SmatiError, LookupError):
    """A usage id the registry does not hold."""


@click.group("dead-letters")
def dead_letters() -> None:
    """What the pipeline refused, with the reason (read from the dead-letter topic)."""


@dead_letters.command("list")
@click.option(
    "--reason",
    type=click.Choice([code.value for code in RejectCode]),
    help="only this reject code",
)
@_since
@_limit
@json_option
@click.pass_context
def dead_letters_list(
    ctx: click.Context, reason: str | None, since: datetime, limit: int, as_json: bool
) -> None:
    """Dead letters published since a time, oldest first (times in UTC)."""
    from stream.topics import read_records

    settings = settings_of(ctx)
    records = read_records(
        settings.kafka_bootstrap, settings.topic("dead-letter"), timeout_s=10, since=since
    )
    letters = sorted(
        (DeadLetter.model_validate_json(record.value) for record in records),
        key=lambda letter: letter.failed_at,
    )
    chosen = [letter for letter in letters if reason is None or letter.code == reason]
    rows = [_letter_row(letter) for letter in chosen[:limit]]
    if as_json:
        echo_json([letter.model_dump(mode="json") for letter in chosen[:limit]])
    else:
        header = ("FAILED AT", "CODE", "STAGE", "DEVICE", "USAGE", "REASON")
        echo_table(header, rows, len(chosen), limit)


def _letter_row(letter: DeadLetter) -> tuple[str, ...]:
    return (
        shown(letter.failed_at),
        letter.code,
        letter.stage,
        letter.device_id or "-",
        letter.usage_id or "-",
        letter.reason,
    )


@click.group("events")
def events() -> None:
    """Detection events: defects, thresholds, transmission, gaps, anomalies."""


@events.command("list")
@click.option("--usage", help="only this usage's events")
@click.option(
    "--kind", type=click.Choice([kind.value for kind in DetectionKind]), help="only this kind"
)
@click.option("--tenant", help="only this tenant's events")
@_since
@_limit
@json_option
@click.pass_context
def events_list(
    ctx: click.Context,
    usage: str | None,
    kind: str | None,
    tenant: str | None,
    since: datetime,
    limit: int,
    as_json: bool,
) -> None:
    """Events since a time (of the readings they were found in), oldest first; times in
    each building's zone."""
    from storage.queries import events_since

    with migrated_database(settings_of(ctx)) as conn:
        rows = events_since(
            conn, since, usage_id=usage, kind=kind, tenant_id=tenant, limit=limit + 1
        )
    if as_json:
        echo_json(rows[:limit])
        return
    cells = [
        (
            shown(row["ts"], row["timezone"]),
            row["tenant_id"],
            row["usage_id"],
            row["kind"],
            row["severity"],
            " ".join(f"{k}={v}" for k, v in row["details"].items() if v is not None),
        )
        for row in rows[:limit]
    ]
    header = ("TIME", "TENANT", "USAGE", "KIND", "SEVERITY", "DETAILS")
    echo_table(header, cells, len(rows), limit)


@click.command("readings")
@click.option("--usage", required=True, help="the usage whose readings to show")
@_since
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@json_option
@click.pass_context
def readings(ctx: click.Context, usage: str, since: datetime, limit: int, as_json: bool) -> None:
    """A usage's stored readings since a time, oldest first, in its building's zone."""
    from storage.queries import readings_since, usage_timezone

    with migrated_database(settings_of(ctx)) as conn:
        zone = usage_timezone(conn, usage)
        if zone is None:
            raise UnknownUsage(f"usage {usage!r} is not in the registry")
        rows = readings_since(conn, usage, since, limit=limit + 1)
    if as_json:
        echo_json(rows[:limit])
        return
    cells = [
        (
            shown(row["ts"], zone),
            f"{row['value']:g}",
            row["unit"],
            ",".join(row["flags"]) or "-",
            row["device_id"],
        )
        for row in rows[:limit]
    ]
    echo_table(("TIME", "VALUE", "UNIT", "FLAGS", "DEVICE"), cells, len(rows), limit)
