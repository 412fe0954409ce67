"""Report components: each renders one part of a report from data it is given.

A component names its Jinja2 template (`templates/components/`) and gives the template
its context for a language; `reporting.render.render_component` puts the two together, so
each component can be rendered and checked on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol

from markupsafe import Markup

from models.energy import Energy, climate_corrected, decree_milestones
from reporting import charts
from reporting.gates import MonthValue, Series
from reporting.locale import DASH, MISSING, Formatter
from storage.report_registry import EntityInfo

__all__ = [
    "BarPlot",
    "ClimateCorrection",
    "DecreeSummary",
    "Heading",
    "KpiTable",
    "MonthlyArray",
    "PeriodTotals",
    "PiePlot",
    "ReportComponent",
]

_CALENDAR = [date(2001, m, 1) for m in range(1, 13)]


class ReportComponent(Protocol):
    template: ClassVar[str]

    def context(self, f: Formatter) -> dict[str, Any]:
        """What the component's template shows, in `f`'s language."""
        ...


@dataclass(frozen=True)
class Heading:
    """A section title (an energy, an entity), with an optional note."""

    template: ClassVar[str] = "heading.html"
    key: str
    suffix: str = ""

    def context(self, f: Formatter) -> dict[str, Any]:
        return {"title": f.t(self.key) + (DASH + self.suffix if self.suffix else "")}


def _cell(f: Formatter, value: MonthValue | None, digits: int) -> dict[str, Any]:
    if value is None:
        return {"text": "", "note": "", "incomplete": False}
    notes = [f.percent(value.completeness, 1)] if value.incomplete else []
    if value.estimated > 0:
        notes.append(f.t("estimated_share", share=f.percent(value.estimated, 1)))
    text = f.number(value.value, digits) + (" *" if notes else "")
    return {"text": text, "note": ", ".join(notes), "incomplete": value.incomplete}


@dataclass(frozen=True)
class MonthlyArray:
    """A column per month and the year's total; for each series a row per year and an
    average row.

    Without a title of its own, the table is its one series', titled by its label; with
    one, each series is a group of rows under its name (an energy's meters, then their
    sum), one table whose header repeats on each PDF page. An incomplete month is marked
    with a star and its completeness; so is the total of a year holding one."""

    template: ClassVar[str] = "monthly_array.html"
    series: Sequence[Series]
    title: str = ""
    digits: int = 0

    def context(self, f: Formatter) -> dict[str, Any]:
        named = bool(self.title)
        return {
            "title": self.title or _named(self.series[0]),
            "months": [f.month(month) for month in _CALENDAR],
            "groups": [self._group(f, s, _named(s) if named else "") for s in self.series],
            "incomplete": any(v.incomplete for s in self.series for v in s.months.values()),
            "estimated": any(v.estimated > 0 for s in self.series for v in s.months.values()),
        }

    def _group(self, f: Formatter, series: Series, name: str) -> dict[str, Any]:
        years = sorted({month.year for month in series.months})
        return {
            "name": name,
            "rows": [self._year_row(f, series, year) for year in years],
            "average": self._average_row(f, series, years),
        }

    def _year_row(self, f: Formatter, series: Series, year: int) -> dict[str, Any]:
        by_month = {m.month: v for m, v in series.months.items() if m.year == year}
        values = list(by_month.values())
        total = MonthValue(
            series.total(year), min(v.completeness for v in values) if values else 0.0
        )
        return {
            "label": str(year),
            "cells": [_cell(f, by_month.get(n), self.digits) for n in range(1, 13)],
            "total": _cell(f, total, self.digits),
        }

    def _average_row(self, f: Formatter, series: Series, years: Sequence[int]) -> dict[str, Any]:
        means: list[float | None] = []
        for n in range(1, 13):
            present = [
                v.value for m, v in series.months.items() if m.month == n and v.value is not None
            ]
            means.append(sum(present) / len(present) if present else None)
        known = [mean for mean in means if mean is not None]
        return {
            "label": f.t("average"),
            "cells": [f.number(mean, self.digits) if mean is not None else "" for mean in means],
            "total": f.number(sum(known), self.digits) if known else "",
            "shown": len(years) > 1,
        }


def _named(series: Series) -> str:
    return f"{series.label} ({series.unit})"


@dataclass(frozen=True)
class BarPlot:
    """A series' months side by side year after year; incomplete months hatched."""

    template: ClassVar[str] = "chart.html"
    series: Series
    title_key: str = "year_over_year"

    def context(self, f: Formatter) -> dict[str, Any]:
        years = sorted({month.year for month in self.series.months})
        groups: dict[str, list[float | None]] = {}
        hatched: dict[str, list[bool]] = {}
        for year in years:
            values = [self.series.months.get(date(year, m.month, 1)) for m in _CALENDAR]
            groups[str(year)] = [v.value if v else None for v in values]
            hatched[str(year)] = [bool(v and v.incomplete) for v in values]
        labels = [f.month(month) for month in _CALENDAR]
        svg = charts.bar_chart(labels, groups, hatched, self.series.unit, f.number)
        return {"title": f.t(self.title_key) + DASH + self.series.label, "svg": svg, "empty": ""}


