"""Alarms as people handle them: listed with filters, shown with their history,
acknowledged and cleared by hand (one function each, which the CLI and the HTTP API share).

Every query is scoped to the tenant it is given, in its own WHERE clause (`tenant_id=None`:
every tenant, for an operator's CLI). Another tenant's alarm is not found rather than
refused, so that its id does not leak. A person's changes never touch what the stream
writes, and the stream's upserts never undo them (migration 0008).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from models.alarm_status import AlarmSeverity, AlarmStatus, CountLevel
from models.errors import SmatiError

__all__ = [
    "ALARM_COLUMNS",
    "AlarmConflict",
    "AlarmFilter",
    "AlarmNotFound",
    "acknowledge_alarm",
    "alarm_counts",
    "alarm_with_history",
    "clear_alarm",
    "list_alarms",
]

Row = dict[str, Any]

ALARM_COLUMNS = (
    "id",
    "tenant_id",
    "entity_id",
    "equipment_id",
    "usage_id",
    "device_id",
    "type",
    "severity",
    "status",
    "start_ts",
    "last_seen_ts",
    "end_ts",
    "cleared",
    "cleared_by",
    "acknowledged",
    "ack_ts",
    "ack_by",
    "flapping",
    "occurrences",
    "details",
    "updated_at",
)
"""What a stored alarm shows, in this order; each row also has its building's `timezone`."""

_COLUMNS = sql.SQL(", ").join(sql.Identifier("a", column) for column in ALARM_COLUMNS)


def _select_alarms(where: sql.Composable) -> sql.Composed:
    return sql.SQL(
        "SELECT {columns}, coalesce(e.timezone, 'UTC') AS timezone "
        "FROM alarms a LEFT JOIN entities e ON e.id = a.entity_id WHERE {where}"
    ).format(columns=_COLUMNS, where=where)


class AlarmNotFound(SmatiError, LookupError):
    """No alarm of this id, or not one of the tenant's."""


class AlarmConflict(SmatiError):
    """The alarm is already in the state a person asked for (acknowledged, cleared)."""


