"""End to end on real services: The Things Stack and ChirpStack uplinks published on
Mosquitto, TTS webhooks and Sigfox callbacks posted over HTTP on loopback, through the
connectors, Apache Kafka and a worker (child processes, as in production) to readings
and radio frames in PostgreSQL; bad input refused with 4xx and dead-lettered.

The messages are built in the exact formats those servers send (see radio_messages).
ChirpStack is configured as trusted (`SMATI_TRUSTED_DECODERS`), so its decoded `object`
is used when present; The Things Stack is not, so its frames go through SMATI's codecs.
"""

from __future__ import annotations

import base64
import json
import operator
import os
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from conditions import wait_for, wait_until_caught_up
from radio_messages import (
    CHIRPSTACK_APP,
    GLOBEX_SIGFOX_TYPE,
    TTS_APP,
    TTS_TENANT,
    chirpstack_uplink,
    radio_site,
    sigfox_callback,
    sigfox_form,
    tts_uplink,
)
from radio_run import Radio, post, radio_fixture, rows
from status_endpoints import health

from models.registry import Registry
from models.settings import Settings
from services import free_port
from services.processes import RoleProcess, settings_env
from smati.cli import main
from storage.registry_store import save_registry
from stream.topics import read_records, read_topic

pytestmark = pytest.mark.integration
SECRETS = {"acme": "acme-webhook-secret", "globex": "globex-webhook-secret"}
ELSYS_EUI, MILESIGHT_EUI, AXIOMA_EUI = "70B3D57ED0000001", "24E124136B000002", "0004A30B00000003"


radio = radio_fixture(
    "radio", radio_site, {"trusted_decoders": ["chirpstack"], "webhook_secrets": SECRETS}
)


def readings_of(database: str, device_id: str) -> list[tuple[str, datetime, float, str]]:
    query = "SELECT usage_id, ts, value, source FROM readings WHERE device_id = %s"
    return rows(database, query + " ORDER BY ts, usage_id", device_id)


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    values = read_topic(settings.kafka_bootstrap, settings.topic("dead-letter"))
    return [json.loads(value) for value in values]


NOW = datetime.now(UTC).replace(microsecond=0)
PUBLISHED = "smati_uplinks_published_total"
TTS_TOPIC = f"v3/{TTS_APP}@{TTS_TENANT}/devices/{{}}/up"
CHIRPSTACK_TOPIC = f"application/{CHIRPSTACK_APP}/device/{{}}/event/up"


def elsys(temperature_tenths: int, humidity: int, co2: int) -> bytes:
    """An Elsys frame: temperature, humidity, light (not mapped in the registry), CO2."""
    return (
        b"\x01"
        + temperature_tenths.to_bytes(2, "big", signed=True)
        + b"\x02"
        + bytes([humidity])
        + b"\x04\x00\x27"
        + b"\x06"
        + co2.to_bytes(2, "big")
    )


def test_tts_uplinks_over_mqtt_become_readings_and_radio_frames(
    radio: Radio, database: str
) -> None:
    topic = TTS_TOPIC.format("elsys-meeting-room")
    frames = [  # (f_cnt, time, (temperature in tenths, humidity, CO2)); 3 and 4 are lost
        (1, NOW - timedelta(minutes=40), (215, 40, 650)),
        (2, NOW - timedelta(minutes=30), (218, 41, 700)),
        (5, NOW - timedelta(minutes=10), (221, 42, 810)),
    ]
    messages = [
        tts_uplink(
            "elsys-meeting-room",
            ELSYS_EUI,
            elsys(*measured),
            f_port=5,
            f_cnt=f_cnt,
            at=at,
            decoded={"temperature": 99.9},  # not trusted from TTS: SMATI's codec decodes
            gateways=(("gtw-roof", -71.0, 9.25), ("gtw-hall", -98.0, -3.5)),
        )
        for f_cnt, at, measured in frames
    ]
    published = radio.confirmed("tts", PUBLISHED)
    for message in [*messages, messages[1]]:  # f_cnt 2 again, as a second integration sends it
        radio.publish(topic, message)
    radio.wait_until_confirmed("tts", PUBLISHED, published + 4)
    expected = [  # ordered by time, then usage id
        row
        for _, at, (tenths, humidity, co2) in frames
        for row in (
            ("hq.meeting-co2", at, co2, "tts"),
            ("hq.meeting-humidity", at, humidity, "tts"),
            ("hq.meeting-temperature", at, tenths / 10, "tts"),
        )
    ]
    wait_until_caught_up(radio.settings)  # the repeated frame too
    assert readings_of(database, "elsys-meeting-room") == expected
    radio_rows = rows(
        database,
        "SELECT f_cnt, f_port, dev_eui, gateway_count, best_rssi, best_snr, lost_before, "
        "counter_reset, source FROM radio_frames WHERE device_id = 'elsys-meeting-room' "
        "ORDER BY ts",
    )
    assert radio_rows == [
        (1, 5, ELSYS_EUI, 2, -71.0, 9.25, 0, False, "tts"),
        (2, 5, ELSYS_EUI, 2, -71.0, 9.25, 0, False, "tts"),
        (5, 5, ELSYS_EUI, 2, -71.0, 9.25, 2, False, "tts"),
    ]