@dataclass(frozen=True)
class PiePlot:
    """Each series' share of the parts' total over the period."""

    template: ClassVar[str] = "chart.html"
    parts: Sequence[Series]
    title_key: str = "meters_share"
    slices: ClassVar[int] = 8
    """The largest parts, the others summed in one slice: more would not read."""

    def _slices(self, f: Formatter) -> dict[str, float]:
        totals = sorted(((s.total() or 0.0, s.label) for s in self.parts), reverse=True)
        shown = [(label, value) for value, label in totals if value > 0]
        if len(shown) > self.slices:
            rest = sum(value for _, value in shown[self.slices - 1 :])
            shown = [*shown[: self.slices - 1], (f.t("others"), rest)]
        return dict(shown)

    def context(self, f: Formatter) -> dict[str, Any]:
        totals = self._slices(f)
        whole = sum(totals.values())
        if not whole:
            return {"title": f.t(self.title_key), "svg": Markup(""), "empty": f.t("no_data")}
        percent = [f.percent(value / whole, 1) for value in totals.values()]
        svg = charts.pie_chart(totals, percent)
        return {"title": f.t(self.title_key), "svg": svg, "empty": ""}


@dataclass(frozen=True)
class PeriodTotals:
    """Each meter's total over the period, and the sums, with their share of their unit."""

    template: ClassVar[str] = "period_totals.html"
    parts: Sequence[Series]
    sums: Sequence[Series]
    counted: Sequence[Energy]
    """The energies shares are of (a gas boiler's heat is not counted twice)."""

    def context(self, f: Formatter) -> dict[str, Any]:
        per_unit: dict[str, float] = defaultdict(float)
        for part in self.parts:
            if part.energy in self.counted or part.energy is Energy.WATER:
                per_unit[part.unit] += part.total() or 0.0

        def row(s: Series, is_sum: bool) -> dict[str, Any]:
            total, whole = s.total(), per_unit.get(s.unit)
            counted = s.energy in self.counted or s.energy is Energy.WATER
            share = total / whole if counted and total is not None and whole else None
            return {
                "label": s.label,
                "unit": s.unit,
                "total": f.number(total),
                "share": f.percent(share, 1),
                "sum": is_sum,
                "incomplete": any(v.incomplete for v in s.months.values()),
            }

        rows = [row(s, False) for s in self.parts] + [row(s, True) for s in self.sums]
        return {"title": f.t("total_period"), "rows": rows}


@dataclass(frozen=True)
class KpiTable:
    """Consumption related to the building, per year: per m2, per occupant, per room."""

    template: ClassVar[str] = "kpi.html"
    entity: EntityInfo
    energy_kwh: Series

    def context(self, f: Formatter) -> dict[str, Any]:
        divisors = [
            ("kwh_per_m2", self.entity.surface_m2),
            ("kwh_per_occupant", self.entity.occupants),
            ("kwh_per_room", self.entity.rooms),
        ]
        known = [(key, float(d)) for key, d in divisors if d]
        years = sorted({month.year for month in self.energy_kwh.months})
        rows = []
        for year in years:
            total = self.energy_kwh.total(year)
            ratios = [f.number(None if total is None else total / d, 1) for _, d in known]
            rows.append({"year": year, "total": f.number(total), "ratios": ratios})
        attributes = [
            (
                f.t("surface"),
                f.number(self.entity.surface_m2) + " m²" if self.entity.surface_m2 else None,
            ),
            (f.t("occupants"), f.number(self.entity.occupants) if self.entity.occupants else None),
            (f.t("rooms"), f.number(self.entity.rooms) if self.entity.rooms else None),
        ]
        return {
            "title": f.t("kpi_yearly"),
            "attributes": [(name, value) for name, value in attributes if value],
            "headers": [f.t(key) for key, _ in known],
            "rows": rows if known else [],
            "missing": f.t("kpi_missing") if not known else "",
        }


