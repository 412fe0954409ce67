"""The energy report's figures on the hand-computed fixture (tests/report_fixture.py).

Period February to April 2026. Hand-computed, in kWh:
- electricity 1,110 / 1,235 / 1,200 (April 111 of 120 readings: 92.5 %), 3,545 in all;
- gas 222 / 248 / 240 m3 x 10.5 = 2,331 / 2,604 / 2,520, 7,455 in all;
- heating 336 / 372 / 357, 1,065 in all (a boiler's output: not counted again in KPIs);
- delivered energy (electricity + gas) 3,441 / 3,839 / 3,720, 11,000 in all: 11.0 kWh/m2
  (1,000 m2), 550.0 per occupant (20), 275.0 per room (40);
- degree days 28 + 31 + 30 days x 11 = 979.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import report_fixture as fx
from pypdf import PdfReader

from models.energy import Energy
from reporting.components import (
    ClimateCorrection,
    DecreeSummary,
    Heading,
    KpiTable,
    MonthlyArray,
    PeriodTotals,
    ReportComponent,
    default_reference_year,
)
from reporting.energy import EnergyRequest, decree_rows, energy_report, find_entities
from reporting.errors import ReportError
from reporting.gates import (
    CsvDegreeDays,
    DataMerger,
    MetersGate,
    MonthValue,
    OutdoorDegreeDays,
    Series,
)
from reporting.locale import Formatter
from reporting.period import Period
from reporting.render import Report, render_component, render_html, render_pdf
from services.postgres import PostgresServer
from storage.rollups import refresh_rollups

pytestmark = pytest.mark.integration

PERIOD = Period.of_months("2026-02", "2026-04")
FEB, MAR, APR = PERIOD.months
EN = Formatter("en")
NOW = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def conn(postgres: PostgresServer) -> Iterator[psycopg.Connection]:
    with fx.loaded_database(postgres.url) as url, psycopg.connect(url) as connection:
        refresh_rollups(connection)
        connection.commit()
        yield connection


def _merger(conn: psycopg.Connection, tenant: str = fx.TENANT) -> DataMerger:
    return DataMerger(MetersGate(conn, tenant, PERIOD, entity_ids=["hotel"]))


def _texts(context: dict[str, Any], year: str = "2026") -> list[str]:
    """A one-series table's February to April and total of `year`."""
    (group,) = context["groups"]
    row = next(r for r in group["rows"] if r["label"] == year)
    return [c["text"] for c in row["cells"][1:4]] + [row["total"]["text"]]


def test_meters_gate_gives_each_meter_in_kwh_with_completeness(conn: psycopg.Connection) -> None:
    series = {s.label: s for s in _merger(conn).series()}
    assert set(series) == {"Electricity", "Gas", "Heating"}  # the outdoor sensor is no meter
    elec, gas = series["Electricity"], series["Gas"]
    assert [elec.months[m].value for m in PERIOD.months] == [1110, 1235, 1200]
    assert [elec.months[m].completeness for m in PERIOD.months] == [1.0, 1.0, 111 / 120]
    assert [gas.months[m].value for m in PERIOD.months] == pytest.approx([2331, 2604, 2520])
    assert (elec.unit, gas.unit, gas.energy) == ("kWh", "kWh", Energy.GAS)


def test_monthly_arrays_of_each_meter_mark_the_incomplete_month(conn: psycopg.Connection) -> None:
    series = {s.label: s for s in _merger(conn).series()}
    elec = MonthlyArray([series["Electricity"]]).context(EN)
    assert _texts(elec) == ["1,110", "1,235", "1,200 *", "3,545 *"]
    assert elec["groups"][0]["rows"][0]["cells"][3]["note"] == "92.5%"
    assert _texts(MonthlyArray([series["Gas"]]).context(EN)) == ["2,331", "2,604", "2,520", "7,455"]
    assert _texts(MonthlyArray([series["Heating"]]).context(EN)) == ["336", "372", "357", "1,065"]


def test_sum_of_meters_is_as_complete_as_its_least_complete_part(
    conn: psycopg.Connection,
) -> None:
    merger = _merger(conn)
    total = merger.total("All", "kWh", lambda s: s.energy in (Energy.ELECTRICITY, Energy.GAS))
    assert total is not None
    assert [total.months[m].value for m in PERIOD.months] == pytest.approx([3441, 3839, 3720])
    assert total.months[APR].completeness == 111 / 120
    assert total.total() == pytest.approx(11_000)


def test_kpis_per_m2_occupant_and_room(conn: psycopg.Connection) -> None:
    entity = find_entities(conn, fx.TENANT, ["hotel"])[0]
    merger = _merger(conn)
    delivered = merger.total("All", "kWh", lambda s: s.energy in (Energy.ELECTRICITY, Energy.GAS))
    assert delivered is not None
    kpi = KpiTable(entity, delivered).context(EN)
    assert kpi["headers"] == ["kWh per m²", "kWh per occupant", "kWh per room"]
    assert kpi["rows"] == [{"year": 2026, "total": "11,000", "ratios": ["11.0", "550.0", "275.0"]}]
    per_m2 = MonthlyArray([delivered.scaled(1 / 1000, "kWh per m²", "kWh")], digits=1).context(EN)
    assert _texts(per_m2) == ["3.4", "3.8", "3.7 *", "11.0 *"]


