"""The worker's dead letters are counted, and logged marked for the log set-up's throttling
filter, with where they came from (no Kafka: the record and the counter are observed)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from models.dead_letter import DeadLetter, RejectCode
from stream.dead_letters import note_refused


def letter(origin: str) -> DeadLetter:
    return DeadLetter(
        code=RejectCode.UNKNOWN_DEVICE,
        reason="device ghost-404 is not registered",
        stage="decode",
        origin=origin,
        device_id="ghost-404",
        failed_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
        original=b"{}",
    )


def test_a_dead_letter_is_counted_and_logged_for_throttling_with_its_place(
    caplog: pytest.LogCaptureFixture,
) -> None:
    labels = {"stage": "decode", "code": RejectCode.UNKNOWN_DEVICE.value}
    before = REGISTRY.get_sample_value("smati_dead_letters_total", labels) or 0.0
    with caplog.at_level(logging.WARNING, logger="stream.dead_letters"):
        note_refused(letter("smati.raw/3/45"))
        note_refused(letter("mqtt:smati/devices/ghost-404/up"))
    assert REGISTRY.get_sample_value("smati_dead_letters_total", labels) == before + 2
    first, second = (vars(record) for record in caplog.records)
    assert first["throttle"] == second["throttle"] == "dead-letter:unknown_device"
    assert (first["device"], first["partition"], first["offset"]) == ("ghost-404", 3, 45)
    assert "partition" not in second  # not from the raw topic: no position
    assert "ghost-404 is not registered" in caplog.records[0].getMessage()
