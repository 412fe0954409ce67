"""Item 6 of issue 21, end to end on real services: `smati downlink send` puts a downlink
on The Things Stack's or ChirpStack's MQTT topic (Mosquitto) in the server's own format,
`smati connector downlinks` follows the server's events into the downlink's state, and
the webhook connector answers a bidirectional Sigfox callback with the queued downlink.

The network servers are played by an MQTT client that reads what SMATI pushes and
publishes their events in their documented formats (network_downlinks).
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from commands import smati
from conditions import wait_for
from conftest import pipeline_settings, prepared_run
from network_downlinks import chirpstack_downlink_event, tts_downlink_event
from paho.mqtt.enums import CallbackAPIVersion
from radio_messages import radio_site, sigfox_callback

from connectors.downlinks import DownlinkNotPushed, push
from models.registry import NetworkServer, Registry
from services import ApacheKafka, MqttBroker, PostgresServer, free_port
from services.mqtt import ACL_FILE, PASSWORD_FILE, MqttAccess, write_password_file
from services.processes import RoleProcess

pytestmark = pytest.mark.integration

TTS_APP, CHIRPSTACK_APP = "smati-hq@acme-corp", "17c82e96-be03-4f38-aef3-f83d48582d97"
TTS_DEVICE, CHIRPSTACK_DEVICE, SIGFOX_DEVICE = "elsys-meeting-room", "milesight-pulse-01", "1A2B3C"
SECRET = "acme-webhook-secret"
CLIMATE_EUI = "24E124136B0000AA"
SIGFOX_TYPES = {"acme": "5f3a1e8c9b7d6e0012345678", "globex": "6b4c2f9dab8e7f0012345678"}


def downlink_site() -> Registry:
    """The radio site, and a ChirpStack device decoded by a JavaScript codec the project
    wrote (benchmarks/codecs/tlv-climate.js), whose `encodeDownlink` sets its interval."""
    site = radio_site().model_dump()
    program = (Path(__file__).parents[1] / "benchmarks" / "codecs" / "tlv-climate.js").read_text()
    site["codecs"] = [{"id": "tlv-climate", "program": program}]
    site["transceivers"] += ({"id": CLIMATE_EUI, "network": "lorawan"},)
    climate = {"temperature": "hq.store-temperature"}
    site["devices"] += (
        {"id": "climate-01", "tenant": "acme", "model": "tlv-climate", "channels": climate}
        | {"transceiver": CLIMATE_EUI, "binding": "acme-chirpstack"},
        {"id": "mqtt-probe", "tenant": "acme", "channels": climate},  # on no network server
    )
    return Registry.model_validate(site)


@dataclass
class NetworkServers:
    """An MQTT client in the network servers' place: what SMATI pushed, by topic."""

    client: mqtt.Client
    pushed: dict[str, list[bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, _: object, __: object, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.pushed.setdefault(message.topic, []).append(bytes(message.payload))

    def received(self, topic: str, downlink_id: uuid.UUID) -> dict[str, Any]:
        """The one message pushed on `topic` for that downlink, once it came."""

        def bodies() -> list[bytes]:
            with self.lock:
                return [b for b in self.pushed.get(topic, []) if str(downlink_id).encode() in b]

        ours = wait_for(bodies, lambda got: len(got) > 0)
        assert len(ours) == 1, ours
        message: dict[str, Any] = json.loads(ours[0])
        return message

    def publish(self, topic: str, body: bytes) -> None:
        self.client.publish(topic, body, qos=1).wait_for_publish(timeout=10)


@dataclass
class Site:
    env: dict[str, str]
    database: str
    network: NetworkServers
    webhooks: str
    processes: list[RoleProcess]

    def smati(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return smati(*args, **{**self.env, **env})

    def send(self, *args: str, **env: str) -> uuid.UUID:
        """`smati downlink send ARGS`; the id it printed."""
        result = self.smati("downlink", "send", "--tenant", "acme", *args, **env)
        assert result.returncode == 0, result.stderr
        return uuid.UUID(result.stdout.split()[1])

    def downlinks(self, device: str) -> dict[uuid.UUID, dict[str, Any]]:
        """`smati downlink list --json` of an acme device, by id."""
        result = self.smati("downlink", "list", "--tenant", "acme", "--device", device, "--json")
        assert result.returncode == 0, result.stderr
        rows = (json.loads(line) for line in result.stdout.splitlines())
        return {uuid.UUID(row["id"]): row for row in rows}

    def state(self, downlink_id: uuid.UUID) -> tuple[str, str]:
        with psycopg.connect(self.database) as conn:
            row = conn.execute(
                "SELECT state, detail FROM downlinks WHERE id = %s", (downlink_id,)
            ).fetchone()
        assert row is not None
        return row[0], row[1]

    def wait_for_state(self, downlink_id: uuid.UUID, state: str) -> str:
        """Until the downlink is in `state`; its detail."""
        return wait_for(lambda: self.state(downlink_id), lambda seen: seen[0] == state)[1]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), result.stderr
    return last.removeprefix("Error: ")


@pytest.fixture(scope="module")
def site(
    kafka_broker: ApacheKafka,
    mqtt_broker: MqttBroker,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    run = uuid.uuid4().hex[:8]
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, "downlinks", run) | {
        "webhook_port": free_port(),
        "webhook_secrets": {"acme": SECRET, "globex": "globex-secret"},
        "mqtt_client_id": f"downlinks-{run}",
    }
    settings, env = prepared_run(overrides, database, downlink_site())
    logs = tmp_path_factory.mktemp("downlink-logs")
    followers = [
        RoleProcess(["connector", "downlinks", "--source", s], env, logs / f"{s}.log")
        for s in ("tts", "chirpstack")
    ]
    webhooks = RoleProcess(["connector", "webhooks"], env, logs / "webhooks.log")
    network = NetworkServers(mqtt.Client(CallbackAPIVersion.VERSION2, f"network-{run}"))
    network.client.on_message = network.on_message
    assert mqtt_broker.port is not None
    network.client.connect(mqtt_broker.host, mqtt_broker.port)
    network.client.subscribe(
        [("v3/+/devices/+/down/push", 1), ("application/+/device/+/command/down", 1)]
    )
    network.client.loop_start()
    try:
        for process in followers:
            process.wait_for_line("subscribed to")
        webhooks.wait_for_line("Running on")
        url = f"http://127.0.0.1:{settings.webhook_port}"
        yield Site(env, database, network, url, [*followers, webhooks])
    finally:
        network.client.loop_stop()
        network.client.disconnect()
        for process in [*followers, webhooks]:
            process.stop()


def test_a_tts_downlink_is_pushed_in_its_format_and_follows_its_events(site: Site) -> None:
    downlink_id = site.send(
        "--device", TTS_DEVICE, "--port", "15", "--payload", "BEEF", "--confirmed"
    )
    topic = f"v3/{TTS_APP}/devices/{TTS_DEVICE}/down"
    assert site.network.received(f"{topic}/push", downlink_id) == {
        "downlinks": [
            {
                "f_port": 15,
                "frm_payload": "vu8=",
                "priority": "NORMAL",
                "confirmed": True,
                "correlation_ids": [f"smati:downlink:{downlink_id}"],
            }
        ]
    }
    assert site.state(downlink_id) == ("queued", "")

    def event(kind: str, of: uuid.UUID = downlink_id) -> None:
        correlation = f"smati:downlink:{of}"
        body = tts_downlink_event(kind, TTS_APP, TTS_DEVICE, correlation, b"\xbe\xef", f_port=15)
        site.network.publish(f"{topic}/{kind}", body)

    event("queued")
    event("sent")
    site.wait_for_state(downlink_id, "sent")
    event("nack")  # The Things Stack queues it again: no outcome
    event("ack")
    site.wait_for_state(downlink_id, "acknowledged")
    stored = site.downlinks(TTS_DEVICE)[downlink_id]
    assert (stored["payload"], stored["f_port"], stored["confirmed"]) == ("beef", 15, True)
    shown = site.smati("downlink", "list", "--tenant", "acme", "--device", TTS_DEVICE).stdout
    assert shown.splitlines()[0].split() == [
        *("QUEUED", "AT", "ID", "PORT", "PAYLOAD", "STATE", "SINCE", "DETAIL")
    ]
    line = next(line for line in shown.splitlines() if str(downlink_id) in line)
    assert f"{downlink_id} 15 beef acknowledged" in " ".join(line.split())

    # The same events again, then a second downlink's failure: once that one is recorded,
    # the repeated events before it were too, and changed nothing.
    failing = site.send("--device", TTS_DEVICE, "--port", "15", "--payload", "00" * 60)
    event("sent")
    event("ack")
    event("failed", of=failing)
    assert site.wait_for_state(failing, "failed") == (
        "pkg/networkserver:application_downlink_too_long application downlink payload is too long"
    )
    assert site.downlinks(TTS_DEVICE)[downlink_id] == stored


def test_an_event_that_comes_while_the_database_is_away_is_recorded_after(
    site: Site, postgres: PostgresServer
) -> None:
    downlink_id = site.send("--device", TTS_DEVICE, "--port", "2", "--payload", "02")
    topic = f"v3/{TTS_APP}/devices/{TTS_DEVICE}/down"
    site.network.received(f"{topic}/push", downlink_id)
    follower = site.processes[0]
    failures = follower.log().count("could not record the event")
    postgres.interrupt()
    try:
        correlation = f"smati:downlink:{downlink_id}"
        sent = tts_downlink_event("sent", TTS_APP, TTS_DEVICE, correlation, b"\x02", f_port=2)
        site.network.publish(f"{topic}/sent", sent)
        wait_for(follower.log, lambda log: log.count("could not record the event") > failures)
    finally:
        postgres.resume()
    site.wait_for_state(downlink_id, "sent")


def test_a_chirpstack_downlink_is_its_command_and_follows_txack_and_ack(site: Site) -> None:
    downlink_id = site.send("--device", CHIRPSTACK_DEVICE, "--port", "10", "--payload", "0102")
    dev_eui = "24e124136b000002"
    device_topic = f"application/{CHIRPSTACK_APP}/device/{dev_eui}"
    assert site.network.received(f"{device_topic}/command/down", downlink_id) == {
        "id": str(downlink_id),
        "devEui": dev_eui,
        "confirmed": False,
        "fPort": 10,
        "data": base64.b64encode(b"\x01\x02").decode(),
    }
    txack = chirpstack_downlink_event("txack", CHIRPSTACK_APP, dev_eui, str(downlink_id))
    site.network.publish(f"{device_topic}/event/txack", txack)
    assert site.wait_for_state(downlink_id, "sent") == "gateway 0016c001ff1a05c4"
    # An ack event naming this downlink on another device's topic changes nothing.
    other_topic = f"application/{CHIRPSTACK_APP}/device/70b3d57ed0000001/event/ack"
    acked = chirpstack_downlink_event(
        "ack", CHIRPSTACK_APP, dev_eui, str(downlink_id), acknowledged=True
    )
    site.network.publish(other_topic, acked)
    timed_out = chirpstack_downlink_event("ack", CHIRPSTACK_APP, dev_eui, str(downlink_id))
    site.network.publish(f"{device_topic}/event/ack", timed_out)
    assert site.wait_for_state(downlink_id, "failed") == "the device did not acknowledge it in time"


def test_an_object_is_encoded_by_the_devices_codec(site: Site) -> None:
    args = ["--device", "climate-01", "--port", "85", "--object", '{"interval_minutes": 10}']
    downlink_id = site.send(*args)
    topic = f"application/{CHIRPSTACK_APP}/device/{CLIMATE_EUI.lower()}/command/down"
    command = site.network.received(topic, downlink_id)
    assert (command["id"], command["fPort"]) == (str(downlink_id), 85)
    assert base64.b64decode(command["data"]) == bytes.fromhex("ff035802")  # 600 s, LE

    refused = ["--port", "85", "--object", '{"interval_minutes": 0}']
    assert one_line_error(
        site.smati("downlink", "send", "--tenant", "acme", "--device", "climate-01", *refused)
    ) == ("codec 'tlv-climate' cannot encode: interval_minutes must be between 1 and 1092")
    native = ["--device", TTS_DEVICE, "--port", "1", "--object", "{}"]
    assert one_line_error(site.smati("downlink", "send", "--tenant", "acme", *native)) == (
        f"device '{TTS_DEVICE}' is decoded by 'elsys-ers', not a JavaScript codec: "
        "give the bytes with --payload"
    )
    both = ["--device", TTS_DEVICE, "--port", "1", "--object", "{}", "--payload", "01"]
    error = one_line_error(site.smati("downlink", "send", "--tenant", "acme", *both))
    assert error == "give either the bytes (--payload HEX) or an object (--object JSON)"


def test_a_sigfox_downlink_answers_the_next_bidirectional_callback(site: Site) -> None:
    downlink_id = site.send("--device", "sigfox-store-room", "--payload", "0011223344556677")
    assert site.state(downlink_id) == ("queued", "")
    now = datetime.now(UTC).replace(microsecond=0)

    def callback(
        seq: int, ack: bool, tenant: str = "acme", device: str = SIGFOX_DEVICE
    ) -> tuple[int, bytes]:
        body = json.loads(sigfox_callback(device, bytes.fromhex("01012c"), seq=seq, at=now))
        body["ack"] = "true" if ack else "false"  # as a template quoting {ack} sends it
        body["deviceTypeId"] = SIGFOX_TYPES[tenant]  # the application the registry binds
        secret = SECRET if tenant == "acme" else "globex-secret"
        request = urllib.request.Request(
            f"{site.webhooks}/sigfox/{tenant}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()

    assert callback(100, ack=False)[0] == 200  # not listening: the downlink waits
    assert site.state(downlink_id) == ("queued", "")
    reply = (200, json.dumps({SIGFOX_DEVICE: {"downlinkData": "0011223344556677"}}).encode())
    assert callback(101, ack=True) == reply
    assert site.state(downlink_id) == ("sent", "")
    assert callback(101, ack=True) == reply  # the backend retried the same callback
    assert callback(102, ack=True) == (204, b"")  # nothing more queued
    assert callback(7, ack=True, tenant="globex", device="BEEF01") == (204, b"")


def test_another_tenants_or_an_unknown_device_is_refused_in_one_line(site: Site) -> None:
    def count() -> int:
        with psycopg.connect(site.database) as conn:
            row = conn.execute("SELECT count(*) FROM downlinks").fetchone()
        assert row is not None
        return int(row[0])

    before = count()
    as_globex = site.smati(
        "downlink",
        "send",
        "--tenant",
        "globex",
        "--device",
        TTS_DEVICE,
        "--port",
        "1",
        "--payload",
        "01",
    )
    assert one_line_error(as_globex) == f"tenant 'globex' has no device '{TTS_DEVICE}'"
    unknown = site.smati(
        "downlink",
        "send",
        "--tenant",
        "acme",
        "--device",
        "nobody",
        "--port",
        "1",
        "--payload",
        "01",
    )
    assert one_line_error(unknown) == "tenant 'acme' has no device 'nobody'"
    listed = site.smati("downlink", "list", "--tenant", "globex", "--device", TTS_DEVICE, "--json")
    assert listed.returncode == 0 and listed.stdout == ""
    bad = {
        "port 0": (
            ["--device", TTS_DEVICE, "--port", "0", "--payload", "01"],
            "a LoRaWAN downlink needs a port from 1 to 223, got 0",
        ),
        "sigfox 7 bytes": (
            ["--device", "sigfox-store-room", "--payload", "00" * 7],
            "a Sigfox downlink is exactly 8 bytes, got 7",
        ),
        "not hex": (
            ["--device", TTS_DEVICE, "--port", "1", "--payload", "zz"],
            "Invalid value for --payload: 'zz' is not hexadecimal",
        ),
        "no network": (
            ["--device", "mqtt-probe", "--payload", "01"],
            "device 'mqtt-probe' names no network binding in the registry",
        ),
    }
    for args, message in bad.values():
        assert one_line_error(site.smati("downlink", "send", "--tenant", "acme", *args)) == message
    assert count() == before


def test_a_broker_out_of_reach_fails_the_downlink_in_one_line(site: Site) -> None:
    nowhere = f"mqtt://127.0.0.1:{free_port()}"
    args = ["--device", TTS_DEVICE, "--port", "1", "--payload", "01"]
    result = site.smati("downlink", "send", "--tenant", "acme", *args, SMATI_MQTT_URL=nowhere)
    error = one_line_error(result)
    assert error.startswith(f"MQTT broker 127.0.0.1:{nowhere.rsplit(':', 1)[1]} unreachable: ")
    failed = [row for row in site.downlinks(TTS_DEVICE).values() if row["state"] == "failed"]
    assert any(row["detail"] == error for row in failed)


def test_the_connectors_survived_everything(site: Site) -> None:
    for process in site.processes:
        process.raise_if_dead()


def test_a_broker_refusing_the_connection_takes_no_downlink(tmp_path: Path) -> None:
    """The Things Stack takes QoS 0 only: a push on a refused connection would go unseen,
    so the push waits for the broker to accept the connection."""
    write_password_file(tmp_path / PASSWORD_FILE, {"smati-hq@acme-corp": "NNSXS.KEY"})
    (tmp_path / ACL_FILE).write_text("user smati-hq@acme-corp\ntopic readwrite v3/#\n")
    with MqttBroker(
        use_env=False, access=MqttAccess(tmp_path, "smati-hq@acme-corp", "NNSXS.KEY")
    ) as broker:
        url = f"mqtt://smati-hq%40acme-corp:{{}}@{broker.host}:{broker.port}"
        topic = f"v3/{TTS_APP}/devices/{TTS_DEVICE}/down/push"
        with pytest.raises(DownlinkNotPushed, match="refused the connection: Not authorized"):
            push(url.format("WRONG"), NetworkServer.TTS, topic, b"{}", "smati-test")
        push(url.format("NNSXS.KEY"), NetworkServer.TTS, topic, b"{}", "smati-test")
