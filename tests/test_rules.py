"""Detection rules on hand-made reading sequences: pure, no Kafka."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from models.anomaly import AnomalyConfig
from models.detection import TRANSMISSION_KINDS, DetectionEvent, DetectionKind
from models.reading import Reading, UsageType
from models.registry import Usage, UsageRef
from models.rules import UsageState, check_reading

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def usage(kind: UsageType, **limits: float) -> UsageRef:
    u = Usage(id="u1", type=kind, unit="kWh", period_s=600, **limits)
    return UsageRef(tenant_id="t", entity_id="e", equipment_id="q", usage=u)


def run(ref: UsageRef, values: Sequence[float]) -> list[DetectionEvent]:
    """Feed values 10 minutes apart; every value-rule event found, in order."""
    u = ref.usage
    state, found = UsageState(), []
    for n, value in enumerate(values):
        reading = Reading(
            tenant_id="t",
            usage_id=u.id,
            ts=T0 + timedelta(minutes=10 * n),
            value=value,
            unit=u.unit,
            usage_type=u.type,
            source="test",
            device_id="d",
            origin=f"raw/0/{n}",
        )
        state, events = check_reading(state, ref, reading)
        found += [event for event in events if event.kind not in TRANSMISSION_KINDS]
    return found


def kinds(events: list[DetectionEvent]) -> list[DetectionKind]:
    return [event.kind for event in events]


def test_increasing_index_is_clean() -> None:
    assert run(usage(UsageType.INDEX), [100, 101, 101, 105.5]) == []


def test_glitch_is_reported_once_and_does_not_move_the_baseline() -> None:
    events = run(usage(UsageType.INDEX), [1000, 1010, 700, 1020, 1030])
    assert kinds(events) == [DetectionKind.DECREASING_INDEX]
    assert events[0].details["previous_index"] == 1010
    assert events[0].details["drop"] == 310
    assert events[0].ts == T0 + timedelta(minutes=20)


def test_persistent_lower_index_is_rebaselined_after_three_readings() -> None:
    events = run(usage(UsageType.INDEX), [1000, 500, 501, 502, 503, 504])
    assert kinds(events) == [DetectionKind.DECREASING_INDEX] * 3
    assert events[-1].details["rebaselined"] is True


def test_reset_to_near_zero_is_a_meter_reset_not_a_glitch() -> None:
    events = run(usage(UsageType.INDEX), [52_000, 52_010, 3, 5, 9])
    assert kinds(events) == [DetectionKind.METER_RESET]


def test_rollover_at_index_max_is_told_apart_with_its_consumption() -> None:
    events = run(usage(UsageType.INDEX, index_max=99_999), [99_990, 99_998, 4, 9])
    assert kinds(events) == [DetectionKind.INDEX_ROLLOVER]
    assert events[0].details["consumption"] == pytest.approx(5)


def test_negative_consumption_is_found_each_time() -> None:
    events = run(usage(UsageType.CONSUMPTION), [3, -1, 2, -0.5])
    assert kinds(events) == [DetectionKind.NEGATIVE_CONSUMPTION] * 2
    assert events[1].details["observed"] == -0.5


def test_threshold_crossings_only_not_every_reading() -> None:
    events = run(usage(UsageType.INSTANT, min=16, max=27), [20, 30, 31, 29, 21, 10, 12, 20])
    assert kinds(events) == [
        DetectionKind.THRESHOLD_HIGH,
        DetectionKind.THRESHOLD_CLEARED,
        DetectionKind.THRESHOLD_LOW,
        DetectionKind.THRESHOLD_CLEARED,
    ]
    assert events[0].details["limit"] == 27


def test_late_or_repeated_reading_changes_no_state() -> None:
    ref = usage(UsageType.INDEX)
    state = UsageState()
    base = dict(tenant_id="t", usage_id="u1", unit="kWh", usage_type=ref.usage.type, source="s")
    first = Reading(ts=T0, value=100, device_id="d", origin="o1", **base)
    late = Reading(ts=T0 - timedelta(hours=1), value=10, device_id="d", origin="o2", **base)
    state, _ = check_reading(state, ref, first)
    after, events = check_reading(state, ref, late)
    assert (after, events) == (state, [])
    again, events = check_reading(state, ref, first)
    assert (again, events) == (state, [])


def test_event_ids_are_deterministic_so_replays_store_once() -> None:
    values = [1000, 1010, 700]
    assert [e.id for e in run(usage(UsageType.INDEX), values)] == [
        e.id for e in run(usage(UsageType.INDEX), values)
    ]
    first, second = run(usage(UsageType.CONSUMPTION), [-1, -1])
    assert first.id != second.id


def test_anomaly_detector_learns_an_index_meters_consumption_not_its_counter() -> None:
    """A steady meter, then one interval drawing ten times as much: under any threshold."""
    ref = usage(UsageType.INDEX)
    config = AnomalyConfig(warmup_readings=50)
    state, found, index = UsageState(), [], 1000.0
    for n in range(80):
        index += 10.0 if n == 70 else 1.0 + 0.1 * (n % 3)
        reading = Reading(
            tenant_id="t",
            usage_id="u1",
            ts=T0 + timedelta(minutes=10 * n),
            value=index,
            unit="kWh",
            usage_type=UsageType.INDEX,
            source="test",
            device_id="d",
            origin=f"raw/0/{n}",
        )
        state, events = check_reading(state, ref, reading, anomaly_config=config)
        found += [e for e in events if e.kind is DetectionKind.ANOMALY]
    assert [e.ts for e in found] == [T0 + timedelta(minutes=700)]
    assert found[0].details["observed"] == pytest.approx(10.0)
    assert found[0].details["expected_high"] < 2
