"""The reports' reads of the daily rollup (`usage_daily`, migration 0007), in local days.

By default the rollup of the readings as corrected by cleansing and gap filling
(`usage_daily_corrected`, migration 0015); `raw=True` reads the readings' own.

Every query takes the tenant and filters on it: a report never reads another tenant's
usages, whatever ids it is given. Months and days are the entity's local ones; periods
are given as local dates, the end excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

__all__ = [
    "DailyExtremes",
    "MonthlyConsumption",
    "daily_extremes",
    "monthly_consumption",
    "rebuild_rollups",
    "refresh_rollups",
]


@dataclass(frozen=True)
class MonthlyConsumption:
    usage_id: str
    month: date
    consumption: float
    """In the usage's unit; an index meter's by differences, resets and rollovers honoured."""
    readings: int
    expected: float
    """Readings the month holds at the usage's registered period (local month, DST included)."""
    negatives: int
    """Negative values of a consumption usage, left out of `consumption`."""
    estimated: int = 0
    """Of `readings`, the values estimated by gap filling (none in the raw rollup)."""


@dataclass(frozen=True)
class DailyExtremes:
    day: date
    min_value: float
    max_value: float


def refresh_rollups(conn: psycopg.Connection) -> int:
    """Bring the daily rollups (the readings' own, then the corrected one, which copies
    it) up to date; return how many usages changed.

    On TimescaleDB the continuous aggregate keeps itself up to date (0).
    """
    with conn.transaction():
        row = conn.execute("SELECT refresh_usage_daily()").fetchone()
        conn.execute("SELECT refresh_usage_daily_corrected()")
    return int(row[0]) if row else 0


def rebuild_rollups(conn: psycopg.Connection, usage_ids: Sequence[str] = ()) -> int:
    """Recompute the daily rollups of every reading of these usages (all if none given),
    not only the ranges the triggers noted: after a rollup was damaged, restored from a
    backup, or written while its triggers were disabled. Returns how many usages.

    On TimescaleDB the continuous aggregate is refreshed over all time instead (0).
    """
    if conn.execute("SELECT to_regclass('usage_daily_pending')").fetchone() == (None,):
        conn.execute("CALL refresh_continuous_aggregate('usage_hourly', NULL, NULL)")
        return 0
    with conn.transaction():
        conn.execute(
            """
            WITH ranges AS (
                SELECT usage_id, min(ts), max(ts) FROM readings
                WHERE cardinality(%(usages)s::text[]) = 0 OR usage_id = ANY(%(usages)s)
                GROUP BY usage_id
            ), raw AS (
                INSERT INTO usage_daily_pending SELECT * FROM ranges
            )
            INSERT INTO usage_daily_corrected_pending SELECT * FROM ranges
            """,
            {"usages": list(usage_ids)},
        )
    return refresh_rollups(conn)