def test_chirpstack_uplinks_over_mqtt_trusted_object_and_counter_reset(
    radio: Radio, database: str
) -> None:
    topic = CHIRPSTACK_TOPIC.format(MILESIGHT_EUI.lower())
    counter = bytes.fromhex("01755C05C8")
    frames = [
        # (fCnt, time, pulses in the payload, ChirpStack's decoded object)
        (100, NOW - timedelta(minutes=50), 1000, None),
        (101, NOW - timedelta(minutes=35), 1010, {"battery": 92, "pulse": 1010}),
        (1, NOW - timedelta(minutes=20), 1020, None),  # the device rejoined: counter reset
    ]
    published = radio.confirmed("chirpstack", PUBLISHED)
    for f_cnt, at, pulses, decoded in frames:
        payload = counter + pulses.to_bytes(4, "little")
        radio.publish(
            topic,
            chirpstack_uplink(
                MILESIGHT_EUI, payload, f_port=85, f_cnt=f_cnt, at=at, decoded=decoded
            ),
        )
    radio.wait_until_confirmed("chirpstack", PUBLISHED, published + len(frames))
    wait_until_caught_up(radio.settings)
    assert readings_of(database, "milesight-pulse-01") == [
        ("hq.electricity-pulses", at, float(pulses), "chirpstack") for _, at, pulses, _ in frames
    ]
    assert rows(
        database,
        "SELECT frames, frames_lost, counter_resets, last_rssi, last_snr, avg_gateways "
        "FROM radio_quality WHERE device_id = 'milesight-pulse-01'",
    ) == [(3, 0, 1, -36.0, 10.5, 1)]


def qalcosonic_frame(meter_time: datetime, log_litres: int, increments: list[int]) -> bytes:
    """An Axioma Qalcosonic W1 enhanced 24-hour frame (see models.codecs.axioma_qalcosonic)."""
    history = sum(litres << (14 * n) for n, litres in enumerate(increments))
    return (
        b"\x01"
        + int(meter_time.timestamp()).to_bytes(4, "little")
        + b"\x00"
        + log_litres.to_bytes(4, "little")
        + history.to_bytes(41, "little")
    )


def test_tts_webhook_posts_become_readings(radio: Radio, database: str) -> None:
    meter_time = NOW - timedelta(minutes=5)
    frame = qalcosonic_frame(meter_time, 123_456, [10, 0, 25, 7] + [0] * 19)
    body = tts_uplink("qalcosonic-7", AXIOMA_EUI, frame, f_port=100, f_cnt=12, at=NOW)
    status, answer = post(f"{radio.webhooks}/tts/acme", body, SECRETS["acme"])
    assert (status, answer) == (200, {"accepted": True, "device": "qalcosonic-7"})
    wait_until_caught_up(radio.settings)
    assert readings_of(database, "axioma-water-01") == [("hq.water", meter_time, 123.498, "tts")]


