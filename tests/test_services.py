"""Real services started by the project: they answer, get free ports, and always stop."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from conditions import wait_for
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # where its type is declared
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql

from services import (
    ApacheKafka,
    MqttBroker,
    PostgresServer,
    ServiceStartError,
    TansuBroker,
    free_port,
)
from services.ports import port_is_open

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_dead(pids: list[int]) -> None:
    """Until none of `pids` runs; AssertionError naming those still alive after 15 s."""
    wait_for(lambda: [pid for pid in pids if _alive(pid)], lambda alive: not alive, 15, 0.05)


def _produce(bootstrap: str, topic: str, value: bytes) -> int:
    """Produce one message and return its offset (raises on delivery failure)."""
    producer = Producer({"bootstrap.servers": bootstrap})
    results: list[tuple[object, int | None]] = []
    producer.produce(topic, value, on_delivery=lambda err, msg: results.append((err, msg.offset())))
    assert producer.flush(30) == 0
    err, offset = results[0]
    assert err is None and offset is not None, err
    return offset


def _consume_one(bootstrap: str, topic: str, timeout: float = 30.0) -> bytes:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            value = msg.value()
            assert value is not None
            return value
        raise AssertionError(f"no message on {topic} within {timeout} s")
    finally:
        consumer.close()


def test_kafka_create_produce_consume(kafka_broker: ApacheKafka) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)
    assert _produce(kafka_broker.bootstrap, topic, b"hello") == 0
    assert _consume_one(kafka_broker.bootstrap, topic) == b"hello"
    assert kafka_broker.startup_s is not None
    # The SLF4J binding works: the broker's own INFO log reaches its log file.
    assert kafka_broker.log_path is not None
    log_text = kafka_broker.log_path.read_text()
    assert "Kafka Server started" in log_text
    assert "no-operation" not in log_text


def test_kafka_restart_keeps_data_and_stop_cleans_up() -> None:
    kafka = ApacheKafka()
    with kafka:
        topic = "kept"
        bootstrap, data_dir, first_pid = kafka.bootstrap, kafka.base_dir, kafka.pid
        assert data_dir is not None and first_pid is not None
        _produce(bootstrap, topic, b"before restart")
        kafka.restart()
        assert kafka.bootstrap == bootstrap and kafka.base_dir == data_dir
        assert kafka.pid != first_pid and not _alive(first_pid)
        assert _consume_one(bootstrap, topic) == b"before restart"
        pid = kafka.pid
        assert pid is not None
    assert not _alive(pid)
    assert not port_is_open("127.0.0.1", int(bootstrap.rsplit(":", 1)[1]))
    assert not data_dir.exists()


def test_kafka_start_failure_reports_log_and_cleans_up() -> None:
    kafka = ApacheKafka(properties={"num.partitions": "not-a-number"})
    with pytest.raises(ServiceStartError, match="last lines of") as info:
        kafka.start()
    assert "num.partitions" in str(info.value)
    assert kafka.base_dir is None and kafka.pid is None


def test_postgres_answers(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        table = sql.Identifier(f"t_{uuid.uuid4().hex[:8]}")
        conn.execute(sql.SQL("create table {} (id int primary key, name text)").format(table))
        conn.execute(sql.SQL("insert into {} values (1, 'a')").format(table))
        assert conn.execute(sql.SQL("select name from {}").format(table)).fetchone() == ("a",)
        conn.execute(sql.SQL("drop table {}").format(table))


def test_postgres_stop_kills_process_and_frees_port() -> None:
    server = PostgresServer(use_env=False).start()
    pid, port, base_dir = server.pid, server.port, server.base_dir
    assert pid is not None and port is not None and base_dir is not None
    assert server.url.endswith(f":{port}/smati")
    conn = psycopg.connect(server.url)  # a client still connected does not block stop
    try:
        server.stop()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("select 1")
    finally:
        conn.close()
    assert not _alive(pid)
    assert not port_is_open("127.0.0.1", port)
    assert not base_dir.exists()


def test_mqtt_publish_subscribe(mqtt_broker: MqttBroker) -> None:
    received = threading.Event()
    payloads: list[bytes] = []
    topic = f"test/{uuid.uuid4().hex[:8]}"

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        payloads.append(bytes(msg.payload))
        received.set()

    subscribed = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *args: subscribed.set()
    assert mqtt_broker.port is not None
    sub.connect(mqtt_broker.host, mqtt_broker.port)
    sub.loop_start()
    try:
        sub.subscribe(topic, qos=1)
        assert subscribed.wait(10)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2)
        pub.connect(mqtt_broker.host, mqtt_broker.port)
        pub.loop_start()
        pub.publish(topic, b"payload", qos=1).wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        assert received.wait(10)
        assert payloads == [b"payload"]
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_two_mosquittos_get_different_ports_and_stop_frees_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed")
    caplog.set_level(logging.INFO, logger="services.mqtt")
    with MqttBroker(use_env=False) as first, MqttBroker(use_env=False) as second:
        assert first.port != second.port
        pids = [first.pid, second.pid]
        ports = [first.port, second.port]
        assert first.startup_s is not None and first.startup_s < 10
    assert any("mqtt ready in" in r.getMessage() for r in caplog.records)
    for pid, port in zip(pids, ports, strict=True):
        assert pid is not None and port is not None
        assert not _alive(pid)
        assert not port_is_open("127.0.0.1", port)


def test_tansu_produce() -> None:
    with TansuBroker() as tansu:
        assert _produce(tansu.bootstrap, "tansu-test", b"x") == 0
        pid = tansu.pid
        assert pid is not None
    assert not _alive(pid)


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


_STACK_CHILD = """
import json, signal, sys
from services import ServiceStack
stack = ServiceStack(broker="tansu", use_env=False).start()
pids = [s.pid for s in stack.services]
dirs = [str(s.base_dir) for s in stack.services]
print(json.dumps({"pids": pids, "dirs": dirs, "env": stack.env()}), flush=True)
signal.pause()  # until the test's signal stops the stack
"""


def _start_stack_child() -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMATI_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _STACK_CHILD],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"stack child exited with {proc.wait()}"
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stack_children_die_with_parent(sig: signal.Signals) -> None:
    """SIGTERM stops the stack cleanly; SIGKILL still takes the children (PDEATHSIG)."""
    proc, info = _start_stack_child()
    pids = info["pids"]
    dirs = info["dirs"]
    assert isinstance(pids, list) and isinstance(dirs, list) and len(pids) == 3
    assert all(_alive(pid) for pid in pids)
    env = info["env"]
    assert isinstance(env, dict) and set(env) == {
        "SMATI_KAFKA_BOOTSTRAP",
        "SMATI_DATABASE_URL",
        "SMATI_MQTT_URL",
    }
    try:
        proc.send_signal(sig)
        proc.wait(30)
        _wait_dead(pids)
        if sig == signal.SIGTERM:
            assert proc.returncode == 128 + signal.SIGTERM
            assert not any(Path(d).exists() for d in dirs)  # stopped cleanly
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for d in dirs:  # SIGKILL leaves the temp dirs behind
            shutil.rmtree(d, ignore_errors=True)
