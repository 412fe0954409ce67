"""The reports' pure parts: energy rules, periods, locale formats, a monthly array."""

from __future__ import annotations

import re
from datetime import date

import pytest

from models.energy import (
    Energy,
    EnergyUnitError,
    climate_corrected,
    decree_milestones,
    degree_days,
    delivered,
    energy_of,
    heating,
    is_outdoor_temperature,
    kwh_factor,
)
from reporting.components import (
    BarPlot,
    ClimateCorrection,
    DecreeSummary,
    KpiTable,
    MonthlyArray,
    PeriodTotals,
    PiePlot,
    ReportComponent,
)
from reporting.gates import MonthValue, Series
from reporting.locale import Formatter, LanguageError
from reporting.period import Period, PeriodError
from reporting.render import render_component
from storage.report_registry import EntityInfo


def test_energy_of_a_meter_from_its_haystack_tags() -> None:
    assert energy_of("index", ["elec", "meter"]) is Energy.ELECTRICITY
    assert energy_of("index", ["naturalGas", "meter"]) is Energy.GAS
    assert energy_of("consumption", ["heating", "energy"]) is Energy.HEAT
    assert energy_of("index", ["water"]) is Energy.WATER
    assert energy_of("instant", ["elec", "power"]) is None
    assert energy_of("index", ["meter"]) is None
    assert is_outdoor_temperature("instant", ["outside", "air", "temp"])
    assert not is_outdoor_temperature("instant", ["air", "temp", "zone"])


def test_kwh_factor_from_the_registry_or_the_unit() -> None:
    assert kwh_factor(Energy.GAS, "m3", 10.5) == 10.5
    assert kwh_factor(Energy.ELECTRICITY, "Wh", None) == pytest.approx(0.001)
    assert kwh_factor(Energy.ELECTRICITY, "MWh", None) == 1000
    assert kwh_factor(Energy.WATER, "L", None) == pytest.approx(0.001)
    with pytest.raises(EnergyUnitError, match="kwh_per_unit"):
        kwh_factor(Energy.GAS, "m3", None)


def test_unified_degree_days_and_climate_correction() -> None:
    assert degree_days(4, 10) == 11  # mean 7 C, base 18
    assert degree_days(15, 25) == 0  # a warm day counts nothing, not less
    assert climate_corrected(1000, 2400, 2000) == 1200  # a mild year is brought up
    assert climate_corrected(1000, 2400, 0) is None


def test_tertiary_decree_milestones_from_the_reference() -> None:
    milestones = decree_milestones(10_000)
    assert [m.year for m in milestones] == [2030, 2040, 2050]
    assert [m.target_kwh for m in milestones] == pytest.approx([6000, 5000, 4000])


def test_delivered_energies_count_a_gas_boilers_heat_once() -> None:
    assert delivered([Energy.ELECTRICITY, Energy.GAS, Energy.HEAT, Energy.WATER]) == [
        Energy.ELECTRICITY,
        Energy.GAS,
    ]
    assert delivered([Energy.HEAT, Energy.ELECTRICITY]) == [Energy.ELECTRICITY, Energy.HEAT]
    assert heating([Energy.ELECTRICITY, Energy.HEAT, Energy.GAS]) is Energy.GAS
    assert heating([Energy.ELECTRICITY]) is None


def test_period_of_whole_months() -> None:
    period = Period.of_months("2025-11", "2026-02")
    assert (period.start, period.end) == (date(2025, 11, 1), date(2026, 3, 1))
    assert len(period.months) == 4
    assert period.years == [2025, 2026]
    assert Period.months_before(date(2026, 3, 15), 3) == Period(date(2025, 12, 1), date(2026, 3, 1))
    with pytest.raises(PeriodError, match="before it starts"):
        Period.of_months("2026-02", "2025-11")
    with pytest.raises(PeriodError, match="YYYY-MM"):
        Period.of_months("2026-13", "2026-12")


def test_numbers_months_and_percentages_per_language() -> None:
    fr, en = Formatter("fr"), Formatter("en")
    assert fr.number(1234567.4) == "1\u202f234\u202f567"
    assert en.number(1234567.4) == "1,234,567"
    assert fr.number(12.25, 1) == "12,2"  # half to even, as Babel rounds
    assert fr.percent(0.925, 1) == "92,5\u00a0%"
    assert en.percent(0.925, 1) == "92.5%"
    assert fr.month(date(2026, 2, 1)) == "févr."
    assert en.month(date(2026, 2, 1), "MMMM y") == "February 2026"
    with pytest.raises(LanguageError):
        Formatter("de")


