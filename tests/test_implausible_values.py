"""Item 4 of issue 18: values no sensor can report are refused as `implausible_value`.

Physical bounds per unit, a usage's own `plausible` range from the registry, and an index
meter's register (`index_max`) as a hard bound; unit tests, then through a real worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from confluent_kafka import Producer
from conftest import pipeline_settings, prepared_run

from models.dead_letter import RejectCode
from models.reading import UsageType
from models.registry import Usage
from models.registry_file import RegistryFileError, parse_registry
from models.settings import Settings
from models.units import physical_bounds
from models.uplink import RawUplink
from models.validation import DeviceIndex, decode_uplink, implausible
from services import ApacheKafka, MqttBroker, wait_until
from services.processes import RoleProcess
from storage.registry_store import load_registry, save_registry
from stream.topics import read_topic

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SITE = """
tenants:
  - id: t
    entities:
      - id: office
        timezone: Europe/Paris
        equipment:
          - id: office.meters
            usages:
              - {id: office.co2, type: instant, unit: ppm, period_s: 600}
              - {id: office.elec, type: index, unit: kWh, period_s: 600, index_max: 999999}
              - id: office.flow-temperature
                type: instant
                unit: °C
                period_s: 600
                plausible: {min: 10, max: 95}
devices:
  - id: office-sensor
    tenant: t
    channels: {co2: office.co2, index: office.elec, flow: office.flow-temperature}
