"""The notifier's reads and writes: alarms with what was sent for them (`alarm_notifications`).

The alarms table is the source of truth (the stream's changes and the acknowledgements
and clears made by people); `alarm_notifications` is the notifier's own memory, so that
a restarted notifier posts, silences and resolves nothing twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from models.alarms.model import Alarm
from models.alerting.plan import Delivery, Stored

__all__ = ["alarms_by_id", "pending_alarms", "save_delivery"]

_COLUMNS = sql.SQL("""
    SELECT a.*, n.labels, n.first_sent_at, n.last_sent_at, n.level, n.resolved, n.silence_id
    FROM alarms a LEFT JOIN alarm_notifications n ON n.alarm_id = a.id
""")
_BY_ID = sql.SQL("{} WHERE a.id = ANY(%s)").format(_COLUMNS)
# Open alarms (resends, escalations), and cleared ones whose resolution or silence
# expiry has not gone yet (a notifier stopped between the two).
_PENDING = sql.SQL(
    "{} WHERE NOT a.cleared OR NOT n.resolved OR n.silence_id IS NOT NULL ORDER BY a.id"
).format(_COLUMNS)
_SAVE = """
    INSERT INTO alarm_notifications (
        alarm_id, labels, first_sent_at, last_sent_at, level, resolved, silence_id
    )
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (alarm_id) DO UPDATE SET
        labels = EXCLUDED.labels, first_sent_at = EXCLUDED.first_sent_at,
        last_sent_at = EXCLUDED.last_sent_at, level = EXCLUDED.level,
        resolved = EXCLUDED.resolved, silence_id = EXCLUDED.silence_id
"""

Row = dict[str, Any]


def alarms_by_id(
    conn: psycopg.Connection, ids: Sequence[str]
) -> list[tuple[Stored, Delivery | None]]:
    """These alarms, each with what was sent for it (None: nothing yet)."""
    return _read(conn, _BY_ID, (list(ids),))


def pending_alarms(conn: psycopg.Connection) -> list[tuple[Stored, Delivery | None]]:
    """Alarms the notifier may still have to act on, whatever woke it."""
    return _read(conn, _PENDING, ())


def save_delivery(conn: psycopg.Connection, delivery: Delivery) -> None:
    conn.execute(
        _SAVE,
        (
            delivery.alarm_id,
            Jsonb(delivery.labels),
            delivery.first_sent_at,
            delivery.last_sent_at,
            delivery.level,
            delivery.resolved,
            delivery.silence_id,
        ),
    )


def _read(
    conn: psycopg.Connection, query: sql.Composed, params: tuple[Any, ...]
) -> list[tuple[Stored, Delivery | None]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return [(_stored(row), _delivery(row)) for row in cur]


_DELIVERY_FIELDS = [f.name for f in dataclasses.fields(Delivery) if f.name != "alarm_id"]


def _stored(row: Row) -> Stored:
    """The row's stream columns as the stream's model, other columns ignored."""
    return Stored(Alarm.model_validate(row), acknowledged=row["acknowledged"])


def _delivery(row: Row) -> Delivery | None:
    """None when nothing was sent yet (no row joined)."""
    if row["labels"] is None:
        return None
    return Delivery(alarm_id=row["id"], **{name: row[name] for name in _DELIVERY_FIELDS})


def open_alarm_counts(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """Open alarms of every tenant by (status, severity)."""
    rows = conn.execute(
        "SELECT status, severity, count(*) FROM alarms WHERE NOT cleared GROUP BY 1, 2"
    ).fetchall()
    return {(status, severity): int(count) for status, severity, count in rows}