def _series() -> Series:
    """Two years: 2025 Nov-Dec and 2026 Jan-Feb, Jan 2026 incomplete, Feb 2026 without data."""
    months = {
        date(2025, 11, 1): MonthValue(100.0, 1.0),
        date(2025, 12, 1): MonthValue(200.0, 1.0),
        date(2026, 1, 1): MonthValue(50.0, 0.5),
        date(2026, 2, 1): MonthValue(None, 0.0),
    }
    return Series("Meter", "kWh", months, Energy.ELECTRICITY)


def test_monthly_array_rows_per_year_totals_and_average() -> None:
    context = MonthlyArray([_series()]).context(Formatter("en"))
    assert context["title"] == "Meter (kWh)"
    (group,) = context["groups"]
    assert group["name"] == ""  # the table's title names its one series
    rows = {row["label"]: row for row in group["rows"]}
    assert [c["text"] for c in rows["2025"]["cells"]] == [""] * 10 + ["100", "200"]
    assert rows["2025"]["total"]["text"] == "300"
    jan, feb = rows["2026"]["cells"][:2]
    assert (jan["text"], jan["note"], jan["incomplete"]) == ("50 *", "50%", True)
    assert (feb["text"], feb["note"]) == ("\u2013 *", "0%")
    assert rows["2026"]["total"]["text"] == "50 *"  # never silently low
    average = group["average"]
    assert average["cells"][0] == "50" and average["cells"][10:] == ["100", "200"]
    assert average["total"] == "350"
    assert context["incomplete"]
    assert context["months"][0] == "Jan"


def test_monthly_array_groups_series_under_their_names_the_sum_last() -> None:
    """An energy's table: each meter, then their sum, a group of year rows and an average
    row under its name. Other: 10 a month; the sum: 110, 210, then 60 and 10, incomplete."""
    meter = _series()
    other = Series("Other", "kWh", {m: MonthValue(10.0, 1.0) for m in meter.months})
    total = Series(
        "Sum of the meters",
        "kWh",
        {
            date(2025, 11, 1): MonthValue(110.0, 1.0),
            date(2025, 12, 1): MonthValue(210.0, 1.0),
            date(2026, 1, 1): MonthValue(60.0, 0.5),
            date(2026, 2, 1): MonthValue(10.0, 0.0),
        },
    )
    en = Formatter("en")
    context = MonthlyArray([meter, other, total], "Monthly consumption").context(en)
    assert context["title"] == "Monthly consumption"
    groups = {group["name"]: group for group in context["groups"]}
    assert list(groups) == ["Meter (kWh)", "Other (kWh)", "Sum of the meters (kWh)"]
    figures = {
        name: [[c["text"] for c in row["cells"]] + [row["total"]["text"]] for row in g["rows"]]
        for name, g in groups.items()
    }
    assert figures["Other (kWh)"] == [
        [""] * 10 + ["10", "10", "20"],
        ["10", "10"] + [""] * 10 + ["20"],
    ]
    assert figures["Sum of the meters (kWh)"] == [
        [""] * 10 + ["110", "210", "320"],
        ["60 *", "10 *"] + [""] * 10 + ["70 *"],
    ]
    averages = {name: (g["average"]["cells"], g["average"]["total"]) for name, g in groups.items()}
    assert averages["Meter (kWh)"] == (["50", ""] + [""] * 8 + ["100", "200"], "350")
    assert averages["Sum of the meters (kWh)"] == (["60", "10"] + [""] * 8 + ["110", "210"], "390")
    html = render_component(MonthlyArray([meter, other, total], "Monthly consumption"), en)
    assert (html.count("<table"), html.count("<thead>"), html.count("<tbody>")) == (1, 1, 3)
    assert re.findall(r'colspan="14" scope="rowgroup">([^<]*)<', html) == list(groups)


def test_every_component_renders_without_data() -> None:
    """A building without meters, degree days or KPI attributes still gets its page."""
    empty = Series("Meter", "kWh", {date(2026, 1, 1): MonthValue(None, 0.0)}, Energy.GAS)
    entity = EntityInfo("e", "Empty", "", "Europe/Paris", None, None, None, "t", "T")
    components: list[ReportComponent] = [
        ClimateCorrection(None, None),
        DecreeSummary({}, None),
        KpiTable(entity, empty),
        PiePlot([empty]),
        BarPlot(empty),
        MonthlyArray([empty]),
        PeriodTotals([empty], [], [Energy.GAS]),
    ]
    pages = [render_component(c, Formatter("en")) for c in components]
    assert "No degree days" in pages[0]
    assert "No floor area" in pages[2]
    assert "No data" in pages[3]
