"""The data-quality reports: transmission monitoring of a tenant or entity, and the
diagnostic of one usage, over days of the building's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg

from reporting.components import ReportComponent
from reporting.errors import ReportError
from reporting.locale import DASH, Formatter
from reporting.quality_components import (
    EvolutionTable,
    GapsTable,
    IntervalHistogram,
    RadioTable,
    TimeSeriesPlot,
    TransmissionTable,
    UsageSummary,
    ValueHistogram,
)
from reporting.render import Report, meta_lines
from storage.report_quality import (
    gaps_of,
    interval_histogram,
    marked_points,
    radio_quality,
    status_evolution,
    time_buckets,
    transmissions,
    value_histogram,
)
from storage.report_registry import EntityInfo, entities_of, usages_of

__all__ = ["Days", "diagnostic_report", "monitoring_report"]

_INTERVAL_RANGE = 4
"""The interval histogram spans this many periods (the longest of the two)."""


@dataclass(frozen=True)
class Days:
    """Local days [start, end) of a building's zone."""

    start: date
    end: date
    timezone: str

    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.timezone)
        return (
            datetime.combine(self.start, time(), zone),
            datetime.combine(self.end, time(), zone),
        )

    def span(self, f: Formatter) -> str:
        return f.day(self.start) + DASH + f.day(self.end - timedelta(days=1))


def _first_entity(conn: psycopg.Connection, tenant_id: str, entity_id: str | None) -> EntityInfo:
    """The entity, or the tenant's first: its zone dates the report, its name titles it."""
    entities = entities_of(conn, tenant_id, [entity_id] if entity_id else None)
    if not entities:
        raise ReportError(f"tenant {tenant_id!r} has no entity {entity_id or '(none)'}")
    return entities[0]


def monitoring_report(
    conn: psycopg.Connection,
    tenant_id: str,
    entity_id: str | None,
    days: tuple[date, date],
    f: Formatter,
    generated_at: datetime,
) -> Report:
    """Every usage of the tenant (or entity): its transmission now and over the days."""
    entity = _first_entity(conn, tenant_id, entity_id)
    period = Days(*days, entity.timezone)
    usages = usages_of(conn, tenant_id, [entity_id] if entity_id else None)
    ids = [u.id for u in usages]
    start, end = period.bounds()
    components: list[ReportComponent] = [
        TransmissionTable(usages, transmissions(conn, tenant_id, ids)),
        EvolutionTable(
            usages,
            status_evolution(conn, tenant_id, ids, start, end),
            (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds(),
        ),
    ]
    subject = (entity.name or entity.id) if entity_id else (entity.tenant_name or tenant_id)
    meta = meta_lines(f, period.span(f), period.timezone, generated_at)
    return Report("monitoring_report", subject, meta, components)


def diagnostic_report(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    days: tuple[date, date],
    f: Formatter,
    generated_at: datetime,
    raw: bool = False,
) -> Report:
    """One usage's readings over the days: intervals, gaps, values, flagged points, radio;
    as corrected by cleansing and gap filling, or `raw`, as stored."""
    found = usages_of(conn, tenant_id, usage_ids=[usage_id])
    if not found:
        raise ReportError(f"tenant {tenant_id!r} has no usage {usage_id!r}")
    usage = found[0]
    period = Days(*days, usage.timezone)
    start, end = period.bounds()
    current = transmissions(conn, tenant_id, [usage.id]).get(usage.id)
    estimated = current.period_estimated_s if current else None
    top = _INTERVAL_RANGE * max(usage.period_s, estimated or 0.0)
    buckets = time_buckets(conn, tenant_id, usage.id, start, end, raw=raw)
    steps = usage.type == "index"  # a counter's values say little: its steps do
    components: list[ReportComponent] = [
        UsageSummary(usage, current, buckets),
        IntervalHistogram(
            interval_histogram(conn, tenant_id, usage.id, start, end, top, raw=raw),
            usage.period_s,
            estimated,
        ),
        GapsTable(gaps_of(conn, tenant_id, usage.id, start, end), usage.timezone, end),
        ValueHistogram(
            value_histogram(conn, tenant_id, usage.id, start, end, steps=steps, raw=raw),
            usage.unit,
            steps,
        ),
        TimeSeriesPlot(
            buckets,
            marked_points(conn, tenant_id, usage.id, start, end),
            usage.unit,
            usage.timezone,
        ),
        RadioTable(radio_quality(conn, tenant_id, usage.devices)),
    ]
    meta = meta_lines(f, period.span(f), period.timezone, generated_at)
    return Report("diagnostic_report", usage.name or usage.id, meta, components)