# An index meter's day consumes its trusted last index minus the previous day's, plus a
# correction per decrease the stream explained: a reset restarts from zero (the naive
# difference lost the previous index), a rollover passed `index_max` (the event holds the
# true consumption), a decrease the stream re-baselined on consumed nothing. A glitch
# that is its day's last reading is replaced by the index it fell from.
_MONTHLY = sql.SQL("""
WITH target AS (
    SELECT u.id, u.type, u.period_s, e.timezone AS tz
    FROM usages u JOIN entities e ON e.id = u.entity_id
    WHERE u.tenant_id = %(tenant)s AND u.id = ANY(%(usages)s)
), decreases AS (
    SELECT ev.usage_id, (ev.ts AT TIME ZONE t.tz)::date AS day, ev.ts, ev.kind,
           (ev.details ->> 'previous_index')::float8 AS previous_index,
           (ev.details ->> 'index')::float8 AS index,
           (ev.details ->> 'consumption')::float8 AS consumption,
           coalesce((ev.details ->> 'rebaselined')::boolean, false) AS rebaselined
    FROM detection_events ev JOIN target t ON t.id = ev.usage_id
    WHERE ev.tenant_id = %(tenant)s
      AND ev.kind IN ('meter_reset', 'index_rollover', 'decreasing_index')
), corrections AS (
    SELECT usage_id, day,
           sum(CASE kind
                   WHEN 'meter_reset' THEN previous_index
                   WHEN 'index_rollover' THEN consumption - (index - previous_index)
                   ELSE previous_index - index
               END) AS correction
    FROM decreases
    WHERE kind <> 'decreasing_index' OR rebaselined
    GROUP BY usage_id, day
), days AS (
    SELECT d.usage_id, d.day, d.readings, d.negatives, {estimated} AS estimated, d.first_value,
           d.sum_value, t.type,
           coalesce(g.previous_index, d.last_value) AS last_value,
           coalesce(c.correction, 0) AS correction
    FROM {daily} d
    JOIN target t ON t.id = d.usage_id
    LEFT JOIN decreases g
      ON g.usage_id = d.usage_id AND g.ts = d.last_ts
     AND g.kind = 'decreasing_index' AND NOT g.rebaselined
    LEFT JOIN corrections c ON c.usage_id = d.usage_id AND c.day = d.day
    WHERE d.day < %(end)s
), consumed AS (
    SELECT usage_id, day, readings, negatives, estimated,
           CASE WHEN type = 'index'
                THEN last_value - coalesce(lag(last_value) OVER w, first_value) + correction
                ELSE sum_value
           END AS consumption
    FROM days
    WINDOW w AS (PARTITION BY usage_id ORDER BY day)
), months AS (
    SELECT usage_id, date_trunc('month', day)::date AS month, sum(consumption) AS consumption,
           sum(readings)::integer AS readings, sum(negatives)::integer AS negatives,
           sum(estimated)::integer AS estimated
    FROM consumed
    WHERE day >= %(start)s
    GROUP BY usage_id, 2
)
SELECT m.usage_id, m.month, m.consumption, m.readings,
       extract(epoch FROM ((m.month + INTERVAL '1 month')::timestamp AT TIME ZONE t.tz)
                          - (m.month::timestamp AT TIME ZONE t.tz)) / t.period_s AS expected,
       m.negatives, m.estimated
FROM months m JOIN target t ON t.id = m.usage_id
ORDER BY m.usage_id, m.month
""")


def _daily(raw: bool) -> dict[str, sql.Composable]:
    """The rollup to read, and its estimates (the readings' own have none)."""
    if raw:
        return {"daily": sql.Identifier("usage_daily"), "estimated": sql.SQL("0")}
    return {"daily": sql.Identifier("usage_daily_corrected"), "estimated": sql.SQL("d.estimated")}


def monthly_consumption(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_ids: Sequence[str],
    start: date,
    end: date,
    *,
    raw: bool = False,
) -> list[MonthlyConsumption]:
    """Each usage's consumption per local month of [start, end), months without data left out."""
    params = {"tenant": tenant_id, "usages": list(usage_ids), "start": start, "end": end}
    rows = conn.execute(_MONTHLY.format(**_daily(raw)), params).fetchall()
    return [
        MonthlyConsumption(usage_id, month, consumption, readings, float(expected), *counts)
        for usage_id, month, consumption, readings, expected, *counts in rows
    ]


def daily_extremes(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    start: date,
    end: date,
    *,
    raw: bool = False,
) -> list[DailyExtremes]:
    """A usage's lowest and highest value per local day of [start, end) (degree days)."""
    rows = conn.execute(
        sql.SQL(
            """
            SELECT d.day, d.min_value, d.max_value
            FROM {daily} d JOIN usages u ON u.id = d.usage_id
            WHERE u.tenant_id = %s AND d.usage_id = %s AND d.day >= %s AND d.day < %s
            ORDER BY d.day
            """
        ).format(daily=_daily(raw)["daily"]),
        (tenant_id, usage_id, start, end),
    ).fetchall()
    return [DailyExtremes(day, low, high) for day, low, high in rows]
