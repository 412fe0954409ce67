"""`smati alarms`: an operator's view of the alarms of every tenant, and their hands on
them (acknowledge, clear). Times in each building's zone, the zone shown."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click

from models.alarm_status import AlarmSeverity, AlarmStatus
from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import aligned, echo_json, echo_table, json_option, table
from smati.times import Moment, shown

__all__ = ["alarms"]

_tenant = click.option("--tenant", help="only if the alarm is this tenant's")
_by = click.option(
    "--by", envvar="USER", required=True, help="who does it, recorded in the alarm [env USER]"
)


@click.group()
def alarms() -> None:
    """Alarms raised from detections: list, show with history, acknowledge, clear by hand."""


@alarms.command("list")
@click.option("--tenant", help="only this tenant's alarms")
@click.option("--entity", help="only this entity's (building's)")
@click.option("--equipment", help="only this equipment's")
@click.option("--usage", help="only this usage's")
@click.option("--type", "alarm_type", help="only alarms of this type")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in AlarmStatus]),
    help="only alarms in this status, repeatable",
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=click.Choice([severity.value for severity in AlarmSeverity]),
    help="only alarms of this severity, repeatable",
)
@click.option("--since", type=Moment(), help="only alarms active at or after this time (or age)")
@click.option("--until", type=Moment(), help="only alarms raised before this time (or age)")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="skip this many first")
@json_option
@click.pass_context
def alarms_list(
    ctx: click.Context,
    tenant: str | None,
    entity: str | None,
    equipment: str | None,
    usage: str | None,
    alarm_type: str | None,
    statuses: tuple[str, ...],
    severities: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Alarms, the latest raised first, with their status (active or cleared, acknowledged
    or not) and severity."""
    from storage.alarms import AlarmFilter, list_alarms

    chosen = AlarmFilter(
        tenant_id=tenant,
        entity_id=entity,
        equipment_id=equipment,
        usage_id=usage,
        type=alarm_type,
        statuses=tuple(map(AlarmStatus, statuses)),
        severities=tuple(map(AlarmSeverity, severities)),
        since=since,
        until=until,
    )
    with migrated_database(settings_of(ctx)) as conn:
        rows = list_alarms(conn, chosen, limit=limit + 1, offset=offset)
    if as_json:
        echo_json(rows[:limit])
        return
    header = ("ID", "RAISED", "STATUS", "SEVERITY", "TYPE", "TENANT", "USAGE", "LAST SEEN")
    cells = [
        (
            row["id"],
            shown(row["start_ts"], row["timezone"]),
            row["status"],
            row["severity"],
            row["type"],
            row["tenant_id"],
            row["usage_id"],
            shown(row["last_seen_ts"], row["timezone"]),
        )
        for row in rows[:limit]
    ]
    echo_table(header, cells, len(rows), limit)


@alarms.command("show")
@click.argument("alarm_id")
@_tenant
@json_option
@click.pass_context
def alarms_show(ctx: click.Context, alarm_id: str, tenant: str | None, as_json: bool) -> None:
    """An alarm and its history: each transition, when and by whom ('stream': the data)."""
    from storage.alarms import alarm_with_history

    with migrated_database(settings_of(ctx)) as conn:
        alarm, history = alarm_with_history(conn, alarm_id, tenant_id=tenant)
    if as_json:
        echo_json([{**alarm, "history": history}])
        return
    click.echo("\n".join("  ".join(line).rstrip() for line in aligned(_described(alarm))))
    click.echo()
    zone = alarm["timezone"]
    cells = [
        (shown(h["ts"], zone), h["transition"], h["severity"], h["actor"], _details(h["details"]))
        for h in history
    ]
    click.echo(table(("TIME", "TRANSITION", "SEVERITY", "BY", "DETAILS"), cells))


@alarms.command("ack")
@click.argument("alarm_id")
@_tenant
@_by
@click.pass_context
def alarms_ack(ctx: click.Context, alarm_id: str, tenant: str | None, by: str) -> None:
    """Acknowledge an alarm: someone is on it (it stays active until the data or a
    person clears it)."""
    from storage.alarms import acknowledge_alarm

    with migrated_database(settings_of(ctx)) as conn:
        alarm = acknowledge_alarm(conn, alarm_id, by, tenant_id=tenant)
    at = shown(alarm["ack_ts"], alarm["timezone"])
    click.echo(f"alarm {alarm_id} acknowledged by {by} at {at}: now {alarm['status']}")


@alarms.command("clear")
@click.argument("alarm_id")
@_tenant
@_by
@click.pass_context
def alarms_clear(ctx: click.Context, alarm_id: str, tenant: str | None, by: str) -> None:
    """Clear an alarm by hand (the stream then leaves it cleared; a new detection raises a
    new alarm)."""
    from storage.alarms import clear_alarm

    with migrated_database(settings_of(ctx)) as conn:
        alarm = clear_alarm(conn, alarm_id, by, tenant_id=tenant)
    at = shown(alarm["end_ts"], alarm["timezone"])
    click.echo(f"alarm {alarm_id} cleared by {by} at {at}: now {alarm['status']}")


def _described(alarm: Mapping[str, Any]) -> list[tuple[str, str]]:
    zone = alarm["timezone"]

    def when(column: str) -> str:
        return "-" if alarm[column] is None else shown(alarm[column], zone)

    acked = f"by {alarm['ack_by']} at {when('ack_ts')}" if alarm["acknowledged"] else "no"
    cleared = f"by {alarm['cleared_by'] or 'the data'}" if alarm["cleared"] else "no"
    return [
        ("alarm", alarm["id"]),
        ("status", alarm["status"]),
        ("severity", alarm["severity"]),
        ("type", alarm["type"]),
        ("tenant", alarm["tenant_id"]),
        ("entity", alarm["entity_id"]),
        ("equipment", alarm["equipment_id"]),
        ("usage", alarm["usage_id"]),
        ("device", alarm["device_id"] or "-"),
        ("raised", when("start_ts")),
        ("last seen", when("last_seen_ts")),
        ("ended", when("end_ts")),
        ("acknowledged", acked),
        ("cleared", cleared),
        ("flapping", "yes" if alarm["flapping"] else "no"),
        ("occurrences", str(alarm["occurrences"])),
        ("details", _details(alarm["details"]) or "-"),
    ]


def _details(details: Mapping[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in details.items() if value is not None)