def test_sigfox_callbacks_and_a_retried_callback_stored_once(radio: Radio, database: str) -> None:
    first = sigfox_callback(
        "1a2b3c", bytes.fromhex("0100C8"), seq=4094, at=NOW - timedelta(minutes=9)
    )
    second = sigfox_callback(
        "1a2b3c", bytes.fromhex("0100D2"), seq=1, at=NOW - timedelta(minutes=4)
    )
    for body in (first, second, second):  # the backend retries the second callback
        assert post(f"{radio.webhooks}/sigfox/acme", body, SECRETS["acme"]) == (
            200,
            {"accepted": True, "device": "1A2B3C"},
        )
    wait_until_caught_up(radio.settings)  # the retried callback too
    assert readings_of(database, "sigfox-store-room") == [
        ("hq.store-temperature", NOW - timedelta(minutes=9), 20.0, "sigfox"),
        ("hq.store-temperature", NOW - timedelta(minutes=4), 21.0, "sigfox"),
    ]
    assert rows(
        database,
        "SELECT f_cnt, lost_before, counter_reset, gateways FROM radio_frames "
        "WHERE device_id = 'sigfox-store-room' ORDER BY ts",
    ) == [
        (4094, 0, False, [{"gateway_id": "1D44", "rssi": -123.0, "snr": 18.86}]),
        (1, 2, False, [{"gateway_id": "1D44", "rssi": -123.0, "snr": 18.86}]),  # rolled over
    ]
    assert not [d for d in dead_letters(radio.settings) if d["device_id"] == "sigfox-store-room"]


