"""Small read queries, for the CLI to print what the pipeline has stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import psycopg

from models.detection import DetectionEvent, DetectionKind, Severity

__all__ = ["ReadingCounts", "event_counts_by_kind", "reading_counts", "recent_events"]


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