def test_degree_days_from_the_outdoor_sensor_or_a_csv(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    outdoor = OutdoorDegreeDays(conn, fx.TENANT, "hotel", PERIOD).series()[0]
    assert [outdoor.months[m].value for m in PERIOD.months] == [308, 341, 330]  # 11 a day
    assert [outdoor.months[m].completeness for m in PERIOD.months] == [1.0, 1.0, 1.0]
    csv_file = tmp_path / "dju.csv"
    days = [date(2026, 2, 1).toordinal() + n for n in range(89)]
    csv_file.write_text(
        "date,dju\n" + "".join(f"{date.fromordinal(d)},10\n" for d in days), encoding="utf-8"
    )
    from_csv = CsvDegreeDays(csv_file, PERIOD).series()[0]
    assert [from_csv.months[m].value for m in PERIOD.months] == [280, 310, 300]


def test_only_a_whole_year_is_climate_corrected(conn: psycopg.Connection) -> None:
    """Three months are no year: shown raw, marked, not corrected."""
    gas = _merger(conn).total("Gas", "kWh", lambda s: s.energy is Energy.GAS)
    outdoor = OutdoorDegreeDays(conn, fx.TENANT, "hotel", PERIOD).series()[0]
    context = ClimateCorrection(gas, outdoor, dju_reference=2000).context(EN)
    assert context["rows"] == [
        {"year": "2026 *", "raw": "7,455", "dju": "979", "corrected": "\u2013"}
    ]
    assert context["partial"].startswith("* incomplete year")


def _year(year: int, monthly: float) -> dict[date, MonthValue]:
    return {date(year, m, 1): MonthValue(monthly, 1.0) for m in range(1, 13)}


def test_climate_correction_of_whole_years() -> None:
    """2024: 12,000 kWh over 2,400 degree days; 2025: 9,000 over 1,800 (a mild year).
    Reference: their mean, 2,100. Corrected: 12,000 x 2,100 / 2,400 = 10,500, and
    9,000 x 2,100 / 1,800 = 10,500: the same building in the same climate."""
    heating = Series("Gas", "kWh", _year(2024, 1000) | _year(2025, 750), Energy.GAS)
    dju = Series("DJU", "", _year(2024, 200) | _year(2025, 150))
    context = ClimateCorrection(heating, dju).context(EN)
    assert context["reference"] == "2,100"
    assert context["rows"] == [
        {"year": "2024", "raw": "12,000", "dju": "2,400", "corrected": "10,500"},
        {"year": "2025", "raw": "9,000", "dju": "1,800", "corrected": "10,500"},
    ]
    assert context["partial"] == ""


def test_decree_summary_and_its_csv_rows(conn: psycopg.Connection) -> None:
    request = EnergyRequest(fx.TENANT, ["hotel"], PERIOD, reference_year=2026)
    _, decrees = energy_report(conn, request, EN, NOW)
    decree = decrees["hotel"]
    context = decree.context(EN)
    assert context["energies"] == ["Electricity", "Gas"]
    assert context["rows"] == [
        {
            "year": "2026 *",
            "figures": ["3,545", "7,455"],
            "total": "11,000",
            "change": "0%",
            "reference": True,
        }
    ]
    assert [(m["year"], m["target"]) for m in context["milestones"]] == [
        (2030, "6,600"),
        (2040, "5,500"),
        (2050, "4,400"),
    ]
    assert context["standing"] == ""  # no complete year to stand on
    entities = find_entities(conn, fx.TENANT, ["hotel"])
    assert decree_rows(entities, decrees) == [
        ("hotel", "Hotel Test", "electricity", 2026, 3545.0),
        ("hotel", "Hotel Test", "gas", 2026, 7455.0),
    ]


def test_decree_reference_is_the_first_complete_year_by_default(conn: psycopg.Connection) -> None:
    _, decrees = energy_report(conn, EnergyRequest(fx.TENANT, ["hotel"], PERIOD), EN, NOW)
    context = decrees["hotel"].context(EN)
    assert decrees["hotel"].reference_year is None
    assert context["milestones"] == []
    assert (
        context["standing"]
        == "No complete reference year in the period: choose one (--reference-year)."
    )


def test_decree_change_against_an_earlier_reference_year() -> None:
    """A building that used 10,000 kWh in 2020 and 7,000 in 2025: -30 %; 2026 is partial."""
    months = (
        _year(2020, 10_000 / 12)
        | _year(2025, 7_000 / 12)
        | {date(2026, 1, 1): MonthValue(500, 1.0)}
    )
    by_energy = {Energy.ELECTRICITY: Series("e", "kWh", months)}
    assert default_reference_year(by_energy) == 2020
    context = DecreeSummary(by_energy, 2020).context(EN)
    assert [(row["year"], row["change"]) for row in context["rows"]] == [
        ("2020", "0%"),
        ("2025", "-30%"),
        ("2026 *", "-95%"),
    ]
    assert context["standing"] == (
        "In 2025 the site is -30% from its 2020 reference; 2030 target: 6,000 kWh."
    )


def test_the_whole_report_is_one_self_contained_page(conn: psycopg.Connection) -> None:
    report, _ = energy_report(
        conn, EnergyRequest(fx.TENANT, ["hotel"], PERIOD), Formatter("fr"), NOW
    )
    html = render_html(report, Formatter("fr"))
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 4  # a bar chart per energy, the delivered meters' pie
    assert "<link" not in html and "src=" not in html
    for text in (
        "Rapport énergétique",
        "Hotel Test",
        "février 2026 \u2013 avril 2026",
        "Europe/Paris",
    ):
        assert text in html
    assert "02/05/2026 10:00" in html  # generated at 08:00 UTC, shown in Paris time


def test_the_pdf_draws_its_charts_without_a_warning(
    conn: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    report, _ = energy_report(conn, EnergyRequest(fx.TENANT, ["hotel"], PERIOD), EN, NOW)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(render_html(report, EN))
    # An inline SVG had WeasyPrint's page CSS warn about each SVG attribute and id.
    assert [r.getMessage() for r in caplog.records] == []
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Gas (67.8%)" in text and "Electricity (32.2%)" in text  # the pie's legend


def test_energy_tables_repeat_their_header_and_never_split_a_meter_across_pages() -> None:
    """Tables of 9 and 4 meters over two years, one after the other, one starting near
    the foot of a page: every page's rows sit under the table's header and their meter's
    name; a meter's group (name, years, average) is never split, nor parted from the
    table's start."""
    months = {
        date(y, m, 1): MonthValue(1000.0 + m, 1.0) for y in (2024, 2025) for m in range(1, 13)
    }
    sizes = (9, 4, 9, 4, 9)
    tables = [
        [Series(f"Meter {t}.{n}", "kWh", months, Energy.ELECTRICITY) for n in range(size)]
        for t, size in enumerate(sizes)
    ]
    parts: list[ReportComponent] = []
    for meters in tables:
        parts += [Heading("electricity"), MonthlyArray(meters, EN.t("monthly_consumption"))]
    pdf = render_pdf(render_html(Report("energy_report", "Hotel Test", [], parts), EN))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    names = [name for page in pages for name in re.findall(r"Meter \d+\.\d+", page)]
    assert names == [meter.label for meters in tables for meter in meters]  # each once
    for page in pages:
        assert "Year Jan Feb Mar" in page
        for below_header in page.split("Dec Total")[1:]:
            assert re.match(r"\s*Meter \d+\.\d+ \(kWh\)", below_header)
            for group in re.split(r"Meter \d+\.\d+ \(kWh\)", below_header)[1:]:
                assert group.split()[:1] == ["2024"] and "2025" in group and "Average" in group


def test_a_component_renders_on_its_own(conn: psycopg.Connection) -> None:
    elec = next(s for s in _merger(conn).series() if s.label == "Electricity")
    html = render_component(MonthlyArray([elec]), Formatter("fr"))
    assert "<table" in html and "1\u202f235" in html and "avr." in html


def test_tenants_never_see_each_others_meters(conn: psycopg.Connection) -> None:
    with pytest.raises(ReportError, match="tenant 't2' has no entity hotel"):
        energy_report(conn, EnergyRequest("t2", ["hotel"], PERIOD), EN, NOW)
    stolen = MetersGate(conn, "t2", PERIOD, usage_ids=["hotel.elec", "hotel.gas"]).series()
    assert stolen == []
    theirs = MetersGate(conn, "t2", PERIOD, entity_ids=["other"]).series()
    assert [s.months[FEB].value for s in theirs] == [111.0]  # 1,000,000 + k, k = 0..111
    assert MAR in theirs[0].months


def test_period_totals_and_shares_of_the_energy_bought(conn: psycopg.Connection) -> None:
    """Shares of the 11,000 kWh bought: electricity 3,545 (32.2 %), gas 7,455 (67.8 %);
    the boiler's heat is listed, not counted twice."""
    meters = _merger(conn).series()
    context = PeriodTotals(meters, [], [Energy.ELECTRICITY, Energy.GAS]).context(EN)
    assert [(r["label"], r["total"], r["share"], r["incomplete"]) for r in context["rows"]] == [
        ("Electricity", "3,545", "32.2%", True),
        ("Gas", "7,455", "67.8%", False),
        ("Heating", "1,065", "\u2013", False),
    ]
