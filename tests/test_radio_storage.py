"""Radio frames in PostgreSQL: written once whatever the replays, summed up per device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from models.radio import Reception
from models.radio_health import RadioRecord
from storage.writer import write_radio_frames

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def frame(f_cnt: int, rssi: float, lost_before: int = 0, reset: bool = False) -> RadioRecord:
    return RadioRecord(
        device_id="elsys-meeting-room",
        ts=T0 + timedelta(minutes=10 * f_cnt),
        source="tts",
        network_id="elsys-meeting-room",
        dev_eui="70B3D57ED0000001",
        f_port=5,
        f_cnt=f_cnt,
        receptions=(
            Reception(gateway_id="gtw-roof", rssi=rssi, snr=7.5),
            Reception(gateway_id="gtw-hall", rssi=rssi - 20, snr=None),
        ),
        lost_before=lost_before,
        counter_reset=reset,
        origin=f"raw/0/{f_cnt}",
    )


def test_radio_frames_are_written_once_and_summed_up_per_device(database: str) -> None:
    frames = [frame(1, -80), frame(2, -82), frame(6, -90, lost_before=3), frame(1, -70, reset=True)]
    frames[3] = frames[3].model_copy(update={"ts": T0 + timedelta(hours=2)})
    with psycopg.connect(database) as conn:
        assert write_radio_frames(conn, frames) == 4
        assert write_radio_frames(conn, frames) == 0  # a replay after a restart
        (quality,) = conn.execute(
            "SELECT frames, frames_lost, loss_rate, counter_resets, last_seen, last_rssi, "
            "last_snr, avg_gateways FROM radio_quality WHERE device_id = 'elsys-meeting-room'"
        ).fetchall()
        gateways = conn.execute(
            "SELECT gateways FROM radio_frames WHERE device_id = 'elsys-meeting-room' "
            "ORDER BY ts LIMIT 1"
        ).fetchone()
    assert quality == (4, 3, 3 / 7, 1, T0 + timedelta(hours=2), -70.0, 7.5, 2)
    assert gateways == (
        [
            {"gateway_id": "gtw-roof", "rssi": -80.0, "snr": 7.5},
            {"gateway_id": "gtw-hall", "rssi": -100.0, "snr": None},
        ],
    )


def heard_by(record: RadioRecord, *stations: tuple[str, float], origin: str) -> RadioRecord:
    """A copy of `record`'s frame heard by other stations, as the stream makes it."""
    receptions = tuple(Reception(gateway_id=s, rssi=rssi, snr=None) for s, rssi in stations)
    return record.model_copy(update={"receptions": receptions, "origin": origin})


def stored_receptions(conn: psycopg.Connection, f_cnt: int) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT gateways, gateway_count, best_rssi, origin FROM radio_frames "
        "WHERE device_id = 'elsys-meeting-room' AND f_cnt = %s",
        (f_cnt,),
    ).fetchone()
    assert row is not None
    return row


def test_a_frame_heard_by_several_gateways_is_one_row_with_all_their_receptions(
    database: str,
) -> None:
    first = frame(21, -95)
    same_batch = heard_by(first, ("gtw-roof", -90.0), ("gtw-basement", -60.0), origin="raw/1/5")
    later = heard_by(first, ("gtw-annex", -110.0), origin="raw/2/9")
    with psycopg.connect(database) as conn:
        write_radio_frames(conn, [first, same_batch])
        write_radio_frames(conn, [later])
        write_radio_frames(conn, [first, same_batch])  # a replay after a restart
        write_radio_frames(conn, [later])
        gateways, count, best_rssi, origin = stored_receptions(conn, 21)
    assert [g["gateway_id"] for g in gateways] == [
        "gtw-roof",
        "gtw-hall",
        "gtw-basement",
        "gtw-annex",
    ]
    assert (count, best_rssi, origin) == (4, -60.0, "raw/0/21")
