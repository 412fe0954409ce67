"""Components of the data-quality reports: transmission monitoring and usage diagnostic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup

from reporting import charts
from reporting.locale import DASH, Formatter
from storage.report_quality import (
    Bucket,
    Evolution,
    Gap,
    Histogram,
    MarkedPoint,
    RadioQuality,
    Transmission,
)
from storage.report_registry import UsageInfo

__all__ = [
    "EvolutionTable",
    "GapsTable",
    "IntervalHistogram",
    "RadioTable",
    "TimeSeriesPlot",
    "TransmissionTable",
    "UsageSummary",
    "ValueHistogram",
]

STATUSES = ("green", "orange", "red", "violet")


def _usage_label(usage: UsageInfo) -> str:
    return usage.name or usage.id


@dataclass(frozen=True)
class TransmissionTable:
    """Each usage with its entity, equipment and device, last transmission, periods and
    current status colour."""

    template: ClassVar[str] = "transmission.html"
    usages: Sequence[UsageInfo]
    current: dict[str, Transmission]

    def context(self, f: Formatter) -> dict[str, Any]:
        rows = []
        for usage in self.usages:
            now = self.current.get(usage.id)
            rows.append(
                {
                    "entity": usage.entity_name or usage.entity_id,
                    "equipment": usage.equipment_name,
                    "usage": _usage_label(usage),
                    "device": ", ".join(usage.devices),
                    "last": f.time(now.last_reading_at if now else None, usage.timezone),
                    "registered": f.duration(usage.period_s),
                    "estimated": f.duration(now.period_estimated_s if now else None),
                    "status": now.status if now else "violet",
                    "status_text": f.t(now.status if now else "violet"),
                }
            )
        return {"title": f.t("usages"), "rows": rows, "legend": f.t("status_legend")}


@dataclass(frozen=True)
class EvolutionTable:
    """Share of the period in each status, the status at its start and end, its gaps."""

    template: ClassVar[str] = "evolution.html"
    usages: Sequence[UsageInfo]
    evolutions: dict[str, Evolution]
    seconds: float

    def context(self, f: Formatter) -> dict[str, Any]:
        rows = []
        for usage in self.usages:
            e = self.evolutions.get(usage.id, Evolution(usage.id))
            rows.append(
                {
                    "usage": _usage_label(usage),
                    "shares": [
                        f.percent(e.seconds.get(s, 0.0) / self.seconds, 1) for s in STATUSES
                    ],
                    "start": e.status_start,
                    "end": e.status_end,
                    "start_text": f.t(e.status_start),
                    "end_text": f.t(e.status_end),
                    "gaps": f.number(e.gaps),
                    "gap_time": f.duration(e.gap_seconds) if e.gaps else "",
                }
            )
        return {
            "title": f.t("evolution"),
            "statuses": [f.t(s) for s in STATUSES],
            "rows": rows,
        }


@dataclass(frozen=True)
class UsageSummary:
    """Who the usage is and what its readings were over the period."""

    template: ClassVar[str] = "summary.html"
    usage: UsageInfo
    current: Transmission | None
    buckets: Sequence[Bucket]

    def context(self, f: Formatter) -> dict[str, Any]:
        readings = sum(b.readings for b in self.buckets)
        mean = sum(b.mean * b.readings for b in self.buckets) / readings if readings else None
        estimated = self.current.period_estimated_s if self.current else None
        unit = f" {self.usage.unit}"
        lines = [
            (f.t("entity"), self.usage.entity_name or self.usage.entity_id),
            (f.t("equipment"), self.usage.equipment_name),
            (f.t("device"), ", ".join(self.usage.devices) or DASH.strip()),
            (f.t("period_registered"), f.duration(self.usage.period_s)),
            (f.t("period_estimated"), f.duration(estimated)),
            (f.t("readings"), f.number(readings)),
            (f.t("minimum"), f.number(min((b.low for b in self.buckets), default=None), 2) + unit),
            (f.t("mean"), f.number(mean, 2) + unit),
            (f.t("maximum"), f.number(max((b.high for b in self.buckets), default=None), 2) + unit),
        ]
        return {"title": f"{self.usage.id} ({self.usage.type})", "lines": lines}


@dataclass(frozen=True)
class IntervalHistogram:
    """The intervals between readings, with the registered and estimated periods."""

    template: ClassVar[str] = "chart.html"
    histogram: Histogram
    registered_s: float
    estimated_s: float | None

    def context(self, f: Formatter) -> dict[str, Any]:
        minutes = [edge / 60 for edge in self.histogram.edges]
        markers = {f.t("period_registered"): self.registered_s / 60}
        if self.estimated_s:
            markers[f.t("period_estimated")] = self.estimated_s / 60
        svg = charts.histogram(
            minutes, self.histogram.counts, f.t("interval_s"), f.t("count"), markers
        )
        empty = "" if sum(self.histogram.counts) + self.histogram.beyond else f.t("no_data")
        beyond = (
            f.t(
                "beyond",
                count=f.number(self.histogram.beyond),
                limit=f.duration(self.histogram.edges[-1]),
            )
            if self.histogram.beyond
            else ""
        )
        return {"title": f.t("intervals"), "svg": svg, "empty": empty, "note": beyond}


@dataclass(frozen=True)
class ValueHistogram:
    """How the values spread; an index meter's steps between readings."""

    template: ClassVar[str] = "chart.html"
    histogram: Histogram | None
    unit: str
    steps: bool = False

    def context(self, f: Formatter) -> dict[str, Any]:
        title = f.t("steps" if self.steps else "values")
        if self.histogram is None:
            return {"title": title, "svg": Markup(""), "empty": f.t("no_data")}
        xlabel = f"{f.t('step' if self.steps else 'value')} ({self.unit})"
        svg = charts.histogram(self.histogram.edges, self.histogram.counts, xlabel, f.t("count"))
        return {"title": title, "svg": svg, "empty": ""}


