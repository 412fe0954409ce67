"""The data-quality reports' reads: transmission over a period, and one usage's readings
summarised in the database (histograms, time buckets), never pulled row by row.

Every query takes the tenant and filters on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import class_row

__all__ = [
    "Bucket",
    "Evolution",
    "Gap",
    "Histogram",
    "MarkedPoint",
    "RadioQuality",
    "Transmission",
    "gaps_of",
    "interval_histogram",
    "marked_points",
    "radio_quality",
    "status_evolution",
    "time_buckets",
    "transmissions",
    "value_histogram",
]


@dataclass(frozen=True)
class Transmission:
    usage_id: str
    last_reading_at: datetime | None
    period_estimated_s: float | None
    status: str


@dataclass
class Evolution:
    """A usage's transmission over a period: seconds per status, status at both ends, gaps."""

    usage_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    status_start: str = "violet"
    status_end: str = "violet"
    gaps: int = 0
    gap_seconds: float = 0.0


@dataclass(frozen=True)
class Gap:
    start_ts: datetime
    end_ts: datetime | None
    state: str


@dataclass(frozen=True)
class Histogram:
    edges: list[float]
    counts: list[int]
    beyond: int
    """Values above the last edge."""


@dataclass(frozen=True)
class Bucket:
    start: datetime
    mean: float
    low: float
    high: float
    readings: int


@dataclass(frozen=True)
class MarkedPoint:
    kind: str
    ts: datetime
    value: float | None


@dataclass(frozen=True)
class RadioQuality:
    device_id: str
    frames: int
    loss_rate: float | None
    avg_rssi: float | None
    avg_snr: float | None
    avg_gateways: float | None


def transmissions(
    conn: psycopg.Connection, tenant_id: str, usage_ids: Sequence[str]
) -> dict[str, Transmission]:
    """What the stream last stored of each usage's transmission (none: never heard)."""
    with conn.cursor(row_factory=class_row(Transmission)) as cur:
        rows = cur.execute(
            """
            SELECT usage_id, last_reading_at, period_estimated_s, status
            FROM usage_transmission WHERE tenant_id = %s AND usage_id = ANY(%s)
            """,
            (tenant_id, list(usage_ids)),
        ).fetchall()
    return {row.usage_id: row for row in rows}


# The status in force at the start (the last change before it; violet if none), then
# each change within the period, each lasting until the next or the period's end. Changes
# at one instant (orange to red to green as a worker catches up) are ordered by their
# chain: a change comes after the one whose status it changed from.
_EVOLUTION = """
WITH target AS (
    SELECT id FROM usages WHERE tenant_id = %(tenant)s AND id = ANY(%(usages)s)
), history AS (
    SELECT h.usage_id, h.ts, h.status,
           (SELECT count(*) FROM status_history o
            WHERE o.usage_id = h.usage_id AND o.ts = h.ts AND o.status = h.previous) AS after
    FROM status_history h JOIN target t ON t.id = h.usage_id
    WHERE h.ts < %(end)s
), changes AS (
    SELECT t.id AS usage_id, %(start)s::timestamptz AS ts, -1 AS after,
           coalesce((SELECT h.status FROM history h
                     WHERE h.usage_id = t.id AND h.ts <= %(start)s
                     ORDER BY h.ts DESC, h.after DESC LIMIT 1), 'violet') AS status
    FROM target t
    UNION ALL
    SELECT usage_id, ts, after, status FROM history WHERE ts > %(start)s
), spans AS (
    SELECT usage_id, status, ts, after,
           lead(ts, 1, %(end)s::timestamptz) OVER w AS until,
           row_number() OVER w = count(*) OVER (PARTITION BY usage_id) AS last
    FROM changes
    WINDOW w AS (PARTITION BY usage_id ORDER BY ts, after)
)
SELECT usage_id, status, extract(epoch FROM until - ts)::float8 AS seconds,
       after = -1 AS first, last
FROM spans ORDER BY usage_id, ts, after
"""