@dataclass(frozen=True)
class AlarmFilter:
    """Which alarms to list; `None` or empty: any. The time range keeps the alarms active
    at some time in [since, until): raised before `until`, not ended before `since`."""

    tenant_id: str | None = None
    entity_id: str | None = None
    equipment_id: str | None = None
    usage_id: str | None = None
    type: str | None = None
    statuses: tuple[AlarmStatus, ...] = ()
    severities: tuple[AlarmSeverity, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[sql.Composable, dict[str, Any]]:
        """The SQL condition on `alarms a` and its parameters."""
        equal = {
            "tenant_id": self.tenant_id,
            "entity_id": self.entity_id,
            "equipment_id": self.equipment_id,
            "usage_id": self.usage_id,
            "type": self.type,
        }
        conditions = [_equal_condition(equal)]
        params: dict[str, Any] = {**equal}
        if self.statuses:
            conditions.append(sql.SQL("a.status = ANY(%(statuses)s)"))
            params["statuses"] = [status.value for status in self.statuses]
        if self.severities:
            conditions.append(sql.SQL("a.severity = ANY(%(severities)s)"))
            params["severities"] = [severity.value for severity in self.severities]
        if self.since is not None:
            conditions.append(sql.SQL("coalesce(a.end_ts, 'infinity') >= %(since)s"))
            params["since"] = self.since
        if self.until is not None:
            conditions.append(sql.SQL("a.start_ts < %(until)s"))
            params["until"] = self.until
        return sql.SQL(" AND ").join(conditions), params


def list_alarms(
    conn: psycopg.Connection, chosen: AlarmFilter, *, limit: int, offset: int = 0
) -> list[Row]:
    """The alarms `chosen` keeps, latest raised first, `limit` from `offset` on."""
    where, params = chosen.where()
    query = sql.SQL("{select} ORDER BY a.start_ts DESC, a.id LIMIT %(limit)s OFFSET %(offset)s")
    return _rows(
        conn,
        query.format(select=_select_alarms(where)),
        {**params, "limit": limit, "offset": offset},
    )


def alarm_with_history(
    conn: psycopg.Connection, alarm_id: str, *, tenant_id: str | None
) -> tuple[Row, list[Row]]:
    """An alarm of the tenant and its transitions, oldest first; AlarmNotFound if none."""
    alarm = _alarm(conn, alarm_id, tenant_id)
    query = sql.SQL(
        "SELECT h.ts, h.transition, h.severity, h.actor, h.details "
        "FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id "
        "WHERE h.alarm_id = %(id)s AND {tenant} ORDER BY h.ts, h.recorded_at, h.transition"
    ).format(tenant=_equal_condition({"tenant_id": tenant_id}))
    return alarm, _rows(conn, query, {"id": alarm_id, "tenant_id": tenant_id})


def acknowledge_alarm(
    conn: psycopg.Connection, alarm_id: str, actor: str, *, tenant_id: str | None
) -> Row:
    """Mark an alarm of the tenant acknowledged by `actor`, now, with its history row, in
    one transaction; the alarm as it is then. AlarmConflict if it already was."""
    return _change_by_hand(conn, _ACKNOWLEDGE, alarm_id, actor, tenant_id)


def clear_alarm(
    conn: psycopg.Connection, alarm_id: str, actor: str, *, tenant_id: str | None
) -> Row:
    """Clear an alarm of the tenant by hand (`cleared_by` = `actor`, ended now), with its
    history row, in one transaction; the alarm as it is then. AlarmConflict if it was
    cleared already (by the data or a person)."""
    return _change_by_hand(conn, _CLEAR, alarm_id, actor, tenant_id)


def alarm_counts(
    conn: psycopg.Connection, *, tenant_id: str | None, level: CountLevel | None = None
) -> list[Row]:
    """Open alarms counted per tenant, entity and equipment (view `alarm_counts`), each
    tenant's total first, then each entity's before its equipment."""
    query = sql.SQL(
        "SELECT level, tenant_id, entity_id, equipment_id, open, unacknowledged, critical, "
        "major, minor, warning, flapping FROM alarm_counts a WHERE {where} AND "
        "(%(level)s::text IS NULL OR level = %(level)s) "
        "ORDER BY tenant_id, entity_id NULLS FIRST, equipment_id NULLS FIRST"
    ).format(where=_equal_condition({"tenant_id": tenant_id}))
    return _rows(conn, query, {"tenant_id": tenant_id, "level": level and level.value})


@dataclass(frozen=True)
class _ByHand:
    """A change a person makes: the transition it records, which is also the name of the
    column that says it is made, and the columns it sets."""

    transition: str
    assignments: sql.Composable


_ACKNOWLEDGE = _ByHand(
    "acknowledged", sql.SQL("acknowledged = true, ack_ts = now(), ack_by = %(actor)s")
)
_CLEAR = _ByHand("cleared", sql.SQL("cleared = true, end_ts = now(), cleared_by = %(actor)s"))


def _change_by_hand(
    conn: psycopg.Connection, change: _ByHand, alarm_id: str, actor: str, tenant_id: str | None
) -> Row:
    params = {"id": alarm_id, "actor": actor, "transition": change.transition}
    with conn.transaction():
        before = _alarm(conn, alarm_id, tenant_id, lock=True)
        if before[change.transition]:
            raise AlarmConflict(_already(before, change.transition))
        update = sql.SQL("UPDATE alarms SET {}, updated_at = now() WHERE id = %(id)s")
        conn.execute(update.format(change.assignments), params)
        conn.execute(
            "INSERT INTO alarm_history (alarm_id, ts, transition, severity, actor) "
            "VALUES (%(id)s, now(), %(transition)s, %(severity)s, %(actor)s)",
            {**params, "severity": before["severity"]},
        )
    return _alarm(conn, alarm_id, tenant_id)


def _already(alarm: Row, transition: str) -> str:
    if transition == _ACKNOWLEDGE.transition:
        by, at = alarm["ack_by"], alarm["ack_ts"]
    else:
        by, at = alarm["cleared_by"] or "the data", alarm["end_ts"]
    when = at.isoformat(timespec="seconds")
    return f"alarm {alarm['id']} is already {transition} (by {by} at {when})"


def _alarm(
    conn: psycopg.Connection, alarm_id: str, tenant_id: str | None, *, lock: bool = False
) -> Row:
    where = sql.SQL("a.id = %(id)s AND {}").format(_equal_condition({"tenant_id": tenant_id}))
    query = _select_alarms(where)
    if lock:  # the stream's upsert of this alarm waits for the person's change, or precedes it
        query = sql.SQL("{} FOR UPDATE OF a").format(query)
    rows = _rows(conn, query, {"id": alarm_id, "tenant_id": tenant_id})
    if not rows:
        raise AlarmNotFound(f"no alarm {alarm_id!r}")
    return rows[0]


def _equal_condition(values: Mapping[str, object]) -> sql.Composable:
    """`a.column = %(column)s` for each value given (not None), ANDed; true if none is."""
    conditions = [
        sql.SQL("a.{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        for column, value in values.items()
        if value is not None
    ]
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")


def _rows(conn: psycopg.Connection, query: sql.Composed, params: Mapping[str, Any]) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()
