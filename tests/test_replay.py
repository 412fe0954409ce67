"""Which refused uplinks a replay sends again: each once, under the origin of its first pass."""

from __future__ import annotations

from datetime import UTC, datetime

from models.dead_letter import DeadLetter, RejectCode, Rejection, dead_letter
from models.replay import REPLAY_OF, replay_origin, replays
from models.uplink import RawUplink

AT = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def uplink(device_id: str, **metadata: object) -> RawUplink:
    return RawUplink(
        source="tts", device_id=device_id, received_at=AT, payload=b"{}", metadata=metadata
    )


def refused(
    code: RejectCode, stage: str, origin: str, refused_uplink: RawUplink | None, channel: str = ""
) -> DeadLetter:
    return dead_letter(
        Rejection(code=code, reason="r", channel=channel or None),
        stage=stage,
        origin=origin,
        original=b"{}",
        uplink=refused_uplink,
    )


def test_an_uplink_refused_for_two_values_is_replayed_once_under_its_raw_origin() -> None:
    first = uplink("a")
    letters = [
        refused(RejectCode.WRONG_UNIT, "decode", "smati.raw/1/7", first, "temperature"),
        refused(RejectCode.WRONG_UNIT, "decode", "smati.raw/1/7", first, "humidity"),
        refused(RejectCode.WRONG_UNIT, "decode", "smati.raw/0/3", uplink("b")),
    ]
    again = replays(letters)
    assert [(u.device_id, replay_origin(u)) for u in again] == [
        ("a", "smati.raw/1/7"),
        ("b", "smati.raw/0/3"),
    ]
    assert again[0].payload == first.payload and replay_origin(first) is None


def test_an_uplink_refused_again_after_a_replay_keeps_its_first_origin() -> None:
    """Its new letter's origin is the first pass's (the stream uses it): one replay each."""
    replayed = uplink("a", **{REPLAY_OF: "smati.raw/1/7"})
    letters = [
        refused(RejectCode.UNKNOWN_DEVICE, "decode", "smati.raw/1/7", uplink("a")),
        refused(RejectCode.UNKNOWN_DEVICE, "decode", "smati.raw/1/7", replayed),
    ]
    assert [replay_origin(u) for u in replays(letters)] == ["smati.raw/1/7"]


def test_a_webhook_refusal_is_replayed_under_its_endpoint_and_time() -> None:
    letter = refused(RejectCode.UNKNOWN_DEVICE, "connector", "http:/tts/acme", uplink("a"))
    (again,) = replays([letter])
    assert replay_origin(again) == f"http:/tts/acme@{letter.failed_at.isoformat()}"


def test_letters_without_an_uplink_are_not_replayed() -> None:
    letters = [refused(RejectCode.BAD_TOPIC, "connector", "mqtt:smati/devices//up", None)]
    assert replays(letters) == []
