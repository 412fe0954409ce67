"""Data gates: the processed, monthly data of one source; the merger that combines them.

A `DataGate` reads one source (the meters of an entity, some usages, degree days) from
the database rollups and gives `Series`: one figure per local month of the period with
its completeness. A `DataMerger` adds or regroups the series of several gates.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Protocol

import psycopg

from models.energy import Energy, degree_days, energy_of, is_outdoor_temperature, kwh_factor
from models.errors import SmatiError
from reporting.period import Period, next_month
from storage.report_registry import UsageInfo, usages_of
from storage.rollups import daily_extremes, monthly_consumption

__all__ = [
    "COMPLETE",
    "CsvDegreeDays",
    "DataGate",
    "DataMerger",
    "DegreeDaysError",
    "MetersGate",
    "MonthValue",
    "OutdoorDegreeDays",
    "Series",
    "meter_series",
]

COMPLETE = 0.98
"""A month with less than this share of its expected readings is marked incomplete."""


@dataclass(frozen=True)
class MonthValue:
    value: float | None
    """None: no data at all that month."""
    completeness: float
    """Share of the expected readings (or days) present, 0 to 1."""
    estimated: float = 0.0
    """Share of the expected readings that gap filling estimated, 0 to 1."""

    @property
    def incomplete(self) -> bool:
        return self.completeness < COMPLETE


@dataclass(frozen=True)
class Series:
    """One source's figure per month of the period, in `unit`."""

    label: str
    unit: str
    months: dict[date, MonthValue]
    energy: Energy | None = None
    entity_id: str = ""

    def year(self, year: int) -> list[MonthValue]:
        return [value for month, value in self.months.items() if month.year == year]

    def total(self, year: int | None = None) -> float | None:
        """Sum over the period (or one year); None without any data."""
        values = [
            v.value
            for month, v in self.months.items()
            if v.value is not None and (year is None or month.year == year)
        ]
        return sum(values) if values else None

    def complete_year(self, year: int) -> bool:
        """All twelve months of the year are in the period, each with its readings."""
        values = self.year(year)
        return len(values) == 12 and not any(v.value is None or v.incomplete for v in values)

    def scaled(self, factor: float, label: str, unit: str) -> Series:
        months = {
            month: replace(v, value=None if v.value is None else v.value * factor)
            for month, v in self.months.items()
        }
        return replace(self, label=label, unit=unit, months=months)


class DataGate(Protocol):
    def series(self) -> list[Series]:
        """The source's monthly series."""
        ...


def _share(readings: int, expected: float) -> float:
    return min(1.0, readings / expected) if expected > 0 else 0.0


class MetersGate:
    """The monthly consumption of the energy meters of some entities (or usages), in kWh
    (water in m3): index meters by differences, gas by the usage's kWh factor."""

    def __init__(
        self,
        conn: psycopg.Connection,
        tenant_id: str,
        period: Period,
        *,
        entity_ids: Sequence[str] | None = None,
        usage_ids: Sequence[str] | None = None,
        raw: bool = False,
    ) -> None:
        """`raw`: the readings as stored, without cleansing's corrections nor estimates."""
        self._conn, self._tenant, self._period = conn, tenant_id, period
        self._entity_ids, self._usage_ids, self._raw = entity_ids, usage_ids, raw

    def series(self) -> list[Series]:
        usages = usages_of(self._conn, self._tenant, self._entity_ids, self._usage_ids)
        meters = [(u, e) for u in usages if (e := energy_of(u.type, u.tags)) is not None]
        found = monthly_consumption(
            self._conn, self._tenant, [u.id for u, _ in meters], *self._bounds(), raw=self._raw
        )
        by_usage: dict[str, dict[date, MonthValue]] = defaultdict(dict)
        for month in found:
            by_usage[month.usage_id][month.month] = MonthValue(
                month.consumption,
                _share(month.readings, month.expected),
                _share(month.estimated, month.expected),
            )
        return [meter_series(u, e, self._period, by_usage[u.id]) for u, e in meters]

    def _bounds(self) -> tuple[date, date]:
        return self._period.start, self._period.end


