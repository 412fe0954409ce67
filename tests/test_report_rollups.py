"""The daily rollup and the monthly consumption it gives, on the hand-computed fixture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
import report_fixture as fx
from commands import smati
from conftest import fresh_database
from psycopg import sql

from services.postgres import PostgresServer
from storage.migrate import migrate
from storage.rollups import (
    daily_extremes,
    monthly_consumption,
    rebuild_rollups,
    refresh_rollups,
)

pytestmark = pytest.mark.integration

FEB, MAR, APR, MAY = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)
USAGES = ["hotel.elec", "hotel.gas", "hotel.heat", "other.elec"]


@pytest.fixture
def conn(postgres: PostgresServer) -> Iterator[psycopg.Connection]:
    with fresh_database(postgres.url) as url:
        migrate(url)
        with psycopg.connect(url) as connection:
            yield connection


def _months(conn: psycopg.Connection) -> dict[tuple[str, date], tuple[float, int, float, int]]:
    return {
        (m.usage_id, m.month): (m.consumption, m.readings, round(m.expected, 9), m.negatives)
        for m in monthly_consumption(conn, fx.TENANT, USAGES, FEB, MAY)
    }


# Hand-computed (see tests/report_fixture.py):
# elec  Feb: 10 x 111 = 1110 (from the first reading); Mar: before the reset 2490 - 2110
#       = 380, the reset's first index 5, then 10 x 85 = 850: 1235; Apr: 10 x 120 = 1200
#       over 111 readings (9 missing: the gap loses readings, not consumption).
# gas   2 m3 a reading: Feb 222 (the rollover from 998 to 0 is 2 m3), Mar 248, Apr 240.
# heat  3 a reading: Feb 336, Mar 372, Apr 119 x 3 = 357 and one negative value left out.
# expected readings at 6 h: Feb 112, Mar 743 h / 6 = 123.83 (DST), Apr 120.
EXPECTED = {
    ("hotel.elec", FEB): (1110.0, 112, 112.0, 0),
    ("hotel.elec", MAR): (1235.0, 124, round(743 / 6, 9), 0),
    ("hotel.elec", APR): (1200.0, 111, 120.0, 0),
    ("hotel.gas", FEB): (222.0, 112, 112.0, 0),
    ("hotel.gas", MAR): (248.0, 124, round(743 / 6, 9), 0),
    ("hotel.gas", APR): (240.0, 120, 120.0, 0),
    ("hotel.heat", FEB): (336.0, 112, 112.0, 0),
    ("hotel.heat", MAR): (372.0, 124, round(743 / 6, 9), 0),
    ("hotel.heat", APR): (357.0, 120, 120.0, 1),
}


def test_monthly_consumption_in_local_months_with_reset_rollover_gap(
    conn: psycopg.Connection,
) -> None:
    fx.load(conn)
    assert refresh_rollups(conn) == 5
    assert _months(conn) == EXPECTED


def test_rollup_follows_readings_as_they_arrive_late_ones_included(
    conn: psycopg.Connection,
) -> None:
    fx.load(conn, range(0, 200))
    refresh_rollups(conn)
    # March so far: 2490 - 2110 = 380 before the reset, then 5 + 10 x 49 = 495.
    assert _months(conn)[("hotel.elec", MAR)][0] == 875.0
    fx.insert_readings(conn, range(200, fx.READINGS))
    conn.commit()
    assert refresh_rollups(conn) == 5
    assert refresh_rollups(conn) == 0
    assert _months(conn) == EXPECTED


def test_another_tenants_usages_are_never_read(conn: psycopg.Connection) -> None:
    fx.load(conn)
    refresh_rollups(conn)
    assert monthly_consumption(conn, "t2", ["hotel.elec"], FEB, MAY) == []
    assert daily_extremes(conn, "t2", "hotel.outdoor", FEB, MAY) == []
    assert {m.usage_id for m in monthly_consumption(conn, "t2", USAGES, FEB, MAY)} == {"other.elec"}


def test_daily_extremes_of_the_outdoor_temperature(conn: psycopg.Connection) -> None:
    fx.load(conn)
    refresh_rollups(conn)
    days = daily_extremes(conn, fx.TENANT, "hotel.outdoor", FEB, MAR)
    assert len(days) == 28
    assert {(d.min_value, d.max_value) for d in days} == {(4.0, 10.0)}


def test_a_damaged_rollup_is_rebuilt_from_every_reading(conn: psycopg.Connection) -> None:
    fx.load(conn)
    refresh_rollups(conn)
    for rollup in ("usage_daily", "usage_daily_corrected"):
        conn.execute(sql.SQL("DELETE FROM {} WHERE usage_id = 'hotel.gas'").format(
            sql.Identifier(rollup)
        ))  # fmt: skip
    conn.commit()
    assert refresh_rollups(conn) == 0  # nothing noted: the triggers saw no reading change
    assert ("hotel.gas", FEB) not in _months(conn)
    assert rebuild_rollups(conn, ["hotel.gas"]) == 1
    assert _months(conn) == EXPECTED


def test_smati_db_rollups_rebuilds_every_usage(postgres: PostgresServer) -> None:
    with fresh_database(postgres.url) as url:
        migrate(url)
        with psycopg.connect(url) as connection:
            fx.load(connection)
            connection.execute("DELETE FROM usage_daily")
            connection.execute("DELETE FROM usage_daily_corrected")
        done = smati("--database-url", url, "db", "rollups", "--rebuild")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "daily rollups of 5 usage(s) recomputed"
        with psycopg.connect(url) as connection:
            assert _months(connection) == EXPECTED
