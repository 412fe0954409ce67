"""End to end on real services: MQTT -> connector -> Apache Kafka -> worker -> PostgreSQL.

The worker and the connector run as `smati` child processes, as in production. Good and
bad messages are published over MQTT; every good reading must be stored exactly once,
every bad one must be in the dead-letter topic with its reason, the injected defects
must be detected, and the worker must still be running.
"""

from __future__ import annotations

import base64
import json
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import yaml
from click.testing import CliRunner
from conditions import wait_for, wait_until_caught_up
from confluent_kafka import Producer
from conftest import device_publisher, pipeline_settings, prepared_run

from models.detection import TRANSMISSION_KINDS
from models.registry import Registry
from models.settings import Settings
from services import ApacheKafka, MqttBroker
from services.ports import port_is_open
from services.processes import RoleProcess
from smati.cli import main as smati
from smati.demo import DEMO_YAML, demo_registry
from smati.simulator import Message, bad_messages, building_messages
from storage.registry_store import save_registry
from stream.topics import read_records, read_topic

pytestmark = pytest.mark.integration
STEP = timedelta(seconds=5)
STEPS = 100
DEVICES = len(demo_registry().devices)
VALUES = sum(len(device.channels) for device in demo_registry().devices)
"""Messages and values of one step of the demo building."""
Row = tuple[str, datetime, float]


@dataclass
class Pipeline:
    settings: Settings
    registry: Registry
    worker: RoleProcess
    connector: RoleProcess
    publish: Callable[[list[Message]], None]


@pytest.fixture(scope="module")
def pipeline(
    kafka_broker: ApacheKafka,
    mqtt_broker: MqttBroker,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    run = uuid.uuid4().hex[:8]
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, "test", run) | {
        "mqtt_client_id": f"connector-{run}",
        "mqtt_topics": [f"{run}/devices/{{device_id}}/up"],
        "transmission_check_s": 0.5,
        "web_host": "127.0.0.2",  # a loopback address of its own: see where it listens
    }
    registry = demo_registry()
    settings, env = prepared_run(overrides, database, registry)
    logs = tmp_path_factory.mktemp("pipeline-logs")
    worker = RoleProcess(["worker"], env, logs / "worker.log")
    connector = RoleProcess(["connector", "mqtt"], env, logs / "connector.log")
    try:
        with device_publisher(mqtt_broker, run) as publish:
            connector.wait_for_line("subscribed to")
            worker.wait_for_line("Ready", timeout=90)
            yield Pipeline(settings, registry, worker, connector, publish)
    finally:
        connector.stop()
        worker.stop()


def expected_readings(registry: Registry, messages: list[Message]) -> set[Row]:
    """(usage, time, value) of every value of every message, read straight from its JSON."""
    devices = {device.id: device for device in registry.devices}
    expected = set()
    for message in messages:
        device = devices[message.topic.split("/")[2]]
        payload = json.loads(message.payload)
        ts = datetime.fromisoformat(payload["time"])
        for channel, value in payload["values"].items():
            expected.add((device.channels[channel], ts, float(value)))
    return expected


def stored_readings(database: str) -> list[Row]:
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT usage_id, ts, value FROM readings").fetchall()


@pytest.fixture(scope="module")
def published(pipeline: Pipeline) -> dict[str, list[Message]]:
    """A history of the demo building with its defects, then bad messages and a duplicate."""
    now = datetime.now(UTC).replace(microsecond=0)
    history = building_messages(pipeline.registry, now - STEPS * STEP, STEP)
    good = [message for _, (_, message) in zip(range(STEPS * DEVICES), history, strict=False)]
    bad = bad_messages(pipeline.registry, now)
    duplicate = good[-1]
    pipeline.publish(good + bad + [duplicate])
    # A producer that bypasses the connector and writes something that is no uplink at all.
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap})
    producer.produce(pipeline.settings.topic("raw"), key=b"rogue", value=b"\x00not an uplink")
    producer.flush(10)
    return {"good": good, "bad": bad, "duplicate": [duplicate]}