def meter_series(
    usage: UsageInfo, energy: Energy, period: Period, found: dict[date, MonthValue]
) -> Series:
    """A meter's months of the period in its report unit, from figures in its own unit."""
    factor = kwh_factor(energy, usage.unit, usage.kwh_per_unit)
    months = {month: _scaled(found.get(month), factor) for month in period.months}
    unit = "kWh" if energy.in_kwh else "m³"
    return Series(usage.name or usage.id, unit, months, energy, usage.entity_id)


def _scaled(value: MonthValue | None, factor: float) -> MonthValue:
    if value is None or value.value is None:
        return MonthValue(None, 0.0)
    return MonthValue(value.value * factor, value.completeness, value.estimated)


class DegreeDaysError(SmatiError, ValueError):
    """A degree-day file that cannot be read."""


def _monthly_degree_days(period: Period, daily: Iterable[tuple[date, float]]) -> Series:
    sums: dict[date, float] = defaultdict(float)
    days: dict[date, int] = defaultdict(int)
    for day, dju in daily:
        month = day.replace(day=1)
        sums[month] += dju
        days[month] += 1
    months = {}
    for month in period.months:
        length = (next_month(month) - month).days
        value: float | None = sums[month] if days[month] else None
        months[month] = MonthValue(value, days[month] / length)
    return Series("DJU", "°C·j", months)


class OutdoorDegreeDays:
    """Degree days from the outdoor temperature usage of an entity, if it has one."""

    def __init__(
        self,
        conn: psycopg.Connection,
        tenant_id: str,
        entity_id: str,
        period: Period,
        raw: bool = False,
    ) -> None:
        self._conn, self._tenant, self._entity, self._period = conn, tenant_id, entity_id, period
        self._raw = raw

    def series(self) -> list[Series]:
        sensors = [
            u
            for u in usages_of(self._conn, self._tenant, [self._entity])
            if is_outdoor_temperature(u.type, u.tags)
        ]
        if not sensors:
            return []
        days = daily_extremes(
            self._conn,
            self._tenant,
            sensors[0].id,
            self._period.start,
            self._period.end,
            raw=self._raw,
        )
        daily = ((d.day, degree_days(d.min_value, d.max_value)) for d in days)
        return [_monthly_degree_days(self._period, daily)]


class CsvDegreeDays:
    """Daily degree days from a CSV file with the columns `date` (YYYY-MM-DD) and `dju`."""

    def __init__(self, path: Path, period: Period) -> None:
        self._path, self._period = path, period

    def series(self) -> list[Series]:
        return [_monthly_degree_days(self._period, self._daily())]

    def _daily(self) -> list[tuple[date, float]]:
        try:
            with self._path.open(newline="", encoding="utf-8") as file:
                rows = [
                    (date.fromisoformat(r["date"]), float(r["dju"])) for r in csv.DictReader(file)
                ]
        except (OSError, KeyError, ValueError) as error:
            raise DegreeDaysError(f"degree days {self._path}: {error}") from error
        return [(day, dju) for day, dju in rows if self._period.start <= day < self._period.end]


class DataMerger:
    """Combines the series of several gates: sums per energy, per entity, or of a choice."""

    def __init__(self, *gates: DataGate) -> None:
        self._series = [series for gate in gates for series in gate.series()]

    def series(self) -> list[Series]:
        return list(self._series)

    def total(
        self, label: str, unit: str, keep: Callable[[Series], bool] = lambda s: True
    ) -> Series | None:
        """The month-by-month sum of the kept series; a month is as complete as its least
        complete part, as estimated as its most estimated. None when nothing is kept."""
        parts = [s for s in self._series if keep(s)]
        if not parts:
            return None
        months = {month: _sum([p.months[month] for p in parts]) for month in parts[0].months}
        energies = {p.energy for p in parts}
        energy = energies.pop() if len(energies) == 1 else None
        return Series(label, unit, months, energy, parts[0].entity_id)

    def energies(self) -> list[Energy]:
        """The energies present, in the order of `Energy`."""
        present = {s.energy for s in self._series}
        return [energy for energy in Energy if energy in present]


def _sum(values: list[MonthValue]) -> MonthValue:
    present = [v.value for v in values if v.value is not None]
    return MonthValue(
        sum(present) if present else None,
        min(v.completeness for v in values),
        max(v.estimated for v in values),
    )
