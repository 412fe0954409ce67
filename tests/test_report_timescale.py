"""The rollups on TimescaleDB (2.23, in PGlite): the continuous aggregate and its view of
local days give the monthly figures plain PostgreSQL gives (tests/test_report_rollups.py),
before and after the aggregate is materialised.

PGlite takes no COPY FROM STDIN: the fixture's rows go in by plain INSERTs.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import report_fixture as fx
from psycopg import sql
from psycopg.types.json import Jsonb
from test_report_rollups import EXPECTED, FEB, MAY, USAGES

from models.registry_file import parse_registry
from services import PgliteTimescale
from storage.migrate import migrate
from storage.registry_store import save_registry
from storage.rollups import monthly_consumption, refresh_rollups

pytestmark = pytest.mark.integration


_BATCH = 400
"""Rows per INSERT: PGlite's server drops the connection on a statement of 1,800."""
_INSERT = """
    INSERT INTO readings (usage_id, ts, value, unit, tenant_id, source, device_id, origin)
    SELECT u, t, v, 'x', n, 'test', 'd1', 'test'
    FROM unnest(%s::text[], %s::timestamptz[], %s::float8[], %s::text[]) AS r (u, t, v, n)
"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with PgliteTimescale() as server:
        migrate(server.url)
        with psycopg.connect(server.url) as conn:
            save_registry(conn, parse_registry(fx.REGISTRY))
            rows = fx.rows(range(fx.READINGS))
            for first in range(0, len(rows), _BATCH):
                usages, times, values, tenants = zip(*rows[first : first + _BATCH], strict=True)
                conn.execute(_INSERT, (list(usages), list(times), list(values), list(tenants)))
            conn.cursor().executemany(
                "INSERT INTO detection_events (id, kind, tenant_id, usage_id, ts, severity,"
                " details) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (e.id, e.kind.value, e.tenant_id, e.usage_id, e.ts, e.severity.value,
                     Jsonb(e.details))
                    for e in fx.events()
                ],
            )  # fmt: skip
            conn.commit()
        yield server.url


def _months(url: str) -> dict[object, tuple[float, int, float, int]]:
    with psycopg.connect(url) as conn:
        assert refresh_rollups(conn) == 0  # the continuous aggregate keeps itself
        found = monthly_consumption(conn, fx.TENANT, USAGES, FEB, MAY)
    return {
        (m.usage_id, m.month): (m.consumption, m.readings, round(m.expected, 9), m.negatives)
        for m in found
    }


def test_usage_daily_is_a_view_of_a_continuous_aggregate(url: str) -> None:
    with psycopg.connect(url) as conn:
        caggs = conn.execute(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        ).fetchall()
    assert caggs == [("usage_hourly", False)]


def test_real_time_aggregate_gives_the_hand_computed_months(url: str) -> None:
    assert _months(url) == EXPECTED


def test_materialised_aggregate_gives_the_same_months(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CALL refresh_continuous_aggregate('usage_hourly', NULL, NULL)")
        schema, table = conn.execute(
            "SELECT materialization_hypertable_schema, materialization_hypertable_name"
            " FROM timescaledb_information.continuous_aggregates"
        ).fetchall()[0]
        stored = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()
    assert stored is not None and stored[0] > 0  # hours materialised, no longer real time
    assert _months(url) == EXPECTED