def _complete_years(*series: Series | None) -> list[int]:
    """The years whose twelve months every given series holds, all complete."""
    known = [s for s in series if s is not None]
    years = sorted({m.year for s in known for m in s.months})
    return [y for y in years if all(s.complete_year(y) for s in known)]


@dataclass(frozen=True)
class ClimateCorrection:
    """Heating consumption per year, raw and brought to the reference degree days.

    Only a whole year is corrected: the months of a part of a year have a climate of
    their own (a winter alone is all degree days)."""

    template: ClassVar[str] = "climate.html"
    heating: Series | None
    degree_days: Series | None
    dju_reference: float | None = None
    """Defaults to the mean of the period's complete years."""

    def reference(self) -> float | None:
        if self.dju_reference is not None or self.degree_days is None:
            return self.dju_reference
        yearly = [
            self.degree_days.total(y) for y in _complete_years(self.heating, self.degree_days)
        ]
        known = [value for value in yearly if value]
        return sum(known) / len(known) if known else None

    def context(self, f: Formatter) -> dict[str, Any]:
        title = f.t("climate")
        if self.heating is None or self.degree_days is None:
            return {"title": title, "rows": [], "missing": f.t("no_dju"), "partial": ""}
        reference = self.reference()
        complete = _complete_years(self.heating, self.degree_days)
        rows = []
        for year in sorted({m.year for m in self.heating.months}):
            raw, dju = self.heating.total(year), self.degree_days.total(year)
            corrected = (
                climate_corrected(raw, reference, dju)
                if year in complete and raw is not None and dju and reference is not None
                else None
            )
            mark = "" if year in complete else " *"
            rows.append(
                {
                    "year": f"{year}{mark}",
                    "raw": f.number(raw),
                    "dju": f.number(dju),
                    "corrected": f.number(corrected),
                }
            )
        return {
            "title": title,
            "rows": rows,
            "reference": f.number(reference),
            "formula": f.t("climate_formula"),
            "partial": f.t("partial_year") if len(complete) < len(rows) else "",
            "missing": "",
        }


def default_reference_year(by_energy: dict[Energy, Series]) -> int | None:
    """The decree's reference when none is chosen: the period's first complete year."""
    complete = _complete_years(*by_energy.values())
    return complete[0] if complete else None


@dataclass(frozen=True)
class DecreeSummary:
    """Yearly kWh per energy against the reference year and the decree's milestones.

    A year not wholly in the period, or with an incomplete month, is marked: it is no
    measure of where the building stands, which the last complete year tells."""

    template: ClassVar[str] = "decree.html"
    by_energy: dict[Energy, Series]
    reference_year: int | None

    def yearly(self) -> dict[int, dict[Energy, float | None]]:
        years = sorted({m.year for s in self.by_energy.values() for m in s.months})
        return {year: {e: s.total(year) for e, s in self.by_energy.items()} for year in years}

    def context(self, f: Formatter) -> dict[str, Any]:
        yearly = self.yearly()
        complete = _complete_years(*self.by_energy.values())
        totals = {year: sum(v for v in values.values() if v) for year, values in yearly.items()}
        reference = totals.get(self.reference_year) if self.reference_year else None
        rows = [
            {
                "year": f"{year}{'' if year in complete else ' *'}",
                "figures": [f.number(values[e]) for e in self.by_energy],
                "total": f.number(totals[year]),
                "change": f.percent(totals[year] / reference - 1, 1) if reference else MISSING,
                "reference": year == self.reference_year,
            }
            for year, values in yearly.items()
        ]
        return {
            "title": f.t("decree"),
            "energies": [f.t(e.value) for e in self.by_energy],
            "rows": rows,
            "milestones": self._milestones(f, reference),
            "standing": self._standing(f, reference, complete, totals),
            "partial": f.t("partial_year") if len(complete) < len(rows) else "",
        }

    def _milestones(self, f: Formatter, reference: float | None) -> list[dict[str, Any]]:
        return [
            {"year": m.year, "reduction": f.percent(-m.reduction), "target": f.number(m.target_kwh)}
            for m in decree_milestones(reference or 0.0)
            if reference
        ]

    def _standing(
        self, f: Formatter, reference: float | None, complete: list[int], totals: dict[int, float]
    ) -> str:
        if not reference or not complete:
            return f.t("no_reference") if not reference else ""
        last = complete[-1]
        return f.t(
            "decree_standing",
            year=last,
            change=f.percent(totals[last] / reference - 1, 1),
            reference=self.reference_year,
            target=f.number(decree_milestones(reference)[0].target_kwh) + " kWh",
        )
