"""The migrations on a real TimescaleDB (2.23, in PGlite): `readings` is a hypertable.

PGlite serves one client at a time: every test opens and closes its own connection, and
none is kept open across a call to migrate().
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import psycopg
import pytest

from services import PgliteTimescale
from storage.migrate import migrate, migrations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def timescale() -> Iterator[PgliteTimescale]:
    with PgliteTimescale() as server:
        yield server


class Migrated(NamedTuple):
    url: str
    extension_before: bool
    applied: list[str]
    seconds: float


def _has_timescaledb(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        return row.fetchone() == (1,)


@pytest.fixture(scope="module")
def migrated(timescale: PgliteTimescale) -> Migrated:
    """The first migrate() of a fresh server, which creates the extension itself."""
    before = _has_timescaledb(timescale.url)
    began = time.monotonic()
    applied = migrate(timescale.url)
    return Migrated(timescale.url, before, applied, time.monotonic() - began)


def test_migrate_applies_every_migration_and_creates_the_extension(migrated: Migrated) -> None:
    assert not migrated.extension_before
    assert migrated.applied == [m.name for m in migrations()]
    assert _has_timescaledb(migrated.url)


def test_create_extension_if_not_exists(migrated: Migrated) -> None:
    with psycopg.connect(migrated.url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        row = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
    assert row is not None
    assert row[0].startswith("2.")


def test_readings_is_a_hypertable(migrated: Migrated) -> None:
    url = migrated.url
    with psycopg.connect(url, autocommit=True) as conn:
        hypertables = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
        ).fetchall()
        dimension = conn.execute(
            "SELECT column_name, time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_name = 'readings'"
        ).fetchall()
    assert hypertables == [("readings",)]
    assert dimension == [("ts", timedelta(days=7))]


def test_time_bucket_sums_plain_inserts(migrated: Migrated) -> None:
    url = migrated.url
    base = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    # Two hours of readings, ten days apart from a third: two chunks of the hypertable.
    values = [
        (base + timedelta(minutes=10), 1.5),
        (base + timedelta(minutes=50), 2.5),
        (base + timedelta(hours=1, minutes=5), 10.0),
        (base + timedelta(days=10), 7.0),
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO readings (usage_id, ts, value, unit, tenant_id, source,"
                " device_id, origin) VALUES ('u-tsdb', %s, %s, 'kWh', 't1', 'test', 'd1', %s)",
                [(ts, value, f"test/0/{i}") for i, (ts, value) in enumerate(values)],
            )
        rows = conn.execute(
            "SELECT time_bucket('1 hour', ts) AS bucket, sum(value), count(*) FROM readings"
            " WHERE usage_id = 'u-tsdb' GROUP BY bucket ORDER BY bucket"
        ).fetchall()
        chunks = conn.execute(
            "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'"
        ).fetchone()
    assert rows == [
        (base, 4.0, 2),
        (base + timedelta(hours=1), 10.0, 1),
        (base + timedelta(days=10), 7.0, 1),
    ]
    assert chunks is not None
    assert chunks[0] >= 2


def test_migrate_again_applies_nothing(migrated: Migrated) -> None:
    url = migrated.url
    assert migrate(url) == []
    with psycopg.connect(url, autocommit=True) as conn:
        # The launcher resets the session between clients: migrate()'s lock is gone.
        locks = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert locks.fetchone() == (0,)


def test_startup_and_migrate_times_are_reasonable(
    timescale: PgliteTimescale, migrated: Migrated
) -> None:
    migrate_s = migrated.seconds
    print(
        f"pglite: npm install {timescale.install_s:.2f} s, startup {timescale.startup_s:.2f} s,"
        f" migrate {migrate_s:.2f} s"
    )
    assert migrate_s < 10.0
