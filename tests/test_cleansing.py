"""Issue 24, items 2, 3 and 5: cleansing and gap filling applied beside the readings from
the CLI, undone exactly, and seen by the rollups, the energy report and the diagnostic
(on a real PostgreSQL, with the report tests' hand-computed building)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
import report_fixture as fx
from click.testing import CliRunner, Result

from models.detection import DetectionEvent, DetectionKind, Severity
from reporting.components import MonthlyArray
from reporting.gates import MetersGate, Series
from reporting.locale import Formatter
from reporting.period import Period
from services.postgres import PostgresServer
from smati.cli import main
from storage.cleansing import (
    OperationNotFound,
    UnknownUsage,
    apply_operation,
    list_operations,
    propose,
    read_signal,
    undo_operation,
    usage_facts,
)
from storage.report_quality import time_buckets
from storage.rollups import refresh_rollups
from storage.writer import write_events

pytestmark = pytest.mark.integration

APRIL = Period.of_months("2026-04", "2026-04")
EN = Formatter("en")


@pytest.fixture(scope="module")
def url(postgres: PostgresServer) -> Iterator[str]:
    with fx.loaded_database(postgres.url) as database:
        yield database


@pytest.fixture
def conn(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=True) as connection:
        yield connection


def smati(url: str, *args: str, user: str = "alice") -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args], env={"USER": user})


def applied_operation(result: Result) -> str:
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[-1]
    assert line.startswith("applied as operation "), result.output
    return line.split()[3]


def snapshot(conn: psycopg.Connection, usage: str) -> dict[str, Any]:
    """Everything an operation may change or must not: the readings, the corrected view,
    both daily rollups."""
    refresh_rollups(conn)

    def rows(query: str) -> list[tuple[Any, ...]]:
        return conn.execute(query, (usage,)).fetchall()

    return {
        "readings": rows("SELECT * FROM readings WHERE usage_id = %s ORDER BY ts"),
        "corrected": rows("SELECT * FROM corrected_readings WHERE usage_id = %s ORDER BY ts"),
        "daily": rows("SELECT * FROM usage_daily_corrected WHERE usage_id = %s ORDER BY day"),
        "daily_raw": rows("SELECT * FROM usage_daily WHERE usage_id = %s ORDER BY day"),
    }


def april(conn: psycopg.Connection, label: str, *, raw: bool = False) -> Series:
    refresh_rollups(conn)
    gate = MetersGate(conn, fx.TENANT, APRIL, entity_ids=[fx.ENTITY], raw=raw)
    return next(s for s in gate.series() if s.label == label)


def test_a_dry_run_prints_the_defects_draws_three_rows_and_stores_nothing(
    url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    png = tmp_path / "heat.png"
    args = ("--usage", "hotel.heat", "--treatment", "negative-consumption", "--png", str(png))
    result = smati(url, "cleanse", *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "hotel.heat (consumption, kWh): negative-consumption over 356 values: 1 corrections"
    )
    assert lines[1].split() == ["TIME", "STORED", "CORRECTED", "REASON"]
    # k = 300: 2026-01-31T23:00Z + 1,800 h = 2026-04-16T23:00Z, 01:00 in Paris (CEST).
    assert lines[2].split() == [
        "2026-04-17", "01:00:00", "CEST", "-4", "excluded", "negative", "consumption"
    ]  # fmt: skip
    assert lines[3:] == [
        f"figure: {png}",
        "dry run: nothing stored (--apply stores these corrections)",
    ]
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert conn.execute("SELECT count(*) FROM cleansing_operations").fetchone() == (0,)


def test_the_streams_anomaly_events_point_at_the_readings_to_exclude(
    url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    anomaly = DetectionEvent.of(
        DetectionKind.ANOMALY, fx.TENANT, "hotel.outdoor", fx.at(10), Severity.MAJOR, score=0.9
    )
    elsewhere = DetectionEvent.of(
        DetectionKind.ANOMALY, fx.TENANT, "hotel.heat", fx.at(11), Severity.MAJOR, score=0.9
    )
    with conn.transaction():
        write_events(conn, [anomaly, elsewhere])
    args = ("--usage", "hotel.outdoor", "--treatment", "anomaly-events")
    result = smati(url, "cleanse", *args, "--png", str(tmp_path / "a.png"))
    assert result.exit_code == 0, result.output
    # k = 10: 2026-01-31T23:00Z + 60 h = 2026-02-03T11:00Z, noon in Paris (CET); 4 C.
    assert [line.split() for line in result.stdout.splitlines()[1:3]] == [
        ["TIME", "STORED", "CORRECTED", "REASON"],
        ["2026-02-03", "12:00:00", "CET", "4", "excluded", "anomaly", "found", "by", "the",
         "stream"],
    ]  # fmt: skip


def test_apply_then_undo_gives_back_identical_data(
    url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    before = snapshot(conn, "hotel.heat")
    assert april(conn, "Heating").months[APRIL.start].value == 357  # 119 x 3, the -4 left out
    args = ("--usage", "hotel.heat", "--treatment", "hampel", "-p", "window=2")
    operation = applied_operation(
        smati(url, "cleanse", *args, "--png", str(tmp_path / "h.png"), "--apply")
    )

    after = snapshot(conn, "hotel.heat")
    assert after["readings"] == before["readings"]  # never overwritten
    assert after["daily_raw"] == before["daily_raw"]
    corrected = read_signal(conn, fx.TENANT, "hotel.heat")
    assert corrected.values[fx.NEGATIVE_AT] == 3.0 and min(corrected.values) == 3.0
    # The energy report and the diagnostic read the corrected data, or the raw with a flag.
    assert april(conn, "Heating").months[APRIL.start].value == 360
    assert april(conn, "Heating", raw=True).months[APRIL.start].value == 357
    start, end = fx.at(fx.NEGATIVE_AT - 1), fx.at(fx.NEGATIVE_AT + 1)
    assert [b.low for b in time_buckets(conn, fx.TENANT, "hotel.heat", start, end, 1)] == [3.0]
    raw_buckets = time_buckets(conn, fx.TENANT, "hotel.heat", start, end, 1, raw=True)
    assert [b.low for b in raw_buckets] == [-4.0]

    listed = smati(url, "operations", "list", "--usage", "hotel.heat")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[1].split()[:7] == [
        operation,
        *listed.stdout.splitlines()[1].split()[1:4],
        "alice",
        "cleanse",
        "hampel",
    ]
    assert listed.stdout.splitlines()[1].split()[-2:] == ["in", "force"]

    undone = smati(url, "undo", operation, user="bob")
    assert undone.exit_code == 0, undone.output
    assert snapshot(conn, "hotel.heat") == before
    assert "undone by bob at" in smati(url, "operations", "list", "--usage", "hotel.heat").stdout
    again = smati(url, "undo", operation)
    assert again.exit_code == 1
    assert again.output.startswith(f"Error: operation {operation} was undone by bob at ")


def test_only_the_latest_operation_in_force_can_be_undone(
    url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    before = snapshot(conn, "hotel.outdoor")
    thresholds = ("cleanse", "--usage", "hotel.outdoor", "--treatment", "thresholds")
    png = ("--png", str(tmp_path / "o.png"), "--apply")
    first, second = (
        applied_operation(smati(url, *thresholds, "-p", bound, *png))
        for bound in ("max=9", "min=5")
    )
    refused = smati(url, "undo", first)
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: operation {first} has later operations in force on hotel.outdoor: "
        f"undo {second} first\n"
    )
    assert read_signal(conn, fx.TENANT, "hotel.outdoor").values == ()  # 4s and 10s all out
    for operation in (second, first):
        assert smati(url, "undo", operation).exit_code == 0
    assert snapshot(conn, "hotel.outdoor") == before


def test_filled_gap_is_monotonic_meets_both_sides_and_the_report_shows_its_share(
    url: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    raw = april(conn, "Electricity", raw=True).months[APRIL.start]
    assert (raw.value, raw.completeness, raw.estimated) == (1200, 111 / 120, 0.0)
    before = snapshot(conn, "hotel.elec")
    result = smati(
        url, "fill-gaps", "--usage", "hotel.elec", "--png", str(tmp_path / "f.png"), "--apply"
    )
    operation = applied_operation(result)
    assert result.stdout.startswith(
        "hotel.elec (index, kWh): fill-gaps gap_periods=2.5 max_hours=6.0 over 347 values: "
        "9 corrections"
    )

    rows = conn.execute(
        "SELECT ts, value, estimated FROM corrected_readings"
        " WHERE usage_id = 'hotel.elec' AND ts >= %s AND ts <= %s ORDER BY ts",
        (fx.GAP_START, fx.GAP_END),
    ).fetchall()
    assert [ts for ts, _, _ in rows] == [fx.at(k) for k in range(fx.GAP.start - 1, fx.GAP.stop + 1)]
    assert [estimated for _, _, estimated in rows] == [False, *[True] * 9, False]
    values = [value for _, value, _ in rows]
    assert all(a <= b for a, b in pairwise(values))
    # A steady 10 kWh per reading: the estimates are the indexes the meter would have shown.
    assert values == [
        5.0 + 10 * (k - fx.RESET_AT) for k in range(fx.GAP.start - 1, fx.GAP.stop + 1)
    ]

    filled = april(conn, "Electricity").months[APRIL.start]
    assert (filled.value, filled.completeness, filled.estimated) == (1200, 1.0, 9 / 120)
    context = MonthlyArray([april(conn, "Electricity")]).context(EN)
    cells = context["groups"][0]["rows"][0]["cells"]
    assert (cells[3]["text"], cells[3]["note"]) == ("1,200 *", "estimated 7.5%")

    assert smati(url, "undo", operation).exit_code == 0
    assert snapshot(conn, "hotel.elec") == before


def test_operations_are_scoped_to_their_tenant(url: str, conn: psycopg.Connection) -> None:
    with pytest.raises(UnknownUsage, match=r"no usage 'other\.elec' of tenant t1"):
        propose(conn, "other.elec", "thresholds", {"max": "1"}, tenant_id=fx.TENANT)
    assert usage_facts(conn, "other.elec")[0] == "t2"
    proposal = propose(conn, "hotel.heat", "thresholds", {"min": "0"}, tenant_id=fx.TENANT)
    assert [c.ts for c in proposal.review.defects] == [fx.at(fx.NEGATIVE_AT)]
    operation = apply_operation(conn, proposal, "carol")
    with pytest.raises(OperationNotFound):
        undo_operation(conn, operation.id, "mallory", tenant_id="t2")
    assert list_operations(conn, "hotel.heat", tenant_id="t2") == []
    assert read_signal(conn, "t2", "hotel.heat").values == ()
    assert undo_operation(conn, operation.id, "carol", tenant_id=fx.TENANT).undone_by == "carol"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("cleanse", "--usage", "nowhere", "--treatment", "mad"), "no usage 'nowhere'"),
        (
            ("cleanse", "--usage", "hotel.elec", "--treatment", "iqr"),
            "treatment iqr applies to usages of type consumption, instant; hotel.elec is index",
        ),
        (
            ("cleanse", "--usage", "hotel.heat", "--treatment", "hampel", "-p", "window"),
            "parameter 'window' is not NAME=VALUE",
        ),
        (
            ("fill-gaps", "--usage", "hotel.heat", "-p", "gap_periods=1"),
            "fill-gaps: gap_periods: Input should be greater than 1",
        ),
        (("undo", "op-nothing"), "no operation 'op-nothing'"),
    ],
)
def test_expected_failures_are_one_line(
    url: str, tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    result = smati(url, *args, *(["--png", str(tmp_path / "x.png")] if args[0] != "undo" else []))
    assert (result.exit_code, result.output) == (1, f"Error: {error}\n")
