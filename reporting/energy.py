"""The energy report of one or several entities over whole local months."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import psycopg

from models.energy import Energy, delivered, heating
from reporting.components import (
    BarPlot,
    ClimateCorrection,
    DecreeSummary,
    Heading,
    KpiTable,
    MonthlyArray,
    PeriodTotals,
    PiePlot,
    ReportComponent,
    default_reference_year,
)
from reporting.errors import ReportError
from reporting.gates import (
    CsvDegreeDays,
    DataGate,
    DataMerger,
    MetersGate,
    OutdoorDegreeDays,
    Series,
)
from reporting.locale import DASH, Formatter
from reporting.period import Period
from reporting.render import Report, meta_lines
from storage.report_registry import EntityInfo, entities_of
from storage.rollups import refresh_rollups

__all__ = ["EnergyRequest", "MetersSource", "decree_rows", "energy_report", "find_entities"]


@dataclass(frozen=True)
class EnergyRequest:
    tenant_id: str
    entity_ids: Sequence[str]
    period: Period
    reference_year: int | None = None
    """The decree's reference year; the period's first complete year by default."""
    dju_csv: Path | None = None
    """Daily degree days (`date,dju`), instead of the entity's outdoor temperature."""
    dju_reference: float | None = None
    """Degree days of the reference climate; the mean of the period's years by default."""
    raw: bool = False
    """The readings as stored, without cleansing's corrections nor gap filling's estimates."""


def find_entities(conn: psycopg.Connection, tenant_id: str, ids: Sequence[str]) -> list[EntityInfo]:
    """The tenant's entities of `ids`; an id the tenant does not have is an error."""
    found = entities_of(conn, tenant_id, ids)
    missing = sorted(set(ids) - {e.id for e in found})
    if missing or not found:
        raise ReportError(
            f"tenant {tenant_id!r} has no entity {', '.join(missing) or '(none given)'}"
        )
    return found


class _EntityData:
    """One entity's meter series, for its KPIs, climate correction and decree summary."""

    def __init__(self, entity: EntityInfo, merger: DataMerger) -> None:
        self.entity = entity
        self.meters = [s for s in merger.series() if s.entity_id == entity.id]
        self._merger = merger

    def energies(self) -> list[Energy]:
        return [e for e in Energy if any(s.energy is e for s in self.meters)]

    def total(self, energies: Sequence[Energy]) -> Series | None:
        return self._merger.total(
            self.entity.name or self.entity.id,
            "kWh",
            lambda s: s.entity_id == self.entity.id and s.energy in energies,
        )


MetersSource = Callable[[EntityInfo], DataGate]
"""The gate of an entity's meters: the rollups' `MetersGate` (a benchmark brings its own)."""


def energy_report(
    conn: psycopg.Connection,
    request: EnergyRequest,
    f: Formatter,
    generated_at: datetime,
    meters: MetersSource | None = None,
) -> tuple[Report, dict[str, DecreeSummary]]:
    """The report, and each entity's decree summary (for the CSV export)."""
    entities = find_entities(conn, request.tenant_id, request.entity_ids)
    if meters is None:
        refresh_rollups(conn)
        meters = partial(_rollup_meters, conn, request)
    merger = DataMerger(*map(meters, entities))
    components: list[ReportComponent] = []
    components += _per_energy(merger, f)
    components += _totals(merger, f)
    decrees: dict[str, DecreeSummary] = {}
    for entity in entities:
        data = _EntityData(entity, merger)
        components += _kpis(data, f)
        components.append(_climate(conn, request, data))
        decree = _decree(request, data)
        decrees[entity.id] = decree
        components.append(decree)
    subject = ", ".join(e.name or e.id for e in entities)
    months = request.period.months
    span = f.month(months[0], "MMMM y") + DASH + f.month(months[-1], "MMMM y")
    meta = meta_lines(f, span, entities[0].timezone, generated_at)
    return Report("energy_report", subject, meta, components), decrees


def _rollup_meters(
    conn: psycopg.Connection, request: EnergyRequest, entity: EntityInfo
) -> DataGate:
    return MetersGate(
        conn, request.tenant_id, request.period, entity_ids=[entity.id], raw=request.raw
    )


def _energy_sum(merger: DataMerger, energy: Energy, label: str) -> Series | None:
    """The sum of the energy's meters, when it has more than one."""
    meters = [s for s in merger.series() if s.energy is energy]
    if len(meters) < 2:
        return None
    return merger.total(label, meters[0].unit, lambda s: s.energy is energy)


def _per_energy(merger: DataMerger, f: Formatter) -> list[ReportComponent]:
    parts: list[ReportComponent] = []
    for energy in merger.energies():
        meters = [s for s in merger.series() if s.energy is energy]
        total = _energy_sum(merger, energy, f.t("sum_of_meters"))
        groups = meters if total is None else [*meters, total]
        parts.append(Heading(energy.value))
        parts.append(MonthlyArray(groups, f.t("monthly_consumption")))
        if total is not None:
            parts.append(PiePlot(meters))
        parts.append(BarPlot(total or meters[0]))
    return parts or [Heading("no_meter")]


def _totals(merger: DataMerger, f: Formatter) -> list[ReportComponent]:
    meters = merger.series()
    if not meters:
        return []
    sums = [
        total
        for energy in merger.energies()
        if (total := _energy_sum(merger, energy, f"{f.t('total')} {f.t(energy.value)}"))
    ]
    counted = delivered(merger.energies())
    kwh = [s for s in meters if s.energy in counted]
    parts: list[ReportComponent] = [PeriodTotals(meters, sums, counted)]
    if len(kwh) > 1:
        parts.append(PiePlot(kwh))
    return parts


def _kpis(data: _EntityData, f: Formatter) -> list[ReportComponent]:
    total = data.total(delivered(data.energies()))
    if total is None:
        return []
    entity = data.entity
    parts: list[ReportComponent] = [Heading("kpis", entity.name), KpiTable(entity, total)]
    for key, unit, divisor in (
        ("monthly_per_m2", "kWh/m²", entity.surface_m2),
        ("monthly_per_occupant", "kWh/occupant", entity.occupants),
    ):
        if divisor:
            parts.append(MonthlyArray([total.scaled(1 / divisor, f.t(key), unit)], digits=1))
    return parts


def _climate(
    conn: psycopg.Connection, request: EnergyRequest, data: _EntityData
) -> ClimateCorrection:
    energy = heating(data.energies())
    heat = data.total([energy]) if energy else None
    source: DataGate = (
        CsvDegreeDays(request.dju_csv, request.period)
        if request.dju_csv
        else OutdoorDegreeDays(conn, request.tenant_id, data.entity.id, request.period, request.raw)
    )
    dju = next(iter(source.series()), None)
    return ClimateCorrection(heat, dju, request.dju_reference)


def _decree(request: EnergyRequest, data: _EntityData) -> DecreeSummary:
    by_energy = {}
    for energy in delivered(data.energies()):
        series = data.total([energy])
        if series is not None:
            by_energy[energy] = series
    reference = request.reference_year or default_reference_year(by_energy)
    return DecreeSummary(by_energy, reference)


def decree_rows(
    entities: Sequence[EntityInfo], decrees: dict[str, DecreeSummary]
) -> list[tuple[str, str, str, int, float | None]]:
    """(entity, name, energy, year, kWh to 0.1) per building, energy and year, for the CSV."""
    return [
        (e.id, e.name, energy.value, year, None if kwh is None else round(kwh, 1))
        for e in entities
        for year, values in decrees[e.id].yearly().items()
        for energy, kwh in values.items()
    ]