_GAPS_IN = """
SELECT g.usage_id, count(*)::integer,
       sum(extract(epoch FROM least(coalesce(g.end_ts, %(end)s), %(end)s)
                              - greatest(g.start_ts, %(start)s)))::float8
FROM gaps g
WHERE g.tenant_id = %(tenant)s AND g.usage_id = ANY(%(usages)s) AND g.state <> 'filled'
  AND g.start_ts < %(end)s AND coalesce(g.end_ts, 'infinity') > %(start)s
GROUP BY g.usage_id
"""


def status_evolution(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> dict[str, Evolution]:
    params = {"tenant": tenant_id, "usages": list(usage_ids), "start": start, "end": end}
    found: dict[str, Evolution] = {}
    for usage_id, status, seconds, first, last in conn.execute(_EVOLUTION, params):
        evolution = found.setdefault(usage_id, Evolution(usage_id))
        evolution.seconds[status] = evolution.seconds.get(status, 0.0) + seconds
        if first:
            evolution.status_start = status
        if last:
            evolution.status_end = status
    for usage_id, count, seconds in conn.execute(_GAPS_IN, params):
        found[usage_id].gaps, found[usage_id].gap_seconds = count, seconds
    return found


def gaps_of(
    conn: psycopg.Connection, tenant_id: str, usage_id: str, start: datetime, end: datetime
) -> list[Gap]:
    """The usage's gaps overlapping the period (not those late readings filled)."""
    with conn.cursor(row_factory=class_row(Gap)) as cur:
        return cur.execute(
            """
            SELECT start_ts, end_ts, state FROM gaps
            WHERE tenant_id = %s AND usage_id = %s AND state <> 'filled'
              AND start_ts < %s AND coalesce(end_ts, 'infinity') > %s
            ORDER BY start_ts
            """,
            (tenant_id, usage_id, end, start),
        ).fetchall()


def _histogram(rows: list[tuple[int, int]], low: float, high: float, bins: int) -> Histogram:
    counts = dict(rows)
    width = (high - low) / bins
    return Histogram(
        edges=[low + n * width for n in range(bins + 1)],
        counts=[counts.get(n, 0) for n in range(1, bins + 1)],
        beyond=counts.get(bins + 1, 0),
    )


def interval_histogram(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    start: datetime,
    end: datetime,
    top_s: float,
    bins: int = 40,
    *,
    raw: bool = False,
) -> Histogram:
    """Seconds between consecutive readings, in `bins` bins from 0 to `top_s`."""
    rows = conn.execute(
        sql.SQL(
            """
            WITH r AS (
                SELECT extract(epoch FROM ts - lag(ts) OVER (ORDER BY ts))::float8 AS interval_s
                FROM {readings}
                WHERE tenant_id = %s AND usage_id = %s AND ts >= %s AND ts < %s
            )
            SELECT width_bucket(interval_s, 0, %s, %s), count(*)::integer
            FROM r WHERE interval_s IS NOT NULL GROUP BY 1
            """
        ).format(readings=readings_relation(raw)),
        (tenant_id, usage_id, start, end, top_s, bins),
    ).fetchall()
    return _histogram(rows, 0.0, top_s, bins)


# A usage's values over the period, or for an index meter the steps between its readings
# (its consumption per interval: a decreasing index shows as a negative step).
_VALUES = """
WITH v AS (
    SELECT CASE WHEN %(steps)s THEN value - lag(value) OVER (ORDER BY ts) ELSE value END AS x
    FROM {readings}
    WHERE tenant_id = %(tenant)s AND usage_id = %(usage)s AND ts >= %(start)s AND ts < %(end)s
)
"""


def readings_relation(raw: bool) -> sql.Identifier:
    """The readings as corrected by cleansing and gap filling (migration 0015), or `raw`."""
    return sql.Identifier("readings" if raw else "corrected_readings")


def value_histogram(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    start: datetime,
    end: datetime,
    *,
    steps: bool = False,
    bins: int = 30,
    raw: bool = False,
) -> Histogram | None:
    """The distribution of the values (`steps`: of the differences between consecutive
    ones) in `bins` bins from the lowest to the highest; None without readings."""
    params: dict[str, object] = {
        "steps": steps, "tenant": tenant_id, "usage": usage_id, "start": start, "end": end,
    }  # fmt: skip
    values = sql.SQL(_VALUES).format(readings=readings_relation(raw))
    bounds = conn.execute(values + sql.SQL("SELECT min(x), max(x) FROM v"), params).fetchone()
    if bounds is None or bounds[0] is None:
        return None
    low, high = bounds[0], max(bounds[1], bounds[0] + 1e-9)
    rows = conn.execute(
        values
        + sql.SQL(
            """
            SELECT least(width_bucket(x, %(low)s, %(high)s, %(bins)s), %(bins)s),
                   count(*)::integer
            FROM v WHERE x IS NOT NULL GROUP BY 1
            """
        ),
        {**params, "low": low, "high": high, "bins": bins},
    ).fetchall()
    return _histogram(rows, low, high, bins)


def time_buckets(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    start: datetime,
    end: datetime,
    count: int = 400,
    *,
    raw: bool = False,
) -> list[Bucket]:
    """The readings in about `count` time buckets: mean, lowest, highest of each."""
    width = timedelta(seconds=max(1, int((end - start).total_seconds() / count)))
    with conn.cursor(row_factory=class_row(Bucket)) as cur:
        return cur.execute(
            sql.SQL(
                """
                SELECT date_bin(%s, ts, %s) AS start, avg(value) AS mean, min(value) AS low,
                       max(value) AS high, count(*)::integer AS readings
                FROM {readings}
                WHERE tenant_id = %s AND usage_id = %s AND ts >= %s AND ts < %s
                GROUP BY 1 ORDER BY 1
                """
            ).format(readings=readings_relation(raw)),
            (width, start, tenant_id, usage_id, start, end),
        ).fetchall()


MARKED_KINDS = (
    "anomaly",
    "threshold_high",
    "threshold_low",
    "decreasing_index",
    "meter_reset",
    "index_rollover",
    "negative_consumption",
)


def marked_points(
    conn: psycopg.Connection, tenant_id: str, usage_id: str, start: datetime, end: datetime
) -> list[MarkedPoint]:
    """The readings the stream flagged (anomalies, thresholds, decreasing indexes, resets,
    rollovers, negative consumptions), with their value."""
    with conn.cursor(row_factory=class_row(MarkedPoint)) as cur:
        return cur.execute(
            """
            SELECT e.kind, e.ts, r.value
            FROM detection_events e
            LEFT JOIN readings r ON r.usage_id = e.usage_id AND r.ts = e.ts
            WHERE e.tenant_id = %s AND e.usage_id = %s AND e.ts >= %s AND e.ts < %s
              AND e.kind = ANY(%s)
            ORDER BY e.ts
            """,
            (tenant_id, usage_id, start, end, list(MARKED_KINDS)),
        ).fetchall()


def radio_quality(
    conn: psycopg.Connection, tenant_id: str, device_ids: Sequence[str]
) -> list[RadioQuality]:
    """Radio health of the tenant's devices among `device_ids` (LoRaWAN, Sigfox only)."""
    with conn.cursor(row_factory=class_row(RadioQuality)) as cur:
        return cur.execute(
            """
            SELECT q.device_id, q.frames::integer, q.loss_rate, q.avg_rssi, q.avg_snr,
                   q.avg_gateways::float8
            FROM radio_quality q JOIN devices d ON d.id = q.device_id
            WHERE d.tenant_id = %s AND q.device_id = ANY(%s)
            ORDER BY q.device_id
            """,
            (tenant_id, list(device_ids)),
        ).fetchall()