def test_every_good_reading_is_stored_exactly_once(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    expected = expected_readings(pipeline.registry, published["good"])
    wait_for(lambda: len(stored_readings(database)), lambda count: count >= len(expected), 90)
    wait_until_caught_up(pipeline.settings)  # so a late extra row would show now
    stored = stored_readings(database)
    assert len(stored) == len(expected) == STEPS * VALUES
    assert {(usage, ts, value) for usage, ts, value in stored} == expected


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    values = read_topic(settings.kafka_bootstrap, settings.topic("dead-letter"))
    return [json.loads(value) for value in values]


def test_every_bad_message_is_dead_lettered_with_its_reason(
    pipeline: Pipeline, published: dict[str, list[Message]]
) -> None:
    wait_for(lambda: len(dead_letters(pipeline.settings)), lambda count: count >= 9, 90)
    letters = dead_letters(pipeline.settings)
    codes = Counter(letter["code"] for letter in letters)
    assert codes == {
        "malformed_payload": 1,
        "unknown_device": 1,
        "invalid_value": 1,
        "wrong_unit": 1,
        "future_timestamp": 1,
        "unknown_channel": 1,
        "duplicate": 2,  # the duplicated message carries two channels
        "bad_envelope": 1,
    }
    by_code = {letter["code"]: letter for letter in letters}
    originals = {m.note: m.payload for m in published["bad"]}
    for code in ("malformed_payload", "unknown_device", "invalid_value", "wrong_unit"):
        letter = by_code[code]
        assert letter["reason"], code
        assert letter["stage"] == "decode"
        assert _base64(letter["original"]) == originals[code]
    assert "ghost-device-404" in by_code["unknown_device"]["reason"]
    assert (
        "NaN" in by_code["invalid_value"]["reason"] or "nan" in by_code["invalid_value"]["reason"]
    )
    assert "°F" in by_code["wrong_unit"]["reason"]
    assert by_code["duplicate"]["stage"] == "sink"
    assert "duplicate of the reading stored from origin" in by_code["duplicate"]["reason"]
    assert _base64(by_code["bad_envelope"]["original"]) == b"\x00not an uplink"
    assert "not a raw uplink envelope" in by_code["bad_envelope"]["reason"]


def _base64(text: str) -> bytes:
    return base64.b64decode(text)


def event_counts(database: str) -> Counter[str]:
    """Detections by kind, but those of transmission monitoring (tested on their own)."""
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT kind, count(*) FROM detection_events GROUP BY kind").fetchall()
    return Counter({kind: n for kind, n in rows if kind not in TRANSMISSION_KINDS})


def test_injected_defects_are_detected(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    # 100 steps hold two defect cycles of 60 steps, cut at step 100 (see smati.simulator):
    # glitches at 12 and 72, negative consumptions at 24 and 84, resets at 36 and 96, one
    # rollover per meter with an index_max, and in the first cycle only: four instants
    # above max at 48-51 and two temperatures below min at 54.
    expected = {
        "decreasing_index": 2,
        "negative_consumption": 2,
        "meter_reset": 2,
        "index_rollover": 2,
        "threshold_high": 4,
        "threshold_low": 2,
        "threshold_cleared": 6,
    }
    wait_for(lambda: event_counts(database), lambda counts: counts == expected, 60)
    with psycopg.connect(database) as conn:
        usage, details = conn.execute(
            "SELECT usage_id, details FROM detection_events WHERE kind = 'decreasing_index' "
            "ORDER BY ts LIMIT 1"
        ).fetchone() or ("", {})
    assert usage == "hotel-paris.gas"
    assert details["drop"] > 300


def status_history(database: str, usage_id: str) -> list[tuple[str, datetime]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT status, ts FROM status_history WHERE usage_id = %s ORDER BY ts, status",
            (usage_id,),
        ).fetchall()


def smati_status(settings: Settings, *args: str) -> str:
    flags = ["--database-url", settings.database_url.get_secret_value(), "status", *args]
    result = CliRunner().invoke(smati, flags)
    assert result.exit_code == 0, result.output
    return result.output


def test_silent_usage_turns_orange_then_red_without_any_reading(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    """The history stops: nothing arrives, yet the usages turn orange, then red, gaps open."""
    usage = "hotel-paris.gas"
    wait_for(
        lambda: status_history(database, usage),
        lambda history: [s for s, _ in history] == ["green", "orange", "red"],
        90,
    )
    last = max(ts for u, ts, _ in stored_readings(database) if u == usage)
    (_, first), (_, orange), (_, red) = status_history(database, usage)
    assert first == last - (STEPS - 1) * STEP  # green from its first reading: no false alarm
    assert (orange, red) == (last + 1.5 * STEP, last + 5 * STEP)
    rows = {row["usage_id"]: row for row in json.loads(smati_status(pipeline.settings, "--json"))}
    assert rows[usage]["status"] == "red"
    assert rows[usage]["period_estimated_s"] == STEP.total_seconds()
    assert rows[usage]["open_gap_start"] == last.isoformat()
    table = smati_status(pipeline.settings, "--entity", "hotel-paris")
    assert "hotel-paris.gas" in table and "office-lyon" not in table
    assert "red" in table and "3600/5" in table  # registered hourly, estimated 5 s


def test_worker_survives_bad_input_and_keeps_storing(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    wait_for(lambda: len(dead_letters(pipeline.settings)), lambda count: count >= 9, 90)
    pipeline.worker.raise_if_dead()
    pipeline.connector.raise_if_dead()
    later = datetime.now(UTC).replace(microsecond=0)
    payload = json.dumps({"time": later.isoformat(), "values": {"index": 1.0e6 - 1}}).encode()
    pipeline.publish([Message("smati/devices/lyon-elec-01/up", payload)])
    wait_for(
        lambda: set(stored_readings(database)),
        lambda stored: ("office-lyon.electricity", later, 1.0e6 - 1) in stored,
        90,
    )


def test_worker_metrics_count_what_it_did(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    wait_for(lambda: len(stored_readings(database)), lambda count: count >= STEPS * VALUES, 90)
    url = f"http://{pipeline.settings.web_host}:{pipeline.settings.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("smati_")
    }
    assert samples['smati_dead_letters_total{code="unknown_device",stage="decode"}'] == 1
    assert samples['smati_detections_total{kind="meter_reset"}'] >= 2
    assert samples["smati_readings_stored_total"] >= STEPS * VALUES


def test_worker_serves_its_pages_on_its_web_host_only(pipeline: Pipeline) -> None:
    """SMATI_WEB_HOST is where the worker listens, not only the name of its server."""
    host, port = pipeline.settings.web_host, pipeline.settings.web_port
    wait_for(lambda: port_is_open(host, port), bool, 90)
    assert not port_is_open("127.0.0.1", port)


def test_device_registered_while_running_is_accepted(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    document = yaml.safe_load(DEMO_YAML)
    lyon = document["tenants"][0]["entities"][1]
    lyon["equipment"].append(
        {
            "id": "office-lyon.water-meter",
            "usages": [{"id": "office-lyon.water", "type": "index", "unit": "m3", "period_s": 5}],
        }
    )
    document["devices"].append(
        {"id": "lyon-water-01", "tenant": "acme", "channels": {"volume": "office-lyon.water"}}
    )
    loads = pipeline.worker.log().count("registry loaded")
    with psycopg.connect(database) as conn:
        save_registry(conn, Registry.model_validate(document))
    wait_for(lambda: pipeline.worker.log().count("registry loaded"), lambda n: n > loads, 30)
    at = datetime.now(UTC).replace(microsecond=0)
    payload = json.dumps({"time": at.isoformat(), "values": {"volume": 12.5}}).encode()
    pipeline.publish([Message("smati/devices/lyon-water-01/up", payload)])
    wait_for(
        lambda: set(stored_readings(database)),
        lambda stored: ("office-lyon.water", at, 12.5) in stored,
        90,
    )


def test_worker_logged_no_crash(pipeline: Pipeline, published: dict[str, list[Message]]) -> None:
    pipeline.worker.raise_if_dead()
    log = pipeline.worker.log()
    assert "Traceback" not in log
    # JSON lines; librdkafka's own lines (`%4|...`) bypass Python's logging.
    records = [json.loads(line) for line in log.splitlines() if not line.startswith("%")]
    assert records and not [r for r in records if r["level"] == "critical"]
    # aiokafka logs the coordinator of a brand-new broker loading as an error, then retries.
    errors = [r["message"] for r in records if r["level"] == "error"]
    assert all("GroupCoordinatorNotAvailableError" in message for message in errors), errors


def test_usage_state_lives_on_the_raw_partition_of_its_device(
    pipeline: Pipeline, published: dict[str, list[Message]], database: str
) -> None:
    """So a worker that takes over a raw partition watches the silence of its usages."""
    wait_for(lambda: len(stored_readings(database)), lambda count: count >= STEPS * VALUES, 90)
    bootstrap = pipeline.settings.kafka_bootstrap
    raw = {
        r.key.decode(): r.partition for r in read_records(bootstrap, pipeline.settings.topic("raw"))
    }
    with psycopg.connect(database) as conn:
        fed = conn.execute(
            "SELECT DISTINCT s.usage_id, s.raw_partition, r.device_id FROM usage_states s"
            " JOIN readings r ON r.usage_id = s.usage_id"
        ).fetchall()
    assert len(fed) >= 9 and len({partition for _, partition, _ in fed}) > 1
    assert all(partition == raw[device] for _, partition, device in fed), fed
