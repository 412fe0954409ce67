"""A new operator's building, end to end on real services: a dozen devices of Elsys,
Milesight, Dragino, Adeunis and Axioma (tests/building/site.yaml) heard through The Things
Stack (MQTT and webhook), ChirpStack v4 (MQTT) and the Sigfox backend (form and JSON
callbacks), with what those servers send besides uplinks: other event types on the same
topics and paths, a frame heard twice, devices without a DevEUI, EUIs in either case.
Every value stored must be the one its maker documents for the frame sent."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conditions import wait_for, wait_until_caught_up
from radio_messages import chirpstack_uplink, server_time, sigfox_callback, sigfox_form, tts_uplink
from radio_run import Radio, post, radio_fixture, rows

from models.registry import Registry
from models.registry_file import parse_registry
from smati.codecs_cli import with_programs
from storage.registry_store import save_registry
from stream.topics import read_topic

pytestmark = pytest.mark.integration
SITE = Path(__file__).parent / "building" / "site.yaml"
SECRETS = {"acme": "acme-secret", "globex": "globex-secret"}
TTS_APP, TTS_TENANT = "hq-sensors", "acme-corp"
ACME_CHIRPSTACK = "5ae8c6f0-2b1d-4c7e-9a43-0d1f6e2b7c90"
GLOBEX_CHIRPSTACK = "b2f0c3e1-7d4a-4e8b-8c21-5f6a9d0e3b47"
ACME_SIGFOX, GLOBEX_SIGFOX = "63b7a1f2c4d5e60012ab34cd", "7c1d2e3f4a5b6c0012cd56ef"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

# The makers' documented frames and the values they document for them.
ELSYS_ERS_CO2 = bytes.fromhex("0100E202290400270506060308070D62")  # 22.6 °C, 41 %, 776 ppm
EM300_TH = bytes.fromhex("01755C03673401046865")  # battery 92 %, 30.8 °C, 50.5 %
EM300_TH_PORT_1 = bytes.fromhex("0175640367110104686c")  # battery 100 %, 27.3 °C, 54 %
LHT65 = bytes.fromhex("CBF60B0D0376010ADD7FFF")  # 3.062 V, 28.29 °C, 88.6 %, probe 27.81 °C
ADEUNIS_TEMP = bytes.fromhex("43A2D1015E82FF06")  # probes 35 and -25 °C
ADEUNIS_PULSE = bytes.fromhex("46800000009f00000002")  # counters 159 and 2
ADEUNIS_TIC_TRI = bytes.fromhex(  # BASE 4660 Wh, PAPP 16 VA
    "4940303231373238303331383139000012340000002b0000002c0000002d"
    "0000001100000012000000130000002000000010"
)
QALCOSONIC_W1 = bytes.fromhex(  # 6.054 m3 at the meter's time, 2026-09-02 23:09:34 UTC
    "01AEAC986A0032170000"
    "0000000000000000800380005400"
    "0E400510004800024002000020"
    "0000000000000000000000000000"
)


def site() -> Registry:
    return with_programs(parse_registry(SITE.read_text(), str(SITE)), SITE.parent)


radio = radio_fixture("building", site, {"webhook_secrets": SECRETS})


def stored(database: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for usage, value in rows(database, "SELECT usage_id, value FROM readings ORDER BY ts"):
        found.setdefault(usage, []).append(round(value, 6))
    return found


def dead_letters(radio: Radio) -> list[dict[str, Any]]:
    records = read_topic(radio.settings.kafka_bootstrap, radio.settings.topic("dead-letter"))
    return [json.loads(record) for record in records]


def tts_topic(device_id: str, event: str = "up") -> str:
    return f"v3/{TTS_APP}@{TTS_TENANT}/devices/{device_id}/{event}"


def chirpstack_topic(dev_eui: str, event: str = "up", app: str = ACME_CHIRPSTACK) -> str:
    return f"application/{app}/device/{dev_eui.lower()}/event/{event}"


def tts(device_id: str, dev_eui: str | None, payload: bytes, **others: Any) -> bytes:
    return tts_uplink(device_id, dev_eui, payload, at=NOW, application=TTS_APP, **others)


def the_other_events(radio: Radio) -> None:
    """What the network servers send besides uplinks, where uplinks go."""
    device = {"devEui": "24e124136b0a1001", "applicationId": ACME_CHIRPSTACK}
    for event in ("join", "ack", "txack", "status", "location", "log"):
        body = {"time": server_time(NOW), "deviceInfo": device, "level": "INFO"}
        radio.publish(chirpstack_topic("24E124136B0A1001", event), json.dumps(body).encode())
    ids = {"device_id": "lht65-cold-room", "application_ids": {"application_id": TTS_APP}}
    join = {"end_device_ids": ids, "received_at": server_time(NOW), "join_accept": {}}
    radio.publish(tts_topic("lht65-cold-room", "join"), json.dumps(join).encode())
    answer = post(f"{radio.webhooks}/tts/acme", json.dumps(join).encode(), SECRETS["acme"])
    assert answer == (200, {"accepted": False, "ignored": "a The Things Stack join_accept "
                                                         "message, not an uplink"})  # fmt: skip
    # "Simulate uplink" in the TTS console, by the webhook and by MQTT: not the device's.
    earlier = NOW - timedelta(minutes=5)
    simulated = json.loads(tts_uplink("lht65-cold-room", None, LHT65, f_port=2, f_cnt=1,
                                      at=earlier, application=TTS_APP))  # fmt: skip
    simulated["simulated"] = True
    simulated_body = json.dumps(simulated).encode()
    radio.publish(tts_topic("lht65-cold-room"), simulated_body)
    answer = post(f"{radio.webhooks}/tts/acme", simulated_body, SECRETS["acme"])
    ignored = "a simulated uplink of device 'lht65-cold-room' (TTS console)"
    assert answer == (200, {"accepted": False, "ignored": ignored})


def test_every_device_of_the_building_stores_its_maker_s_values(
    radio: Radio, database: str
) -> None:
    the_other_events(radio)
    # The Things Stack, MQTT: a default device id (eui-...), and an ABP device (no DevEUI).
    hall = tts("eui-a81758fffe0312ab", "A81758FFFE0312AB", ELSYS_ERS_CO2, f_port=5, f_cnt=11)
    radio.publish(tts_topic("eui-a81758fffe0312ab"), hall)
    cold_room = tts("lht65-cold-room", None, LHT65, f_port=2, f_cnt=3)
    radio.publish(tts_topic("lht65-cold-room"), cold_room)
    water = tts("eui-0004a30b00f1c2d3", "0004A30B00F1C2D3", QALCOSONIC_W1, f_port=100, f_cnt=1)
    radio.publish(tts_topic("eui-0004a30b00f1c2d3"), water)
    # The Things Stack, webhook: its own decoding beside the bytes (not trusted), port 1.
    webhook = f"{radio.webhooks}/tts/acme"
    decoded = {"battery": 100, "temperature": 27.3, "humidity": 54}
    archive = tts("eui-24e124136b0a1002", "24E124136B0A1002", EM300_TH_PORT_1, f_port=1,
                  f_cnt=40, decoded=decoded)  # fmt: skip
    tic = tts("eui-0018b2200000a102", "0018B2200000A102", ADEUNIS_TIC_TRI, f_port=1, f_cnt=2)
    for body in (archive, tic, cold_room):  # the cold room's frame again, by the webhook
        assert post(webhook, body, SECRETS["acme"])[0] == 200
    # ChirpStack v4, MQTT: DevEUIs in lower case in topics and bodies.
    for dev_eui, payload, f_port, app in (
        ("24E124136B0A1001", EM300_TH, 85, ACME_CHIRPSTACK),
        ("0018B2200000A101", ADEUNIS_PULSE, 1, ACME_CHIRPSTACK),
        ("A81758FFFE0399C1", ELSYS_ERS_CO2, 5, GLOBEX_CHIRPSTACK),
    ):
        event = chirpstack_uplink(dev_eui, payload, f_port=f_port, f_cnt=7, at=NOW,
                                  application=app)  # fmt: skip
        radio.publish(chirpstack_topic(dev_eui, app=app), event)
    # Sigfox: a form in lower-case hex, JSON in upper case with the time as text, the same
    # frame from a second base station, and globex's own device type.
    sigfox = f"{radio.webhooks}/sigfox"
    calls = [
        (sigfox_form("1a2b3c", ADEUNIS_TEMP, seq=12, at=NOW, device_type=ACME_SIGFOX), "acme"),
        (sigfox_callback("1A2B3D", ADEUNIS_TEMP, seq=13, at=NOW, device_type=ACME_SIGFOX.upper())
         .replace(ADEUNIS_TEMP.hex().encode(), ADEUNIS_TEMP.hex().upper().encode()), "acme"),
        (sigfox_callback("1A2B3D", ADEUNIS_TEMP, seq=13, at=NOW, device_type=ACME_SIGFOX,
                         station=("0A2F", -131.0, 7.5)), "acme"),
        (sigfox_form("2C4E6A", ADEUNIS_TEMP, seq=1, at=NOW, device_type=GLOBEX_SIGFOX), "globex"),
    ]  # fmt: skip
    for body, tenant in calls:
        content_type = "application/json" if body.startswith(b"{") else (
            "application/x-www-form-urlencoded")  # fmt: skip
        status, answer = post(f"{sigfox}/{tenant}", body, SECRETS[tenant], content_type)
        assert status == 200, answer
    radio.wait_until_confirmed("tts", "smati_uplinks_published_total", 3)
    radio.wait_until_confirmed("chirpstack", "smati_uplinks_published_total", 3)
    wait_until_caught_up(radio.settings)

    assert stored(database) == {
        "hq.hall-temperature": [22.6],
        "hq.hall-humidity": [41.0],
        "hq.hall-co2": [776.0],
        "hq.cold-room-temperature": [28.29],
        "hq.cold-room-humidity": [88.6],
        "hq.cold-room-probe": [27.81],
        "hq.water": [6.054],
        "hq.archive-temperature": [27.3],
        "hq.electricity": [4.66],
        "hq.office-temperature": [30.8],
        "hq.office-humidity": [50.5],
        "hq.gas-pulses": [159.0],
        "plant.workshop-temperature": [22.6],
        "plant.workshop-co2": [776.0],
        "hq.roof-temperature": [35.0],
        "hq.basement-temperature": [35.0],
        "plant.store-temperature": [35.0],
    }
    assert dead_letters(radio) == []
    gateways = rows(database, "SELECT device_id, gateways FROM radio_frames WHERE device_id = "
                              "'basement-temperature'")  # fmt: skip
    assert [sorted(g["gateway_id"] for g in found) for _, found in gateways] == [["0A2F", "1D44"]]
    # The cold room's frame, heard by MQTT and by the webhook, is one radio frame.
    frames = "SELECT f_cnt FROM radio_frames WHERE device_id = 'cold-room'"
    assert rows(database, frames) == [(3,)]
    for process in [radio.worker, *radio.connectors]:
        process.raise_if_dead()


def test_a_device_re_registered_under_another_tenant_takes_only_its_new_tenant_s_messages(
    radio: Radio, database: str
) -> None:
    moved = site().model_copy(deep=True)
    devices = []
    for device in moved.devices:
        if device.id == "workshop-co2":  # globex's sensor, given to acme's hall
            device = device.model_copy(update={
                "tenant": "acme", "binding": "acme-chirpstack",
                "channels": {"temperature": "hq.hall-temperature"}})  # fmt: skip
        devices.append(device)
    with psycopg.connect(database) as conn:
        save_registry(conn, moved.model_copy(update={"devices": tuple(devices)}))
    later = NOW + timedelta(minutes=10)

    def heard(app: str, f_cnt: int) -> None:
        event = chirpstack_uplink("A81758FFFE0399C1", ELSYS_ERS_CO2, f_port=5, f_cnt=f_cnt,
                                  at=later + timedelta(seconds=f_cnt), application=app)  # fmt: skip
        radio.publish(chirpstack_topic("A81758FFFE0399C1", app=app), event)

    def hall_temperatures() -> list[float]:
        return stored(database).get("hq.hall-temperature", [])

    # Heard through acme's application until the worker has the new registry.
    counters = itertools.count(101)
    f_cnt = 0

    def heard_through_acme() -> list[float]:
        nonlocal f_cnt
        f_cnt = next(counters)
        heard(ACME_CHIRPSTACK, f_cnt)
        wait_until_caught_up(radio.settings)
        return hall_temperatures()

    assert wait_for(heard_through_acme, lambda found: len(found) >= 2) == [22.6, 22.6]
    heard(GLOBEX_CHIRPSTACK, f_cnt + 1)
    wait_until_caught_up(radio.settings)
    refused = [d for d in dead_letters(radio) if d.get("device_id") == "a81758fffe0399c1"]
    reason = "device 'a81758fffe0399c1' is not registered for tenant 'globex'"
    assert [(d["code"], d["reason"]) for d in refused][-1] == ("unknown_device", reason)
    assert stored(database)["plant.workshop-co2"] == [776.0]


def test_a_webhook_without_its_secret_is_refused_and_writes_nothing(radio: Radio) -> None:
    body = sigfox_form("1A2B3C", ADEUNIS_TEMP, seq=20, at=NOW, device_type=ACME_SIGFOX)
    status, answer = post(f"{radio.webhooks}/sigfox/acme", body, None,
                          "application/x-www-form-urlencoded")  # fmt: skip
    assert (status, answer) == (401, {
        "error": "unauthorized: send 'Authorization: Bearer <tenant secret>'"})  # fmt: skip