@dataclass(frozen=True)
class TimeSeriesPlot:
    """The readings over time (mean within low-high per bucket), flagged points marked."""

    template: ClassVar[str] = "chart.html"
    buckets: Sequence[Bucket]
    marked: Sequence[MarkedPoint]
    unit: str
    timezone: str

    def context(self, f: Formatter) -> dict[str, Any]:
        title = f"{f.t('time_series')} ({self.timezone})"
        if not self.buckets:
            return {"title": title, "svg": Markup(""), "empty": f.t("no_data")}
        marks: dict[str, tuple[list[datetime], list[float]]] = {}
        for point in self.marked:
            if point.value is None:
                continue
            kind = "threshold" if point.kind.startswith("threshold") else point.kind
            xs, ys = marks.setdefault(f.t(kind), ([], []))
            xs.append(self._local(point.ts))
            ys.append(point.value)
        svg = charts.time_series(
            [self._local(b.start) for b in self.buckets],
            [b.mean for b in self.buckets],
            [b.low for b in self.buckets],
            [b.high for b in self.buckets],
            marks,
            self.unit,
        )
        return {"title": title, "svg": svg, "empty": ""}

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)


@dataclass(frozen=True)
class GapsTable:
    template: ClassVar[str] = "gaps.html"
    gaps: Sequence[Gap]
    timezone: str
    now: datetime

    def context(self, f: Formatter) -> dict[str, Any]:
        rows = [
            {
                "start": f.time(g.start_ts, self.timezone),
                "end": f.time(g.end_ts, self.timezone) if g.end_ts else f.t("open"),
                "duration": f.duration(((g.end_ts or self.now) - g.start_ts).total_seconds()),
            }
            for g in self.gaps
        ]
        return {"title": f"{f.t('gaps')} ({self.timezone})", "rows": rows, "empty": f.t("no_gap")}


@dataclass(frozen=True)
class RadioTable:
    template: ClassVar[str] = "radio.html"
    radio: Sequence[RadioQuality]

    def context(self, f: Formatter) -> dict[str, Any]:
        rows = [
            {
                "device": r.device_id,
                "frames": f.number(r.frames),
                "loss": f.percent(r.loss_rate, 1),
                "rssi": f.number(r.avg_rssi, 1),
                "snr": f.number(r.avg_snr, 1),
                "gateways": f.number(r.avg_gateways, 1),
            }
            for r in self.radio
        ]
        return {"title": f.t("radio"), "rows": rows, "empty": f.t("no_radio")}
