"""Item 6 of issue 18: the read commands, on a real PostgreSQL and Apache Kafka.

Times are shown in the building's zone with the zone shown, or in UTC marked as such.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Producer

from models.dead_letter import DeadLetter, RejectCode
from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import Reading, UsageType
from models.registry_file import parse_registry
from services import ApacheKafka
from smati.cli import main
from smati.demo import DEMO_YAML, demo_registry
from storage.registry_store import load_registry, save_registry
from storage.writer import write_events, write_readings

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LOBBY = "hotel-paris.lobby-temperature"


def smati(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def lobby_readings(db: str, *args: str) -> Result:
    return smati("--database-url", db, "readings", "--usage", LOBBY, *args)


def temperature(minutes: int, value: float) -> Reading:
    return Reading(
        tenant_id="acme",
        usage_id=LOBBY,
        ts=T0 + timedelta(minutes=minutes),
        value=value,
        unit="°C",
        usage_type=UsageType.INSTANT,
        source="mqtt",
        device_id="paris-lobby-01",
        origin=f"smati.raw/0/{minutes}",
    )


@pytest.fixture(scope="module")
def db(database: str) -> Iterator[str]:
    """The demo registry, three lobby temperatures, and events of two tenants."""
    events = [
        DetectionEvent.of(DetectionKind.THRESHOLD_HIGH, "acme", LOBBY, T0, Severity.WARNING),
        DetectionEvent.of(
            DetectionKind.ANOMALY, "acme", LOBBY, T0 + timedelta(hours=1), Severity.INFO, score=0.9
        ),
        DetectionEvent.of(DetectionKind.ANOMALY, "other", "other.gone", T0, Severity.INFO),
    ]
    with psycopg.connect(database) as conn:
        save_registry(conn, demo_registry())
        write_readings(conn, [temperature(0, 19.5), temperature(30, 21.0), temperature(60, 22.5)])
        write_events(conn, events)
        conn.commit()
    yield database


def test_readings_of_a_usage_since_a_time_in_its_buildings_zone(db: str) -> None:
    result = lobby_readings(db, "--since", "2026-11-25T10:30Z")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "TIME                     VALUE  UNIT  FLAGS  DEVICE",
        "2026-11-25 11:30:00 CET  21     °C    -      paris-lobby-01",
        "2026-11-25 12:00:00 CET  22.5   °C    -      paris-lobby-01",
    ]
    limited = lobby_readings(db, "--since", "2026-11-25T09:00Z", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 2
    assert "the first 1 shown" in limited.stderr


def test_readings_as_json_lines_in_utc(db: str) -> None:
    result = lobby_readings(db, "--since", "2026-11-25T11:00+01:00", "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["ts"], row["value"]) for row in rows] == [
        ("2026-11-25T10:00:00+00:00", 19.5),
        ("2026-11-25T10:30:00+00:00", 21.0),
        ("2026-11-25T11:00:00+00:00", 22.5),
    ]


def test_an_unknown_usage_and_a_time_without_zone_are_one_line_errors(db: str) -> None:
    unknown = smati("--database-url", db, "readings", "--usage", "nope")
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: usage 'nope' is not in the registry\n"
    naive = lobby_readings(db, "--since", "2026-11-25T10:00")
    assert naive.exit_code == 2
    assert "has no zone: add Z (UTC) or an offset such as +01:00" in naive.stderr


def test_events_filtered_by_kind_usage_tenant_and_time(db: str) -> None:
    since = ("--since", "2026-11-25T09:00Z")
    anomalies = smati("--database-url", db, "events", "list", "--kind", "anomaly", *since)
    assert anomalies.exit_code == 0, anomalies.output
    lines = anomalies.stdout.splitlines()
    assert lines[0].split() == ["TIME", "TENANT", "USAGE", "KIND", "SEVERITY", "DETAILS"]
    # An unregistered usage's event is shown in UTC, a building's in its zone.
    assert lines[1].split()[:4] == ["2026-11-25", "10:00:00", "UTC", "other"]
    assert lines[2].split() == [
        "2026-11-25", "12:00:00", "CET", "acme", LOBBY, "anomaly", "info", "score=0.9"
    ]  # fmt: skip
    acme = smati("--database-url", db, "events", "list", "--tenant", "acme", *since)
    assert [line.split()[5:7] for line in acme.stdout.splitlines()[1:]] == [
        ["threshold_high", "warning"], ["anomaly", "info"]
    ]  # fmt: skip
    later = smati(
        "--database-url", db, "events", "list", "--usage", LOBBY, "--since", "2026-11-25T10:30Z"
    )
    assert len(later.stdout.splitlines()) == 2
    none = smati("--database-url", db, "events", "list", "--since", "2026-11-26T00:00Z")
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "none found\n")


def test_events_of_one_time_are_listed_in_the_order_they_were_found(db: str) -> None:
    """A usage's first reading turns it green at the time it was announced violet: the two
    events share their time, and their ids (hashes) put green first."""
    at = T0 + timedelta(hours=3)
    violet, green = (
        DetectionEvent.of(
            DetectionKind.TRANSMISSION_STATUS, "beta", "beta.boiler", at, Severity.INFO,
            discriminator=status, status=status, previous=previous,
        )
        for status, previous in (("violet", None), ("green", "violet"))
    )  # fmt: skip
    assert green.id < violet.id
    for event in (violet, green):  # one transaction each, as the worker's commits
        with psycopg.connect(db) as conn:
            write_events(conn, [event])
    since = ("--since", "2026-11-25T09:00Z")
    listed = smati("--database-url", db, "events", "list", "--tenant", "beta", "--json", *since)
    assert [json.loads(line)["details"]["status"] for line in listed.stdout.splitlines()] == [
        "violet",
        "green",
    ]


def test_registry_show_is_a_tree_with_zones_and_devices(db: str) -> None:
    shown = smati("--database-url", db, "registry", "show").stdout.splitlines()
    assert shown[0] == "acme  ACME Hospitality"
    assert "  hotel-paris  Hotel Paris Opera  (hotel, Europe/Paris)" in shown
    assert "      hotel-paris.electricity  index  kWh  every 3600 s  index_max 999999" in shown
    assert "devices:" in shown
    assert (
        "  paris-lobby-01  (acme, generic-json, tx-paris-lobby): temperature -> "
        "hotel-paris.lobby-temperature, co2 -> hotel-paris.lobby-co2"
    ) in shown


def test_registry_export_loads_back_to_the_same_registry(db: str) -> None:
    exported = smati("--database-url", db, "registry", "export")
    assert exported.exit_code == 0, exported.output
    with psycopg.connect(db) as conn:
        assert parse_registry(exported.stdout, "export.yaml") == load_registry(conn)
    assert parse_registry(exported.stdout) == parse_registry(DEMO_YAML)


def dead_letter(code: RejectCode, device: str) -> bytes:
    return DeadLetter(
        code=code,
        reason=f"{code} of {device}",
        stage="decode",
        origin="smati.raw/0/1",
        device_id=device,
        failed_at=datetime.now(UTC),
        original=b"{}",
    ).to_json()


def test_dead_letters_since_a_time_and_of_a_reason(kafka_broker: ApacheKafka) -> None:
    prefix = f"reads-{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.dead-letter"
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    for age_min, code, device in (
        (120, RejectCode.MALFORMED_PAYLOAD, "old"),
        (10, RejectCode.IMPLAUSIBLE_VALUE, "recent-1"),
        (5, RejectCode.BAD_TOPIC, "recent-2"),
    ):
        value = dead_letter(code, device)
        producer.produce(
            topic, key=device.encode(), value=value, timestamp=now_ms - age_min * 60_000
        )
    assert producer.flush(30) == 0
    env = ("--kafka-bootstrap", kafka_broker.bootstrap)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMATI_TOPIC_PREFIX", prefix)
        recent = smati(*env, "dead-letters", "list", "--since", "1h")
        implausible = smati(
            *env, "dead-letters", "list", "--since", "1d", "--reason", "implausible_value"
        )
        everything = smati(*env, "dead-letters", "list", "--since", "1d", "--json")
    assert recent.exit_code == 0, recent.output
    header, *rows = recent.stdout.splitlines()
    assert header.split() == ["FAILED", "AT", "CODE", "STAGE", "DEVICE", "USAGE", "REASON"]
    assert [row.split()[3:6] for row in rows] == [
        ["implausible_value", "decode", "recent-1"], ["bad_topic", "decode", "recent-2"]
    ]  # fmt: skip
    assert all(row.split()[2] == "UTC" for row in rows)
    assert [row.split()[5] for row in implausible.stdout.splitlines()[1:]] == ["recent-1"]
    devices = {json.loads(line)["device_id"] for line in everything.stdout.splitlines()}
    assert devices == {"old", "recent-1", "recent-2"}
