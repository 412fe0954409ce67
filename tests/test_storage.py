"""The storage package against a real PostgreSQL (the session `postgres` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import psycopg
import pytest
from psycopg import sql

from models.codecs.catalogue import CodecChannel, JsCodec
from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import QualityFlag, Reading, UsageType
from models.registry import Registry
from models.registry_file import parse_registry
from storage.migrate import migrate, migrations
from storage.queries import event_counts_by_kind, reading_counts, recent_events
from storage.registry_store import StoredRegistryError, load_registry, save_registry
from storage.writer import write_events, write_readings

pytestmark = pytest.mark.integration

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
DATA_TABLES = sql.SQL(", ").join(
    map(
        sql.Identifier,
        [
            "readings",
            "detection_events",
            "device_channels",
            "api_tokens",
            "devices",
            "network_bindings",
            "transceivers",
            "gateways",
            "usages",
            "equipment",
            "entities",
            "tenants",
        ],
    )
)


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    """A connection (not autocommit, as the stream uses them) to emptied tables."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(sql.SQL("TRUNCATE {}").format(DATA_TABLES))
    with psycopg.connect(database) as connection:
        yield connection


@pytest.fixture(scope="module")
def demo_registry() -> Registry:
    text = resources.files("smati").joinpath("examples/demo-building.yaml").read_text("utf-8")
    return parse_registry(text, "demo-building.yaml")


def reading(
    usage_id: str = "hotel-paris.electricity",
    seconds: int = 0,
    value: float = 12.0,
    origin: str = "smati/raw/0/100",
    flags: tuple[QualityFlag, ...] = (),
    tenant_id: str = "acme",
) -> Reading:
    return Reading(
        tenant_id=tenant_id,
        usage_id=usage_id,
        ts=T0 + timedelta(seconds=seconds),
        value=value,
        unit="kWh",
        usage_type=UsageType.INDEX,
        source="mqtt",
        device_id="paris-elec-01",
        origin=origin,
        flags=flags,
    )


def stored(conn: psycopg.Connection, usage_id: str) -> list[tuple[Any, ...]]:
    """(ts, value, origin, flags) of a usage's readings, as another client sees them."""
    with psycopg.connect(conn.info.dsn) as other:
        return other.execute(
            "SELECT ts, value, origin, flags FROM readings WHERE usage_id = %s ORDER BY ts",
            (usage_id,),
        ).fetchall()


# --- migrations ---------------------------------------------------------------------------


def test_migrate_applies_each_migration_once(empty_database: str) -> None:
    names = [migration.name for migration in migrations()]
    assert names[0] == "0001_initial"
    assert migrate(empty_database) == names
    assert migrate(empty_database) == []
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(migration.version, migration.name) for migration in migrations()]


def test_concurrent_migrations_apply_each_file_once(empty_database: str) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(migrate, [empty_database] * 3))
    applied = sorted(name for result in results for name in result)
    assert applied == [migration.name for migration in migrations()]


# --- registry -----------------------------------------------------------------------------


def test_registry_round_trip(conn: psycopg.Connection, demo_registry: Registry) -> None:
    counts = save_registry(conn, demo_registry)
    assert counts == {
        "tenants": 1,
        "entities": 2,
        "equipment": 7,
        "usages": 10,
        "gateways": 2,
        "transceivers": 7,
        "network_bindings": 0,
        "codecs": 0,
        "devices": 7,
        "device_channels": 10,
        "removed_channels": 0,
    }
    assert load_registry(conn) == demo_registry
    save_registry(conn, demo_registry)  # saving again changes nothing
    assert load_registry(conn) == demo_registry


def test_codecs_round_trip_with_their_program(
    conn: psycopg.Connection, demo_registry: Registry
) -> None:
    codecs = (
        JsCodec(
            id="adeunis-temp",
            package="@adeunis/codecs",
            program="function decodeUplink(input) { return {data: {}}; }",
            options={"device_type": "temp", "network": "sigfox"},
            channels={"probe_1": CodecChannel(path="temperatures.0.value", unit="°C")},
        ),
        JsCodec(id="tlv", file="codecs/tlv.js", program="// tlv", f_ports=(1, 85)),
    )
    with_codecs = demo_registry.model_copy(update={"codecs": codecs})
    assert save_registry(conn, with_codecs)["codecs"] == 2
    assert load_registry(conn) == with_codecs


def test_saving_replaces_the_channel_map_of_a_device(
    conn: psycopg.Connection, demo_registry: Registry
) -> None:
    save_registry(conn, demo_registry)
    document = demo_registry.model_dump()
    lobby = next(d for d in document["devices"] if d["id"] == "paris-lobby-01")
    lobby["channels"] = {"temp": "hotel-paris.lobby-temperature"}
    counts = save_registry(conn, Registry.model_validate(document))
    assert counts["removed_channels"] == 2
    devices = {device.id: device for device in load_registry(conn).devices}
    assert devices["paris-lobby-01"].channels == {"temp": "hotel-paris.lobby-temperature"}
    assert devices["paris-boiler-01"].channels == {
        "gas_index": "hotel-paris.gas",
        "heat": "hotel-paris.heating-energy",
    }


def test_loading_an_inconsistent_registry_says_which_device_is_at_fault(
    conn: psycopg.Connection, demo_registry: Registry
) -> None:
    save_registry(conn, demo_registry)
    # A second file moves the lobby CO2 usage to another tenant, but the device of the
    # first file (tenant acme) still feeds it: valid files, inconsistent union.
    second = parse_registry(
        """
        tenants:
          - id: beta
            entities:
              - id: beta-office
                equipment:
                  - id: beta-office.room
                    usages:
                      - {id: hotel-paris.lobby-co2, type: instant, unit: ppm, period_s: 60}
        """
    )
    save_registry(conn, second)
    with pytest.raises(StoredRegistryError) as raised:
        load_registry(conn)
    message = str(raised.value)
    assert "device 'paris-lobby-01'" in message
    assert "usage 'hotel-paris.lobby-co2' belongs to tenant 'beta', not 'acme'" in message


