"""Publishing detection events to the events topic, keyed by usage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import faust

from models.detection import DetectionEvent
from models.registry import UsageRef
from models.rules import UsageState
from stream.metrics import DETECTIONS
from stream.sink import DatabaseSink
from stream.usage_states import transmission_row


def publish_detections(events: faust.TopicT, found: Iterable[DetectionEvent]) -> None:
    """Buffered: Faust flushes its producer before it commits the offsets they come from."""
    for detection in found:
        DETECTIONS.labels(kind=detection.kind).inc()
        events.send_soon(key=detection.usage_id.encode(), value=detection.to_json())


async def store_transmission(
    sink: DatabaseSink, usages: Mapping[str, UsageRef], changed: Mapping[str, UsageState]
) -> None:
    """The current transmission of the usages whose state changed (still registered)."""
    rows = [transmission_row(usages[u], state) for u, state in changed.items() if u in usages]
    await sink.write_transmission(rows)
