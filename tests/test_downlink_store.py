"""Downlinks in PostgreSQL: states move forward once, only for the event's own device; the
Sigfox queue gives each downlink to one uplink, and again to that uplink's retry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from models.bindings import DeviceBinding
from models.downlink import Downlink, DownlinkEvent, DownlinkState
from models.registry import NetworkServer
from storage.downlinks import downlinks_of, insert_downlink, record_event, take_sigfox

pytestmark = pytest.mark.integration

TTS = DeviceBinding(NetworkServer.TTS, "hq", "acme-tti", "valve-3")
SIGFOX = DeviceBinding(NetworkServer.SIGFOX, "5f2a1b3c", None, "1A2B3C")


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database) as connection:
        yield connection


def _state(conn: psycopg.Connection, downlink: Downlink) -> tuple[str, str, bool, bool]:
    row = conn.execute(
        "SELECT state, detail, sent_at IS NOT NULL, acknowledged_at IS NOT NULL"
        " FROM downlinks WHERE id = %s",
        (downlink.id,),
    ).fetchone()
    assert row is not None
    return row


def test_a_downlink_is_stored_once_by_its_id(conn: psycopg.Connection) -> None:
    downlink = Downlink(uuid.uuid4(), "acme", "valve-3", TTS, 15, b"\xbe\xef")
    assert insert_downlink(conn, downlink)
    assert not insert_downlink(conn, downlink)
    rows = [row for row in downlinks_of(conn, "acme", "valve-3", 100) if row["id"] == downlink.id]
    assert len(rows) == 1 and bytes(rows[0]["payload"]) == b"\xbe\xef"
    assert rows[0]["state"] == "queued"
    assert downlinks_of(conn, "globex", "valve-3", 100) == []


def test_states_move_forward_once_and_never_back(conn: psycopg.Connection) -> None:
    downlink = Downlink(uuid.uuid4(), "acme", "valve-3", TTS, 15, b"\x01")
    insert_downlink(conn, downlink)

    def event(state: DownlinkState) -> DownlinkEvent:
        return DownlinkEvent(downlink.id, TTS, state)

    assert not record_event(conn, event(DownlinkState.QUEUED))  # already queued
    assert record_event(conn, event(DownlinkState.SENT))
    assert not record_event(conn, event(DownlinkState.SENT))  # the same event again
    assert record_event(conn, event(DownlinkState.ACKNOWLEDGED))
    assert not record_event(conn, event(DownlinkState.SENT))  # late
    assert not record_event(conn, event(DownlinkState.FAILED))
    assert _state(conn, downlink) == ("acknowledged", "", True, True)


def test_an_event_of_another_device_or_application_changes_nothing(
    conn: psycopg.Connection,
) -> None:
    downlink = Downlink(uuid.uuid4(), "acme", "valve-3", TTS, 15, b"\x01")
    insert_downlink(conn, downlink)
    elsewhere = [
        DeviceBinding(NetworkServer.TTS, "hq", "acme-tti", "valve-4"),
        DeviceBinding(NetworkServer.TTS, "other-app", "acme-tti", "valve-3"),
        DeviceBinding(NetworkServer.TTS, "hq", "globex-tti", "valve-3"),
        DeviceBinding(NetworkServer.CHIRPSTACK, "hq", None, "valve-3"),
    ]
    for route in elsewhere:
        assert not record_event(conn, DownlinkEvent(downlink.id, route, DownlinkState.SENT))
    assert record_event(conn, downlink.failed("MQTT broker unreachable"))
    assert _state(conn, downlink) == ("failed", "MQTT broker unreachable", False, False)


def test_sigfox_queue_answers_each_uplink_once_oldest_first(conn: psycopg.Connection) -> None:
    device = f"{uuid.uuid4().int % 0xFFFFFF:06X}"
    # Registered in lower case, named in upper case by the Sigfox backend: the same device.
    route = DeviceBinding(NetworkServer.SIGFOX, "5f2a1b3c", None, device.lower())
    first, second = (
        Downlink(uuid.uuid4(), "acme", "temp-1", route, None, bytes([n]) * 8) for n in (1, 2)
    )
    assert take_sigfox(conn, "acme", device, "1@t") is None
    insert_downlink(conn, first)
    insert_downlink(conn, second)
    assert take_sigfox(conn, "globex", device, "1@t") is None  # not globex's device
    assert take_sigfox(conn, "acme", device, "2@t") == first.payload
    assert take_sigfox(conn, "acme", device, "2@t") == first.payload  # the callback retried
    assert take_sigfox(conn, "acme", device, "3@t") == second.payload
    assert take_sigfox(conn, "acme", device, "4@t") is None
    assert _state(conn, first)[0] == _state(conn, second)[0] == "sent"
