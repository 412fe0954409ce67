"""Refused messages as dead letters: their reason, where they came from, the original bytes."""

from __future__ import annotations

import logging
from typing import Any

from faust.types import EventT

from models.dead_letter import DeadLetter, Rejection, dead_letter
from models.detection import DetectionEvent
from models.metrics import DEAD_LETTERS
from models.radio_health import RadioRecord
from models.reading import Reading

log = logging.getLogger(__name__)


def origin_of(event: EventT[bytes]) -> str:
    """Where a message sits in Kafka: a replay of it is recognised downstream by this."""
    message = event.message
    return f"{message.topic}/{message.partition}/{message.offset}"


def original_bytes(event: EventT[bytes]) -> bytes:
    return event.value if isinstance(event.value, bytes) else b""


def row_dead_letter(
    row: Reading | DetectionEvent | RadioRecord, rejection: Rejection, stage: str
) -> DeadLetter:
    """A decoded row refused later: its JSON is the original, under the origin it came from."""
    origin = row.origin if isinstance(row, Reading | RadioRecord) else f"event/{row.id}"
    device_id = row.device_id if isinstance(row, Reading | RadioRecord) else None
    return dead_letter(
        rejection, stage=stage, origin=origin, original=row.to_json(), device_id=device_id
    )


def note_refused(letter: DeadLetter) -> None:
    """Count a dead letter, and log it at a bounded rate: one line per code per interval
    (the log set-up's throttling filter), so a flood of bad input cannot flood the log."""
    DEAD_LETTERS.labels(stage=letter.stage, code=letter.code).inc()
    log.warning(
        "dead letter (%s) %s: %s",
        letter.stage,
        letter.code,
        letter.reason,
        extra={
            "throttle": f"dead-letter:{letter.code}",
            "device": letter.device_id,
            "usage": letter.usage_id,
            **position(letter.origin),
        },
    )


def position(origin: str) -> dict[str, Any]:
    """The partition and offset of a raw-topic origin (`topic/partition/offset`), as log
    fields; none for another origin."""
    _, partition, offset = (["", "", "", *origin.split("/")])[-3:]
    if not (partition.isdigit() and offset.isdigit()):
        return {}
    return {"partition": int(partition), "offset": int(offset)}
