"""The monitoring and diagnostic reports' figures on the fixture (tests/report_fixture.py).

April 2026 in Paris is 720 hours. The electricity usage is green from its first reading,
silent from 9 April 07:00 (the last reading before its gap) to 11 April 19:00 (60 h):
orange after 1.5 periods of 6 h (9 h), red after 5 (30 h), green again when readings
resume. So: green 669 h (92.9 %), orange 21 h (2.9 %), red 30 h (4.2 %), one gap of 2.5 d.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
import report_fixture as fx

from reporting.errors import ReportError
from reporting.locale import Formatter
from reporting.quality import Days, diagnostic_report, monitoring_report
from reporting.quality_components import EvolutionTable, TransmissionTable
from services.postgres import PostgresServer
from storage.report_quality import (
    MarkedPoint,
    gaps_of,
    interval_histogram,
    marked_points,
    status_evolution,
    time_buckets,
    value_histogram,
)
from storage.report_registry import usages_of
from storage.writer import write_events

pytestmark = pytest.mark.integration

EN = Formatter("en")
APRIL = Days(date(2026, 4, 1), date(2026, 5, 1), "Europe/Paris")
MARCH_APRIL = Days(date(2026, 3, 1), date(2026, 5, 1), "Europe/Paris")
NOW = datetime(2026, 5, 2, 8, tzinfo=UTC)
HOUR = 3600.0


@pytest.fixture(scope="module")
def conn(postgres: PostgresServer) -> Iterator[psycopg.Connection]:
    with fx.loaded_database(postgres.url) as url, psycopg.connect(url) as connection:
        yield connection


def test_status_evolution_over_april(conn: psycopg.Connection) -> None:
    found = status_evolution(conn, fx.TENANT, ["hotel.elec", "hotel.gas"], *APRIL.bounds())
    elec, gas = found["hotel.elec"], found["hotel.gas"]
    assert elec.seconds == {"green": 669 * HOUR, "orange": 21 * HOUR, "red": 30 * HOUR}
    assert (elec.status_start, elec.status_end, elec.gaps, elec.gap_seconds) == (
        "green",
        "green",
        1,
        60 * HOUR,
    )
    assert gas.seconds == {"green": 720 * HOUR}
    assert gas.gaps == 0


def test_a_period_before_the_first_reading_is_violet(conn: psycopg.Connection) -> None:
    january = Days(date(2026, 1, 1), date(2026, 1, 31), "Europe/Paris").bounds()
    elec = status_evolution(conn, fx.TENANT, ["hotel.elec"], *january)["hotel.elec"]
    assert (elec.status_start, elec.status_end) == ("violet", "violet")


def test_monitoring_tables(conn: psycopg.Connection) -> None:
    usages = usages_of(conn, fx.TENANT)
    report = monitoring_report(conn, fx.TENANT, None, (APRIL.start, APRIL.end), EN, NOW)
    table, evolution = report.components
    assert isinstance(table, TransmissionTable) and isinstance(evolution, EvolutionTable)
    rows = table.context(EN)["rows"]
    assert [r["usage"] for r in rows] == [u.name for u in usages]
    assert rows[0] == {
        "entity": "Hotel Test",
        "equipment": "Meters",
        "usage": "Electricity",
        "device": "d1",
        "last": "30/04/2026 19:00",  # k = 355, 17:00 UTC
        "registered": "6.0 h",
        "estimated": "5.8 h",
        "status": "green",
        "status_text": "green",
    }
    elec = evolution.context(EN)["rows"][0]
    assert elec["shares"] == ["92.9%", "2.9%", "4.2%", "0%"]
    assert (elec["gaps"], elec["gap_time"]) == ("1", "2.5 d")
    assert report.subject == "Tenant One"
    assert ("Period", "1 Apr 2026 \u2013 30 Apr 2026") in report.meta


def test_diagnostic_figures_in_the_database(conn: psycopg.Connection) -> None:
    start, end = MARCH_APRIL.bounds()
    # 124 + 111 readings: 233 intervals of 6 h, and the 60 h gap beyond the 24 h range.
    intervals = interval_histogram(conn, fx.TENANT, "hotel.elec", start, end, 24 * HOUR, 40)
    assert intervals.counts[10] == 233 and sum(intervals.counts) == 233
    assert intervals.edges[10] == 21600  # the bin [6 h, 6.6 h)
    assert intervals.beyond == 1
    values = value_histogram(conn, fx.TENANT, "hotel.elec", start, end, bins=30)
    assert values is not None
    assert (values.edges[0], values.edges[-1], sum(values.counts)) == (5.0, 2490.0, 235)
    # The index's 234 steps: 232 of 10 kWh, the reset's 5 - 2,490 and the gap's 100.
    steps = value_histogram(conn, fx.TENANT, "hotel.elec", start, end, steps=True, bins=30)
    assert steps is not None
    assert (steps.edges[0], steps.edges[-1]) == (-2485.0, 100.0)
    assert (steps.counts[0], steps.counts[28], steps.counts[29], sum(steps.counts)) == (
        1,
        232,
        1,
        234,
    )
    buckets = time_buckets(conn, fx.TENANT, "hotel.elec", start, end)
    assert sum(b.readings for b in buckets) == 235
    assert len(buckets) <= 400
    assert marked_points(conn, fx.TENANT, "hotel.elec", start, end) == [
        MarkedPoint("meter_reset", fx.at(fx.RESET_AT), 5.0)
    ]
    gaps = gaps_of(conn, fx.TENANT, "hotel.elec", start, end)
    assert [(g.start_ts, g.end_ts, g.state) for g in gaps] == [(fx.GAP_START, fx.GAP_END, "closed")]


def test_diagnostic_report_components(conn: psycopg.Connection) -> None:
    report = diagnostic_report(
        conn, fx.TENANT, "hotel.elec", (MARCH_APRIL.start, MARCH_APRIL.end), EN, NOW
    )
    contexts = [c.context(EN) for c in report.components]
    summary = dict(contexts[0]["lines"])
    assert summary["Readings"] == "235"
    assert (summary["Minimum"], summary["Maximum"]) == ("5.00 kWh", "2,490.00 kWh")
    assert contexts[1]["note"] == "1 interval(s) longer than 24.0 h, off the chart (see the gaps)."
    assert [r["duration"] for r in contexts[2]["rows"]] == ["2.5 d"]
    assert "<svg" in contexts[4]["svg"] and "meter reset" in contexts[4]["svg"]
    assert contexts[5]["rows"] == []  # an MQTT device: no radio frames


def test_another_tenants_usage_cannot_be_diagnosed(conn: psycopg.Connection) -> None:
    with pytest.raises(ReportError, match=r"tenant 't2' has no usage 'hotel\.elec'"):
        diagnostic_report(conn, "t2", "hotel.elec", (APRIL.start, APRIL.end), EN, NOW)
    start, end = APRIL.bounds()
    assert status_evolution(conn, "t2", ["hotel.elec"], start, end) == {}
    assert time_buckets(conn, "t2", "hotel.elec", start, end) == []


def test_changes_at_one_instant_follow_their_chain(postgres: PostgresServer) -> None:
    """A worker catching up may date orange -> red and red -> green at one instant: the
    status after them is green, whatever order they were stored in."""
    orange_at = datetime(2026, 4, 10, 6, tzinfo=UTC)
    back_at = datetime(2026, 4, 10, 9, tzinfo=UTC)
    with fx.loaded_database(postgres.url) as url, psycopg.connect(url) as conn:
        write_events(
            conn,
            [
                fx.status_event("hotel.outdoor", orange_at, "orange", "green"),
                fx.status_event("hotel.outdoor", back_at, "green", "red"),
                fx.status_event("hotel.outdoor", back_at, "red", "orange"),
            ],
        )
        found = status_evolution(conn, fx.TENANT, ["hotel.outdoor"], *APRIL.bounds())
    outdoor = found["hotel.outdoor"]
    assert outdoor.seconds == {"green": 717 * HOUR, "orange": 3 * HOUR, "red": 0.0}
    assert outdoor.status_end == "green"


def test_a_month_with_a_dst_change_lasts_its_743_hours(conn: psycopg.Connection) -> None:
    march = Days(date(2026, 3, 1), date(2026, 4, 1), "Europe/Paris")
    report = monitoring_report(conn, fx.TENANT, "hotel", (march.start, march.end), EN, NOW)
    evolution = report.components[1].context(EN)["rows"]
    assert [row["shares"][0] for row in evolution] == ["100%"] * 4
    gas = status_evolution(conn, fx.TENANT, ["hotel.gas"], *march.bounds())["hotel.gas"]
    assert gas.seconds == {"green": 743 * HOUR}
