"""Small read queries, for the CLI to print what the pipeline has stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from models.detection import DetectionEvent, DetectionKind, Severity

__all__ = [
    "ReadingCounts",
    "alarm_counts_by_type",
    "alarm_history_of",
    "event_counts_by_kind",
    "events_since",
    "reading_counts",
    "readings_since",
    "recent_events",
    "usage_timezone",
]


@dataclass(frozen=True)
class ReadingCounts:
    total: int
    per_tenant: dict[str, int]


def reading_counts(conn: psycopg.Connection) -> ReadingCounts:
    """How many readings are stored, in all and per tenant."""
    rows = conn.execute(
        "SELECT tenant_id, count(*) FROM readings GROUP BY tenant_id ORDER BY tenant_id"
    ).fetchall()
    per_tenant = {tenant_id: count for tenant_id, count in rows}
    return ReadingCounts(total=sum(per_tenant.values()), per_tenant=per_tenant)


def event_counts_by_kind(conn: psycopg.Connection) -> dict[str, int]:
    """How many detection events of each kind are stored, kinds in alphabetical order."""
    rows = conn.execute(
        "SELECT kind, count(*) FROM detection_events GROUP BY kind ORDER BY kind"
    ).fetchall()
    return {kind: count for kind, count in rows}


def recent_events(conn: psycopg.Connection, limit: int = 20) -> list[DetectionEvent]:
    """The `limit` latest detection events by reading time, latest first, times in UTC."""
    rows = conn.execute(
        """
        SELECT id, kind, tenant_id, usage_id, ts, severity, details
        FROM detection_events
        ORDER BY ts DESC, created_at DESC, id
        LIMIT %s
        """,
        (limit,),
    ).fetchall()
    return [
        DetectionEvent(
            id=event_id,
            kind=DetectionKind(kind),
            tenant_id=tenant_id,
            usage_id=usage_id,
            ts=ts.astimezone(UTC),
            severity=Severity(severity),
            details=details,
        )
        for event_id, kind, tenant_id, usage_id, ts, severity, details in rows
    ]


def events_since(
    conn: psycopg.Connection,
    since: datetime,
    *,
    usage_id: str | None = None,
    kind: str | None = None,
    tenant_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The first `limit` detection events from `since` on (reading time), oldest first
    (events of one time in the order they were stored: violet before the green that ends
    it), each with the time zone of its usage's building ('UTC' for a usage no longer known)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT d.ts, d.kind, d.tenant_id, d.usage_id, d.severity, d.details,
                   coalesce(e.timezone, 'UTC') AS timezone
            FROM detection_events d
            LEFT JOIN usages u ON u.id = d.usage_id
            LEFT JOIN entities e ON e.id = u.entity_id
            WHERE d.ts >= %(since)s
              AND (%(usage)s::text IS NULL OR d.usage_id = %(usage)s)
              AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
              AND (%(tenant)s::text IS NULL OR d.tenant_id = %(tenant)s)
            ORDER BY d.ts, d.created_at, d.id
            LIMIT %(limit)s
            """,
            {"since": since, "usage": usage_id, "kind": kind, "tenant": tenant_id, "limit": limit},
        )
        return cur.fetchall()


def readings_since(
    conn: psycopg.Connection, usage_id: str, since: datetime, limit: int = 1000
) -> list[dict[str, Any]]:
    """The first `limit` readings of a usage from `since` on, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT ts, value, unit, flags, device_id, source
            FROM readings
            WHERE usage_id = %s AND ts >= %s
            ORDER BY ts
            LIMIT %s
            """,
            (usage_id, since, limit),
        )
        return cur.fetchall()


def usage_timezone(conn: psycopg.Connection, usage_id: str) -> str | None:
    """The time zone of the building of a registered usage; None if it is not registered."""
    row = conn.execute(
        """
        SELECT e.timezone FROM usages u JOIN entities e ON e.id = u.entity_id WHERE u.id = %s
        """,
        (usage_id,),
    ).fetchone()
    return str(row[0]) if row else None


def alarm_counts_by_type(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """Per alarm type: how many alarms were raised, and how many of them are cleared."""
    rows = conn.execute(
        "SELECT type, count(*), count(*) FILTER (WHERE cleared) FROM alarms GROUP BY type"
    ).fetchall()
    return {alarm_type: (raised, cleared) for alarm_type, raised, cleared in rows}


def alarm_history_of(
    conn: psycopg.Connection, usage_ids: list[str], types: list[str], limit: int = 20
) -> list[dict[str, Any]]:
    """The latest transitions of these usages' alarms of these types, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT * FROM (
                SELECT h.ts, a.usage_id, a.type, h.transition, h.severity, h.recorded_at
                FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id
                WHERE a.usage_id = ANY(%s) AND a.type = ANY(%s)
                ORDER BY h.ts DESC, h.recorded_at DESC LIMIT %s
            ) AS latest ORDER BY ts, recorded_at
            """,
            [usage_ids, types, limit],
        )
        return cur.fetchall()