# --- readings -----------------------------------------------------------------------------


def test_a_replayed_batch_is_stored_once_and_not_reported(conn: psycopg.Connection) -> None:
    batch = [reading(seconds=n, value=float(n), origin=f"smati/raw/0/{n}") for n in range(50)]
    first = write_readings(conn, batch)
    assert (first.inserted, first.replayed, first.duplicates) == (50, 0, [])
    second = write_readings(conn, batch)
    assert (second.inserted, second.replayed, second.duplicates) == (0, 50, [])
    assert len(stored(conn, "hotel-paris.electricity")) == 50
    empty = write_readings(conn, [])
    assert (empty.inserted, empty.replayed, empty.duplicates) == (0, 0, [])


def test_the_same_reading_from_another_origin_is_a_duplicate(conn: psycopg.Connection) -> None:
    write_readings(conn, [reading(value=12.0, origin="smati/raw/0/100")])
    again = reading(value=13.0, origin="smati/raw/1/7")
    same_value = reading(usage_id="hotel-paris.gas", origin="smati/raw/1/8")
    write_readings(conn, [same_value.model_copy(update={"origin": "smati/raw/0/101"})])

    result = write_readings(conn, [again, same_value])

    assert (result.inserted, result.replayed) == (0, 0)
    conflict, duplicate = result.duplicates
    assert conflict.reading == again
    assert (conflict.stored_value, conflict.stored_origin) == (12.0, "smati/raw/0/100")
    assert conflict.reason.startswith("conflicting value: stored 12.0")
    assert conflict.reason.endswith("received 13.0")
    assert duplicate.reason == "duplicate of the reading stored from origin smati/raw/0/101"
    [(_, value, origin, _)] = stored(conn, "hotel-paris.electricity")
    assert (value, origin) == (12.0, "smati/raw/0/100")


def test_duplicates_within_one_batch(conn: psycopg.Connection) -> None:
    first = reading(value=12.0, origin="smati/raw/0/1")
    resent = reading(value=12.5, origin="smati/raw/0/2")
    redelivered = reading(seconds=60, origin="smati/raw/0/3")

    result = write_readings(conn, [first, resent, redelivered, redelivered])

    assert (result.inserted, result.replayed) == (2, 1)
    [duplicate] = result.duplicates
    assert duplicate.reading == resent
    assert (duplicate.stored_value, duplicate.stored_origin) == (12.0, "smati/raw/0/1")
    assert [row[1] for row in stored(conn, "hotel-paris.electricity")] == [12.0, 12.0]


def test_flags_and_timestamps_round_trip(conn: psycopg.Connection) -> None:
    paris = timezone(timedelta(hours=2))
    flagged = reading(flags=(QualityFlag.CONVERTED_UNIT,))
    local = reading(seconds=3600, origin="smati/raw/0/5").model_copy(
        update={"ts": (T0 + timedelta(hours=1)).astimezone(paris)}
    )
    write_readings(conn, [flagged, local])
    (ts0, _, _, flags0), (ts1, _, _, flags1) = stored(conn, "hotel-paris.electricity")
    assert flags0 == ["converted_unit"]
    assert flags1 == []
    assert (ts0, ts1) == (T0, T0 + timedelta(hours=1))
    assert ts0.utcoffset() is not None


def test_reading_counts_per_tenant(conn: psycopg.Connection) -> None:
    write_readings(
        conn,
        [reading(seconds=n, origin=f"o/{n}") for n in range(3)]
        + [reading(seconds=n, origin=f"p/{n}", tenant_id="beta", usage_id="b") for n in range(2)],
    )
    counts = reading_counts(conn)
    assert counts.total == 5
    assert counts.per_tenant == {"acme": 3, "beta": 2}


# --- detection events ---------------------------------------------------------------------


def event(kind: DetectionKind, seconds: int, **details: object) -> DetectionEvent:
    ts = T0 + timedelta(seconds=seconds)
    return DetectionEvent.of(kind, "acme", "hotel-paris.gas", ts, Severity.MAJOR, **details)


def test_events_are_stored_once(conn: psycopg.Connection) -> None:
    reset = event(DetectionKind.METER_RESET, 0, previous=1234.5, current=0.0)
    negative = event(DetectionKind.NEGATIVE_CONSUMPTION, 10, value=-3.0)
    later = event(DetectionKind.NEGATIVE_CONSUMPTION, 20, value=-1.0)

    assert write_events(conn, [reset, negative, reset]) == 2
    assert write_events(conn, [reset, negative, later]) == 1
    assert write_events(conn, []) == 0

    assert event_counts_by_kind(conn) == {"meter_reset": 1, "negative_consumption": 2}
    assert recent_events(conn, limit=2) == [later, negative]


def test_recent_events_are_in_utc_whatever_the_session_time_zone(
    conn: psycopg.Connection,
) -> None:
    threshold = event(DetectionKind.THRESHOLD_HIGH, 0, value=1500, limit=1200, at=T0)
    write_events(conn, [threshold])
    conn.execute("SET TIME ZONE 'Asia/Tokyo'")
    [loaded] = recent_events(conn)
    assert (loaded.id, loaded.kind, loaded.ts) == (threshold.id, threshold.kind, T0)
    assert loaded.ts.tzinfo is UTC
    assert loaded.details == {"value": 1500, "limit": 1200, "at": "2024-03-01T12:00:00Z"}