"""
REGISTRY = parse_registry(SITE, "site.yaml")
INDEX = DeviceIndex.of(REGISTRY)


def usage(**fields: object) -> Usage:
    return Usage.model_validate({"id": "u", "type": "instant", "period_s": 60, **fields})


@pytest.mark.parametrize(
    ("unit", "value", "refused"),
    [
        ("ppm", 1e308, True),
        ("ppm", 50_001, True),
        ("ppm", -1, True),
        ("ppm", 4_800, False),
        ("°C", 150.5, True),
        ("°C", -61, True),
        ("degC", -20, False),
        ("%", 100.1, True),
        ("%", 55, False),
        ("kWh", 2e10, True),
        ("Wh", 2e13, True),
        ("Wh", 2e12, False),
        ("m3", -3, False),  # a negative consumption is a defect for the rules, not implausible
        ("pulse", 1e30, False),  # no bounds known for this unit
    ],
)
def test_physical_bounds_per_unit(unit: str, value: float, refused: bool) -> None:
    assert (implausible(usage(unit=unit), value) is not None) is refused


def test_bounds_of_a_derived_unit_follow_its_factor() -> None:
    watt_hours, kilowatt_hours = physical_bounds("Wh"), physical_bounds("kWh")
    assert watt_hours is not None and kilowatt_hours is not None
    assert watt_hours.high == kilowatt_hours.high * 1e3
    assert physical_bounds("pulse") is None


def test_index_max_is_a_hard_bound() -> None:
    meter = usage(type=UsageType.INDEX, unit="kWh", index_max=999_999)
    assert implausible(meter, 999_999) is None
    assert implausible(meter, 0) is None
    assert implausible(meter, 1e30) == "index 1e+30 is outside the meter's register 0..999999"
    assert implausible(meter, -0.5) is not None


def test_the_registry_overrides_the_units_bounds_on_the_sides_it_gives() -> None:
    boiler = usage(unit="°C", plausible={"min": 10})
    assert implausible(boiler, 9) == (
        "9 °C is implausible: outside 10..150 °C (the usage's plausible range in the registry)"
    )
    assert implausible(boiler, 149) is None
    assert implausible(boiler, 151) is not None
    unbounded = usage(unit="pulse", plausible={"max": 10})
    assert implausible(unbounded, -1e300) is None
    assert implausible(unbounded, 11) is not None


def test_a_plausible_range_upside_down_is_a_registry_error_on_its_line() -> None:
    bad = SITE.replace("plausible: {min: 10, max: 95}", "plausible: {min: 95, max: 10}")
    with pytest.raises(RegistryFileError) as raised:
        parse_registry(bad, "site.yaml")
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "plausible" in text)
    assert f"site.yaml:{line}:" in str(raised.value)
    assert "plausible min (95.0) must be below max (10.0)" in str(raised.value)


def uplink(values: dict[str, object]) -> RawUplink:
    payload = json.dumps({"time": NOW.isoformat(), "values": values}).encode()
    return RawUplink(source="mqtt", device_id="office-sensor", received_at=NOW, payload=payload)


def test_decoding_refuses_each_implausible_value_and_keeps_the_others() -> None:
    decoded = decode_uplink(uplink({"co2": 1e308, "index": 1e30, "flow": 45.0}), "raw/0/1", INDEX)
    assert [(r.usage_id, r.value) for r in decoded.readings] == [("office.flow-temperature", 45.0)]
    refused = {r.usage_id: r for r in decoded.rejections}
    assert {r.code for r in refused.values()} == {RejectCode.IMPLAUSIBLE_VALUE}
    assert refused["office.co2"].reason == (
        "office.co2: 1e+308 ppm is implausible: outside 0..50000 ppm "
        "(beyond any CO2 sensor's range)"
    )
    assert "register 0..999999" in refused["office.elec"].reason


def test_a_converted_value_is_checked_in_the_usages_unit() -> None:
    decoded = decode_uplink(uplink({"index": {"value": 2e9, "unit": "Wh"}}), "raw/0/2", INDEX)
    (rejection,) = decoded.rejections
    assert rejection.code is RejectCode.IMPLAUSIBLE_VALUE
    assert "index 2e+06 is outside" in rejection.reason


@pytest.mark.integration
def test_the_plausible_range_survives_the_database(database: str) -> None:
    with psycopg.connect(database) as conn:
        save_registry(conn, REGISTRY)
        loaded = load_registry(conn)
    (ref,) = [r for r in loaded.usage_refs() if r.usage.id == "office.flow-temperature"]
    assert ref.usage.plausible is not None
    assert (ref.usage.plausible.min, ref.usage.plausible.max) == (10, 95)


@dataclass
class Worker:
    settings: Settings
    process: RoleProcess


@pytest.fixture(scope="module")
def worker(
    kafka_broker: ApacheKafka,
    mqtt_broker: MqttBroker,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """A `smati worker` child process on the test services, with this file's registry."""
    run = uuid.uuid4().hex[:8]
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, "plausible", run)
    settings, env = prepared_run(overrides, database, REGISTRY)
    process = RoleProcess(["worker"], env, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        process.wait_for_line("Ready", timeout=90)
        yield Worker(settings, process)
    finally:
        process.stop()


@pytest.mark.integration
def test_the_worker_dead_letters_implausible_values(worker: Worker, database: str) -> None:
    settings = worker.settings
    now = datetime.now(UTC).replace(microsecond=0)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    sent = RawUplink(
        source="mqtt",
        device_id="office-sensor",
        received_at=now,
        payload=json.dumps(
            {"time": now.isoformat(), "values": {"co2": 1e308, "index": 1e30, "flow": 45}}
        ).encode(),
    )
    producer.produce(settings.topic("raw"), key=b"office-sensor", value=sent.to_json())
    assert producer.flush(30) == 0

    def two_dead_letters() -> list[dict[str, str]]:
        letters = read_topic(settings.kafka_bootstrap, settings.topic("dead-letter"))
        return [json.loads(letter) for letter in letters] if len(letters) >= 2 else []

    letters = wait_until(two_dead_letters, timeout=60, what="two dead letters", interval=0.5)
    assert {(d["code"], d["usage_id"]) for d in letters} == {
        ("implausible_value", "office.co2"),
        ("implausible_value", "office.elec"),
    }
    with psycopg.connect(database) as conn:
        stored = wait_until(
            lambda: conn.execute("SELECT usage_id, value FROM readings").fetchall(),
            timeout=60,
            what="the plausible reading stored",
            interval=0.5,
        )
    assert stored == [("office.flow-temperature", 45.0)]
    worker.process.raise_if_dead()


@pytest.mark.integration
def test_the_workers_log_is_json_lines_faust_included(worker: Worker) -> None:
    """Issue 18 item 9: Faust's own records go through the project's logging set-up."""
    records = [json.loads(line) for line in worker.process.log().splitlines()]
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])
    assert any(r["logger"].startswith("faust.") for r in records)
    assert any(r["message"].endswith("Ready") for r in records)
