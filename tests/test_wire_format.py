"""What the worker publishes: readings and events as pydantic serialises them, byte for
byte, though written by orjson for speed; and read back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import QualityFlag, Reading, UsageType
from models.transmission import TransmissionStatus

READINGS = [
    Reading(
        tenant_id="acme",
        usage_id="hotel.water",
        ts=datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC),
        value=1234.5,
        unit="m³",
        usage_type=UsageType.INDEX,
        source="tts",
        device_id="dev-1",
        origin="raw/0/42",
        flags=(QualityFlag.CONVERTED_UNIT,),
    ),
    Reading(
        tenant_id="acme",
        usage_id="hotel.temp",
        ts=datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        value=-3.0,
        unit="°C",
        usage_type=UsageType.INSTANT,
        source="mqtt",
        device_id="dev-2",
        origin="raw/1/7",
    ),
]
EVENTS = [
    DetectionEvent.of(
        DetectionKind.TRANSMISSION_STATUS,
        "acme",
        "hotel.water",
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        Severity.MAJOR,
        discriminator=TransmissionStatus.RED,
        status=TransmissionStatus.RED,
        previous=None,
        last_reading="2026-11-25T09:00:00+00:00",
    ),
    DetectionEvent.of(
        DetectionKind.THRESHOLD_HIGH,
        "acme",
        "hotel.temp",
        datetime(2026, 11, 25, 10, 0, 0, 5, tzinfo=UTC),
        Severity.MAJOR,
        observed=31.25,
        limit=30,
        min=None,
        unit="°C",
        rebaselined=True,
    ),
]


@pytest.mark.parametrize("item", [*READINGS, *EVENTS], ids=lambda item: type(item).__name__)
def test_published_json_is_pydantics_and_reads_back(item: Reading | DetectionEvent) -> None:
    assert item.to_json() == item.model_dump_json().encode()
    assert type(item).from_json(item.to_json()) == item