def test_http_input_not_theirs_is_refused_clearly_and_dead_lettered(radio: Radio) -> None:
    tts, sigfox = f"{radio.webhooks}/tts/acme", f"{radio.webhooks}/sigfox/acme"
    good_tts = tts_uplink(
        "elsys-meeting-room", ELSYS_EUI, elsys(200, 40, 500), f_port=5, f_cnt=9, at=NOW
    )
    good_sigfox = sigfox_callback("1A2B3C", bytes.fromhex("0100C8"), seq=9, at=NOW)
    # Refused for their secret: 401, nothing written to Kafka.
    assert post(tts, good_tts, None)[0] == 401
    assert post(tts, good_tts, "guess")[0] == 401
    assert post(f"{radio.webhooks}/sigfox/nobody", good_sigfox, SECRETS["acme"])[0] == 401
    assert post(f"{radio.webhooks}/sigfox/acme", good_sigfox, SECRETS["globex"])[0] == 401
    water = qalcosonic_frame(NOW, 1, [0] * 23)
    bad = {
        "malformed_json": (tts, b'{"end_device_ids": ', 400, "not a The Things Stack uplink"),
        "wrong_base64": (
            tts,
            good_tts.replace(base64.b64encode(elsys(200, 40, 500)), b"AQ!?"),
            400,
            "frm_payload: Value error, not base64",
        ),
        "unknown_device": (
            tts,
            tts_uplink("ghost", "FFFFFFFFFFFFFFFF", water, f_port=100, f_cnt=1, at=NOW),
            404,
            "unknown device 'ghost'",
        ),
        "wrong_hex": (
            sigfox,
            good_sigfox.replace(b'"0100c8"', b'"01zz"'),
            400,
            "data must be hexadecimal",
        ),
        "other_tenant": (  # globex's device in a callback of acme's device type
            sigfox,
            sigfox_callback("BEEF01", bytes.fromhex("0100C8"), seq=1, at=NOW),
            404,
            "not registered for tenant 'acme'",
        ),
        "unbound": (  # globex's device type, posted with acme's secret
            sigfox,
            sigfox_callback(
                "BEEF01", bytes.fromhex("0100C8"), seq=1, at=NOW, device_type=GLOBEX_SIGFOX_TYPE
            ),
            403,
            f"Sigfox device type {GLOBEX_SIGFOX_TYPE!r} is not bound to tenant 'acme'",
        ),
    }
    for name, (url, body, status, message) in bad.items():
        answer_status, answer = post(url, body, SECRETS["acme"])
        assert answer_status == status, (name, answer)
        assert message in answer["error"], (name, answer)
    oversized = b'{"device": "' + b"0" * 300_000 + b'"}'
    status, answer = post(sigfox, oversized, SECRETS["acme"])
    assert (status, answer["code"]) == (413, "oversized")
    with urllib.request.urlopen(f"{radio.webhooks}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert 'smati_webhook_requests_total{source="tts",status="401"} 2.0' in metrics
    assert 'smati_webhook_requests_total{source="sigfox",status="401"} 2.0' in metrics
    letters = wait_for(
        lambda: [d for d in dead_letters(radio.settings) if d["stage"] == "connector"],
        lambda found: len(found) >= len(bad),
    )
    assert (
        len(base64.b64decode(next(d for d in letters if d["code"] == "oversized")["original"]))
        == 256 * 1024
    )
    originals = {base64.b64decode(d["original"]): d for d in letters}
    for name, (_, body, _, message) in bad.items():
        assert message in originals[body]["reason"], name
    assert Counter(d["code"] for d in letters) >= Counter(
        malformed_payload=3, unknown_device=2, unbound_application=1
    )
    radio.worker.raise_if_dead()
    for process in radio.connectors:
        process.raise_if_dead()


def test_a_webhook_takes_any_payload_of_its_device_and_the_stream_refuses_it(
    radio: Radio,
) -> None:
    """The webhook refuses only what is not its to take: payload errors are the stream's."""
    tts = f"{radio.webhooks}/tts/acme"
    water = qalcosonic_frame(NOW, 1, [0] * 23)
    payload_errors = {
        "wrong_port": tts_uplink("qalcosonic-7", AXIOMA_EUI, water, f_port=3, f_cnt=13, at=NOW),
        "wrong_length": tts_uplink(
            "qalcosonic-7", AXIOMA_EUI, water[:40], f_port=100, f_cnt=14, at=NOW
        ),
    }
    for body in payload_errors.values():
        assert post(tts, body, SECRETS["acme"]) == (
            200,
            {"accepted": True, "device": "qalcosonic-7"},
        )
    wait_until_caught_up(radio.settings)
    refused = {
        d["code"]: d
        for d in dead_letters(radio.settings)
        if d["stage"] == "decode" and d["device_id"] == "qalcosonic-7"
    }
    assert "f_port 3 carries no measurements" in refused["wrong_port"]["reason"]
    assert "51 bytes, not 40" in refused["wrong_length"]["reason"]
    for code, body in payload_errors.items():
        assert base64.b64decode(refused[code]["original"]) == body


def test_bad_mqtt_input_is_dead_lettered(radio: Radio) -> None:
    malformed = "smati_uplinks_refused_total{reason=malformed_payload}"
    published = radio.confirmed("chirpstack", PUBLISHED)
    radio.publish(TTS_TOPIC.format("elsys-meeting-room"), b'{"uplink_message": 1}')
    radio.publish(
        CHIRPSTACK_TOPIC.format(AXIOMA_EUI.lower()),
        chirpstack_uplink(AXIOMA_EUI, bytes.fromhex("01755C"), f_port=10, f_cnt=2, at=NOW),
    )
    radio.wait_until_confirmed("tts", malformed, 1)
    radio.wait_until_confirmed("chirpstack", PUBLISHED, published + 1)
    wait_until_caught_up(radio.settings)
    letters = dead_letters(radio.settings)
    connector = [
        d for d in letters if d["stage"] == "connector" and d["origin"].startswith("mqtt:")
    ]
    assert [d["code"] for d in connector] == ["malformed_payload"]
    assert "not a The Things Stack uplink message" in connector[0]["reason"]
    (wrong_port,) = [
        d for d in letters if d["code"] == "wrong_port" and d["device_id"] == AXIOMA_EUI.lower()
    ]
    assert wrong_port["stage"] == "decode"
    assert "f_port 10 carries no measurements (expected [100])" in wrong_port["reason"]


def test_radio_state_lives_on_the_partition_of_its_raw_uplinks(radio: Radio, database: str) -> None:
    """So a worker that takes over a raw partition recovers its devices' frame counters."""
    wait_for(
        lambda: rows(database, "SELECT DISTINCT device_id FROM radio_frames"),
        lambda devices: len(devices) >= 4,
    )
    bootstrap, settings = radio.settings.kafka_bootstrap, radio.settings
    raw = {r.key.decode(): r.partition for r in read_records(bootstrap, settings.topic("raw"))}
    states = dict(rows(database, "SELECT device_key, raw_partition FROM radio_states"))
    assert len(states) >= 4
    assert states == {key: raw[key] for key in states}


def radio_traces(database: str, *devices: str) -> list[tuple[Any, ...]]:
    """What the stream keeps of these devices' radio: frame counters, frames, readings."""
    return [
        *rows(
            database,
            "SELECT device_key, state::text FROM radio_states WHERE device_key = ANY(%s)",
            list(devices),
        ),
        *rows(
            database,
            "SELECT device_id, f_cnt FROM radio_frames WHERE device_id = ANY(%s)",
            list(devices),
        ),
        *rows(
            database, "SELECT usage_id, ts FROM readings WHERE device_id = ANY(%s)", list(devices)
        ),
    ]


def test_a_topic_and_body_mismatch_and_another_tenant_s_device_touch_nothing(
    radio: Radio, database: str
) -> None:
    """Refused with a dead letter before any reading or frame counter of either device."""
    wait_until_caught_up(radio.settings)
    devices = ("elsys-meeting-room", "globex-sensor", ELSYS_EUI, "BEEF01")
    before = radio_traces(database, *devices)
    published = radio.confirmed("tts", PUBLISHED)
    # The topic names acme's device, the body globex's.
    globex_body = tts_uplink(
        "globex-sensor", "BEEF01", elsys(250, 50, 900), f_port=5, f_cnt=77, at=NOW
    )
    radio.publish(TTS_TOPIC.format("elsys-meeting-room"), globex_body)
    # globex's application names acme's device, topic and body alike.
    acme_device = tts_uplink(
        "elsys-meeting-room",
        ELSYS_EUI,
        elsys(250, 50, 900),
        f_port=5,
        f_cnt=78,
        at=NOW,
        application="plant",
    )
    radio.publish("v3/plant@globex/devices/elsys-meeting-room/up", acme_device)
    radio.wait_until_confirmed("tts", PUBLISHED, published + 2)
    wait_until_caught_up(radio.settings)
    refused = {
        d["code"]: d["reason"]
        for d in dead_letters(radio.settings)
        if d["stage"] == "decode" and d["device_id"] == "elsys-meeting-room"
    }
    assert refused["device_mismatch"] == (
        "the topic names device 'elsys-meeting-room', the message's body 'globex-sensor'"
    )
    assert refused["unknown_device"] == (
        "device 'elsys-meeting-room' is not registered for tenant 'globex'"
    )
    assert radio_traces(database, *devices) == before


def test_a_form_encoded_sigfox_callback_is_stored(radio: Radio, database: str) -> None:
    """The backend's default content type: application/x-www-form-urlencoded."""
    at = NOW - timedelta(minutes=2)
    body = sigfox_form("1A2B3C", bytes.fromhex("0100DC"), seq=3, at=at)
    answer = post(
        f"{radio.webhooks}/sigfox/acme", body, SECRETS["acme"], "application/x-www-form-urlencoded"
    )
    assert answer == (200, {"accepted": True, "device": "1A2B3C"})
    wait_until_caught_up(radio.settings)
    assert ("hq.store-temperature", at, 22.0, "sigfox") in readings_of(
        database, "sigfox-store-room"
    )


def test_a_sigfox_frame_from_two_base_stations_is_stored_once_with_both(
    radio: Radio, database: str
) -> None:
    at = NOW - timedelta(minutes=7)
    for station in (("1D44", -123.0, 18.86), ("2A0F", -101.5, 22.0)):
        body = sigfox_callback("1A2B3C", bytes.fromhex("0100BE"), seq=20, at=at, station=station)
        assert post(f"{radio.webhooks}/sigfox/acme", body, SECRETS["acme"])[0] == 200
    wait_until_caught_up(radio.settings)
    stored = [r for r in readings_of(database, "sigfox-store-room") if r[1] == at]
    assert stored == [("hq.store-temperature", at, 19.0, "sigfox")]
    assert rows(
        database,
        "SELECT gateways, gateway_count, best_rssi, best_snr FROM radio_frames "
        "WHERE device_id = 'sigfox-store-room' AND f_cnt = 20",
    ) == [
        (
            [
                {"gateway_id": "1D44", "rssi": -123.0, "snr": 18.86},
                {"gateway_id": "2A0F", "rssi": -101.5, "snr": 22.0},
            ],
            2,
            -101.5,
            22.0,
        )
    ]


def save_site(database: str, boiler_model: str) -> None:
    """The radio site with a Sigfox sensor in the boiler room, of model `boiler_model`."""
    document = radio_site().model_dump(mode="json")
    hq = document["tenants"][0]["entities"][0]
    hq["equipment"].append(
        {
            "id": "hq.boiler-room",
            "usages": [
                {"id": "hq.boiler-temperature", "type": "instant", "unit": "°C", "period_s": 600}
            ],
        }
    )
    document["transceivers"].append({"id": "C0FFEE", "network": "sigfox"})
    document["devices"].append(
        {
            "id": "sigfox-boiler-room",
            "tenant": "acme",
            "model": boiler_model,
            "transceiver": "C0FFEE",
            "binding": "acme-sigfox",
            "channels": {"temperature": "hq.boiler-temperature"},
        }
    )
    with psycopg.connect(database) as conn:
        save_registry(conn, Registry.model_validate(document))


def reloaded(processes: list[RoleProcess], change: Callable[[], None]) -> None:
    """Make `change` to the registry, and return once every process has loaded it again."""
    loads = [_loads(process) for process in processes]
    change()
    for process, before in zip(processes, loads, strict=True):
        wait_for(partial(_loads, process), partial(operator.lt, before))


def _loads(process: RoleProcess) -> int:
    return process.log().count("registry loaded")


def replay(radio: Radio, reason: str, since: datetime) -> str:
    """`smati dead-letters replay`'s output; AssertionError if it failed."""
    settings = radio.settings
    result = CliRunner().invoke(
        main,
        ["dead-letters", "replay", "--reason", reason, "--since", since.isoformat()],
        env={
            "SMATI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "SMATI_TOPIC_PREFIX": settings.topic_prefix,
        },
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_an_uplink_with_no_codec_yet_is_stored_once_after_the_fix_and_a_replay(
    radio: Radio, database: str
) -> None:
    webhooks = radio.connectors[-1]
    reloaded([radio.worker, webhooks], lambda: save_site(database, "maker-codec-not-installed"))
    since = datetime.now(UTC)
    at = NOW - timedelta(minutes=1)
    body = sigfox_callback("C0FFEE", bytes.fromhex("0100E6"), seq=40, at=at)
    assert post(f"{radio.webhooks}/sigfox/acme", body, SECRETS["acme"]) == (
        200,
        {"accepted": True, "device": "C0FFEE"},
    )
    wait_until_caught_up(radio.settings)
    (letter,) = [d for d in dead_letters(radio.settings) if d["device_id"] == "C0FFEE"]
    assert (letter["stage"], letter["uplink"]["device_id"]) == ("decode", "C0FFEE")
    assert "maker-codec-not-installed" in letter["reason"]
    assert readings_of(database, "sigfox-boiler-room") == []
    reloaded([radio.worker], lambda: save_site(database, "elsys-ers"))
    replayed_at = datetime.now(UTC)
    stored = [("hq.boiler-temperature", at, 23.0, "sigfox")]
    for _ in range(2):  # replaying twice stores nothing twice
        assert replay(radio, letter["code"], since) == (
            f"replayed 1 uplink(s) of 1 dead letter(s) {letter['code']}"
        )
        wait_until_caught_up(radio.settings)
        assert readings_of(database, "sigfox-boiler-room") == stored
    assert [d["code"] for d in dead_letters(radio.settings) if d["device_id"] == "C0FFEE"] == [
        letter["code"]
    ]
    # heard when the webhook received it, not when it was replayed
    ((last_heard,),) = rows(
        database,
        "SELECT state->'transmission'->>'last_heard' FROM usage_states "
        "WHERE usage_id = 'hq.boiler-temperature'",
    )
    assert since <= datetime.fromisoformat(last_heard) < replayed_at
    # the replayed frame touched no frame counter: its first pass did
    assert rows(
        database, "SELECT count(*) FROM radio_frames WHERE device_id = 'sigfox-boiler-room'"
    ) == [(1,)]


def test_connectors_tell_their_health(radio: Radio) -> None:
    assert health(radio.webhooks) == (200, {"healthy": True, "checks": {"kafka": True}})
    for url in radio.mqtt_status.values():
        assert health(url) == (200, {"healthy": True, "checks": {"mqtt": True, "kafka": True}})


def test_webhooks_without_kafka_are_unhealthy(radio: Radio, database: str, tmp_path: Path) -> None:
    port = free_port()
    overrides = {
        "kafka_bootstrap": f"127.0.0.1:{free_port()}",  # no Kafka listens there
        "database_url": database,
        "webhook_port": port,
        "webhook_secrets": SECRETS,
    }
    env = {**os.environ, **settings_env(overrides)}
    webhooks = RoleProcess(["connector", "webhooks"], env, tmp_path / "webhooks.log")
    try:
        webhooks.wait_for_line("Running on")
        assert health(f"http://127.0.0.1:{port}") == (
            503,
            {"healthy": False, "checks": {"kafka": False}},
        )
    finally:
        webhooks.stop()


def test_worker_and_connectors_survived_everything(radio: Radio) -> None:
    for process in [radio.worker, *radio.connectors]:
        process.raise_if_dead()
        assert "Traceback" not in process.log(), process.role
    decode_errors = [
        d
        for d in dead_letters(radio.settings)
        if d["code"] == "processing_error" and d["stage"] == "decode"
    ]
    assert decode_errors == []
