"""The stream's writes of alarms and their history (schema: migrations/0008_alarms.sql).

An alarm is upserted on its deterministic id, so a replayed batch writes the same rows.
The upsert never touches the acknowledgement (a person's), and never alters a row a
person cleared (`cleared_by`): the writer returns those ids, so that the stream forgets
them and opens a new alarm at the next detection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from models.alarms import Alarm, AlarmChange
from storage.staging import StagedTable, Values, stage_and_insert

__all__ = ["write_alarm_changes"]

_STREAM_COLUMNS = (
    "severity",
    "last_seen_ts",
    "end_ts",
    "cleared",
    "flapping",
    "occurrences",
    "details",
)
_ALARMS = StagedTable(
    target="alarms",
    columns=(
        "id",
        "tenant_id",
        "entity_id",
        "equipment_id",
        "usage_id",
        "device_id",
        "type",
        "start_ts",
        *_STREAM_COLUMNS,
    ),
    types=(
        *("text",) * 7,
        "timestamptz",
        "text",
        "timestamptz",
        "timestamptz",
        "bool",
        "bool",
        "int4",
        "jsonb",
    ),
    key=("id",),
    on_conflict=sql.SQL(
        "DO UPDATE SET {updates}, updated_at = now() WHERE alarms.cleared_by IS NULL"
    ).format(
        updates=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in _STREAM_COLUMNS
        )
    ),
)
_HISTORY = StagedTable(
    target="alarm_history",
    columns=("alarm_id", "ts", "transition", "severity", "details"),
    types=("text", "timestamptz", "text", "text", "jsonb"),
    key=("alarm_id", "ts", "transition"),
)
# An open alarm of the stream that a new one of its usage and type replaces: the state
# that followed it was lost (a usage state removed by hand). Closed where the new starts,
# so that the one-open-per-usage-and-type index holds and the worker goes on.
_CLOSE_SUPERSEDED = """
    UPDATE alarms AS a SET cleared = true, end_ts = greatest(n.start_ts, a.start_ts),
        updated_at = now()
    FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])
        AS n (id, usage_id, type, start_ts)
    WHERE a.usage_id = n.usage_id AND a.type = n.type AND NOT a.cleared AND a.id <> n.id
"""
_CLEARED_BY_HAND = "SELECT id FROM alarms WHERE id = ANY(%s) AND cleared_by IS NOT NULL"


def write_alarm_changes(conn: psycopg.Connection, changes: Sequence[AlarmChange]) -> set[str]:
    """Store a batch's alarm changes and their history in one transaction; return the ids
    of the alarms a person had cleared (left as they were).

    Each alarm is written as it is after its last change of the batch; those the batch
    clears first, so that a new alarm of the same usage and type can take their place."""
    if not changes:
        return set()
    latest = list({change.alarm.id: change.alarm for change in changes}.values())
    opened = [alarm for alarm in latest if not alarm.cleared]
    with conn.transaction(), conn.cursor() as cur:
        stage_and_insert(cur, _ALARMS, map(_alarm_row, (a for a in latest if a.cleared)))
        if opened:
            cur.execute(_CLOSE_SUPERSEDED, _columns(opened, "id", "usage_id", "type", "start_ts"))
            stage_and_insert(cur, _ALARMS, map(_alarm_row, opened))
        stage_and_insert(cur, _HISTORY, map(_history_row, changes))
        cur.execute(_CLEARED_BY_HAND, [[alarm.id for alarm in latest]])
        return {row[0] for row in cur}


def _alarm_row(alarm: Alarm) -> Values:
    return (
        alarm.id,
        alarm.tenant_id,
        alarm.entity_id,
        alarm.equipment_id,
        alarm.usage_id,
        alarm.device_id,
        alarm.type,
        alarm.start_ts,
        alarm.severity.value,
        alarm.last_seen_ts,
        alarm.end_ts,
        alarm.cleared,
        alarm.flapping,
        alarm.occurrences,
        Jsonb(alarm.details),
    )


def _history_row(change: AlarmChange) -> Values:
    alarm = change.alarm
    details = {"occurrences": alarm.occurrences, "flapping": alarm.flapping}
    return (alarm.id, change.ts, change.transition.value, alarm.severity.value, Jsonb(details))


def _columns(alarms: Iterable[Alarm], *names: str) -> list[list[Any]]:
    rows = [alarm.model_dump(include=set(names)) for alarm in alarms]
    return [[row[name] for row in rows] for name in names]
