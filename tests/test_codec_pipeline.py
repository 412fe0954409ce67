"""JavaScript codecs in a real worker (a child process, on Apache Kafka and PostgreSQL): the
registry's codec entries (an npm package's, and codec files beside the registry file) decode
the uplinks of a batch; a codec that loops forever or allocates without end is stopped
within its limits, its uplink dead-lettered with the reason, and the worker goes on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from conditions import wait_for, wait_until_caught_up
from confluent_kafka import Producer
from conftest import pipeline_settings, prepared_run
from radio_messages import chirpstack_uplink, sigfox_callback

from models.registry_file import parse_registry
from models.settings import Settings
from models.uplink import RawUplink
from services import ApacheKafka, MqttBroker
from services.processes import RoleProcess
from smati.codecs_cli import with_programs
from stream.topics import read_topic

pytestmark = pytest.mark.integration
SITE = Path(__file__).parent / "codecs" / "site.yaml"
NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(minutes=10)
TIME_LIMIT_S = 0.3
# An EM300-TH frame as Milesight documents it: battery 100 %, 27.3 °C, 54 %.
EM300_TH = bytes.fromhex("0175640367110104686c")


@dataclass
class Run:
    settings: Settings
    worker: RoleProcess
    producer: Producer

    def send(self, source: str, device: str, payload: bytes, at: datetime = NOW) -> None:
        uplink = RawUplink(source=source, device_id=device, received_at=at, payload=payload)
        self.producer.produce(self.settings.topic("raw"), uplink.to_json(), device.encode())

    def flush(self) -> None:
        assert self.producer.flush(10) == 0


@pytest.fixture(scope="module")
def run(
    kafka_broker: ApacheKafka,
    mqtt_broker: MqttBroker,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    name = uuid.uuid4().hex[:8]
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, "codecs", name) | {
        "codec_time_limit_s": TIME_LIMIT_S,
        "codec_memory_limit_mb": 32,
    }
    site = with_programs(parse_registry(SITE.read_text(), str(SITE)), SITE.parent)
    settings, env = prepared_run(overrides, database, site)
    logs = tmp_path_factory.mktemp("codec-logs")
    worker = RoleProcess(["worker"], env, logs / "worker.log")
    try:
        worker.wait_for_line("registry loaded")
        yield Run(settings, worker, Producer({"bootstrap.servers": settings.kafka_bootstrap}))
    finally:
        worker.stop()


def rows(database: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(query).fetchall()


def readings(database: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for usage, value in rows(database, "SELECT usage_id, value FROM readings ORDER BY ts, value"):
        found.setdefault(usage, []).append(value)
    return found


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    records = read_topic(settings.kafka_bootstrap, settings.topic("dead-letter"))
    return [orjson.loads(value) for value in records]


def test_one_batch_of_js_codecs_with_a_looping_and_a_hogging_one(run: Run, database: str) -> None:
    adeunis_temp = bytes.fromhex("43A2D1015E82FF06")
    em300_eui, mac_only = "24E124136B000001", b"\x03"
    run.send("sigfox", "1A2B3C", sigfox_callback("1A2B3C", adeunis_temp, seq=5, at=NOW))
    run.send("mqtt", "misbehaving-01", bytes([1]))  # loops
    run.send("chirpstack", em300_eui, chirpstack_uplink(em300_eui, EM300_TH, f_port=1, f_cnt=1,
                                                        at=NOW))  # fmt: skip
    run.send("mqtt", "misbehaving-01", bytes([2]))  # allocates without end
    run.send("mqtt", "misbehaving-01", bytes([3]))  # throws
    run.send("chirpstack", em300_eui, chirpstack_uplink(em300_eui, mac_only, f_port=0, f_cnt=2,
                                                        at=LATER))  # fmt: skip
    run.send("mqtt", "misbehaving-01", bytes([42]))
    run.flush()
    wait_until_caught_up(run.settings)

    assert readings(database) == {
        "lab.probe": [35.0],
        "lab.temperature": [27.3],
        "lab.humidity": [54.0],
        "lab.level": [42.0],
    }
    letters = sorted((d["code"], d["reason"]) for d in dead_letters(run.settings))
    assert [code for code, _ in letters] == ["codec_error", "codec_error", "codec_timeout"]
    assert sorted(reason for _, reason in letters) == [
        "misbehaving payload: codec 'misbehaving' did not finish within 0.3 s",
        "misbehaving payload: codec 'misbehaving' exceeded its memory limit of 32 MB",
        "misbehaving payload: codec 'misbehaving': TypeError: no decoder for frame 3",
    ]
    # Port 0 (MAC commands only): the frame is recorded, no reading and no dead letter.
    frames = rows(database, "SELECT f_port, f_cnt FROM radio_frames WHERE device_id = "
                            "'em300-th-01' ORDER BY f_cnt")  # fmt: skip
    assert frames == [(1, 1), (0, 2)]

    # The worker goes on: a later uplink is decoded and stored.
    run.send("mqtt", "misbehaving-01", bytes([43]), LATER)
    run.flush()
    wait_for(lambda: readings(database).get("lab.level"), lambda levels: levels == [42.0, 43.0])
    run.worker.raise_if_dead()
