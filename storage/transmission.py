"""Writers and queries of transmission monitoring: current status, status history, gaps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from models.detection import GAP_KINDS, DetectionEvent, DetectionKind
from storage.staging import StagedTable, stage_and_insert

__all__ = ["transmission_of", "write_transmission_events"]


_STATUS_HISTORY = StagedTable(
    target="status_history",
    columns=("event_id", "usage_id", "tenant_id", "ts", "status", "previous"),
    types=("text", "text", "text", "timestamptz", "text", "text"),
    key=("event_id",),
)
_GAP_STATE = {
    DetectionKind.GAP_OPENED: "open",
    DetectionKind.GAP_CLOSED: "closed",
    DetectionKind.GAP_CORRECTED: "closed",
    DetectionKind.GAP_FILLED: "filled",
}


def write_transmission_events(cur: psycopg.Cursor[Any], events: Sequence[DetectionEvent]) -> None:
    """Status history rows and gap rows from their events, in the events' order.

    Gap events carry the whole row of their gap, so replaying them in order ends on the
    same row; status changes are keyed by their event id.
    """
    statuses = [e for e in events if e.kind is DetectionKind.TRANSMISSION_STATUS]
    if statuses:  # one per usage on its first reading: by COPY, not row by row
        rows = (
            (e.id, e.usage_id, e.tenant_id, e.ts, e.details["status"], e.details["previous"])
            for e in statuses
        )
        stage_and_insert(cur, _STATUS_HISTORY, rows)
    # A gap's last event in the batch must win: few rows, written in order.
    cur.executemany(
        """
        INSERT INTO gaps (usage_id, start_ts, tenant_id, end_ts, duration_s, state, event_id)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (usage_id, start_ts) DO UPDATE SET
            end_ts = excluded.end_ts, duration_s = excluded.duration_s,
            state = excluded.state, event_id = excluded.event_id
        """,
        [
            (
                e.usage_id,
                e.details["start"],
                e.tenant_id,
                e.details.get("end"),
                e.details.get("duration_s"),
                _GAP_STATE[e.kind],
                e.id,
            )
            for e in events
            if e.kind in GAP_KINDS
        ],
    )


def transmission_of(
    conn: psycopg.Connection, tenant_id: str | None = None, entity_id: str | None = None
) -> list[dict[str, Any]]:
    """Every registered usage of a tenant or entity with its current transmission.

    A usage the stream has not announced yet shows as violet: registered, never heard.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT u.tenant_id, u.entity_id, e.name AS entity_name, e.timezone,
                   u.id AS usage_id, u.name AS usage_name, u.type, u.unit,
                   coalesce(t.status, 'violet') AS status, t.status_since,
                   t.last_reading_at, u.period_s AS period_registered_s,
                   t.period_estimated_s, t.open_gap_start, t.updated_at
            FROM usages u
            JOIN entities e ON e.id = u.entity_id
            LEFT JOIN usage_transmission t ON t.usage_id = u.id
            WHERE (%(tenant)s::text IS NULL OR u.tenant_id = %(tenant)s)
              AND (%(entity)s::text IS NULL OR u.entity_id = %(entity)s)
            ORDER BY u.tenant_id, e.sort_order, u.entity_id, u.sort_order, u.id
            """,
            {"tenant": tenant_id, "entity": entity_id},
        )
        return cur.fetchall()
