"""Refused messages as dead letters: their reason, where they came from, the original bytes."""

from __future__ import annotations

from faust.types import EventT

from models.dead_letter import DeadLetter, Rejection
from models.dead_letter import dead_letter as dead_letter  # re-exported for the stream
from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading


def origin_of(event: EventT) -> str:
    """Where a message sits in Kafka: a replay of it is recognised downstream by this."""
    message = event.message
    return f"{message.topic}/{message.partition}/{message.offset}"


def original_bytes(event: EventT) -> bytes:
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
