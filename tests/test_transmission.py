"""Transmission monitoring on hand-made timelines: period, status, gaps, horizon. No Kafka."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from models.detection import TRANSMISSION_KINDS, DetectionEvent, DetectionKind
from models.reading import Reading, UsageType
from models.registry import Usage, UsageRef
from models.rules import UsageState, check_reading, check_silence, silence_due
from models.transmission import (
    CatchUp,
    Gap,
    OffsetSnapshot,
    PeriodEstimate,
    ProcessingHorizon,
    TransmissionPolicy,
    TransmissionStatus,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PERIOD = 60.0
POLICY = TransmissionPolicy(orange_after=1.5, red_after=5, gap_after=2.5)
REF = UsageRef(
    tenant_id="t",
    entity_id="e",
    equipment_id="q",
    usage=Usage(id="u1", type=UsageType.INSTANT, unit="degC", period_s=PERIOD),
)
Step = float | tuple[str, float]
"""A reading at that many seconds after T0, or ("clock", seconds): the horizon moves there."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(seconds: float) -> Reading:
    return Reading(
        tenant_id="t",
        usage_id="u1",
        ts=at(seconds),
        value=20.0,
        unit="degC",
        usage_type=UsageType.INSTANT,
        source="test",
        device_id="d",
        origin=f"raw/0/{seconds}",
    )


def play(
    steps: Iterable[Step], state: UsageState | None = None
) -> tuple[UsageState, list[DetectionEvent]]:
    """Run readings and clock ticks; the transmission events found, in order."""
    state = state or UsageState()
    found: list[DetectionEvent] = []
    for step in steps:
        if isinstance(step, tuple):
            state, events = check_silence(state, REF, at(step[1]), POLICY)
        else:
            state, events = check_reading(state, REF, reading(step), transmission_policy=POLICY)
        found += [event for event in events if event.kind in TRANSMISSION_KINDS]
    return state, found


def statuses(events: list[DetectionEvent]) -> list[tuple[str, datetime]]:
    return [
        (event.details["status"], event.ts)
        for event in events
        if event.kind is DetectionKind.TRANSMISSION_STATUS
    ]


def gaps(events: list[DetectionEvent]) -> list[tuple[DetectionKind, str, str | None]]:
    return [
        (event.kind, event.details["start"], event.details.get("end"))
        for event in events
        if event.kind is not DetectionKind.TRANSMISSION_STATUS
    ]


def every_period(start: float, count: int) -> list[float]:
    return [start + n * PERIOD for n in range(count)]


def test_period_is_learnt_despite_jitter_duplicates_late_data_and_a_gap() -> None:
    jittered = [n * 60 + (7 if n % 2 else -5) for n in range(12)]
    steps = jittered[:6] + [jittered[5], jittered[2]] + [2000.0 + t for t in jittered[6:]]
    state, _ = play(steps)
    assert state.transmission.period.seconds == pytest.approx(60, abs=12)
    assert state.transmission.period_s(REF) == state.transmission.period.seconds


def test_registered_period_is_used_until_enough_intervals() -> None:
    assert PeriodEstimate().observe(10).observe(10).seconds is None
    state, _ = play([0, 10, 20])
    assert state.transmission.period_s(REF) == PERIOD


def test_never_heard_usage_is_violet_once_then_green_at_its_first_reading() -> None:
    state, events = play([("clock", 0), ("clock", 600), 700, ("clock", 710)])
    assert statuses(events) == [("violet", at(0)), ("green", at(700))]
    assert state.transmission.status is TransmissionStatus.GREEN


def test_silent_usage_turns_orange_then_red_dated_from_its_last_reading() -> None:
    state, events = play([0, ("clock", 60), ("clock", 100), ("clock", 200), ("clock", 400)])
    assert statuses(events) == [
        ("green", at(0)),
        ("orange", at(1.5 * PERIOD)),
        ("red", at(5 * PERIOD)),
    ]
    _, again = play([("clock", 500), ("clock", 900)], state)
    assert statuses(again) == []


def test_a_late_clock_announces_every_step_it_skipped() -> None:
    _, events = play([0, ("clock", 3600)])
    assert statuses(events)[1:] == [("orange", at(90)), ("red", at(300))]


def test_gap_opens_on_silence_and_closes_when_readings_resume() -> None:
    _, events = play([0, ("clock", 100), ("clock", 200), 1000, 1060])
    assert gaps(events) == [
        (DetectionKind.GAP_OPENED, at(0).isoformat(), None),
        (DetectionKind.GAP_CLOSED, at(0).isoformat(), at(1000).isoformat()),
    ]
    assert statuses(events)[-1] == ("green", at(1000))


def test_history_replayed_at_once_finds_the_same_gaps_and_statuses_as_live() -> None:
    timeline = every_period(0, 5) + every_period(1000, 5)
    live = [step for t in timeline for step in (t, ("clock", t + 59))]
    _, seen_live = play(live)
    _, seen_at_once = play([*timeline, ("clock", timeline[-1] + 59)])
    assert {e.id for e in seen_at_once if e.kind is not DetectionKind.GAP_OPENED} == {
        e.id for e in seen_live if e.kind is not DetectionKind.GAP_OPENED
    }
    gap = (DetectionKind.GAP_CLOSED, at(240).isoformat(), at(1000).isoformat())
    assert gaps(seen_at_once) == [gap]


def test_continuous_history_caught_up_late_raises_nothing() -> None:
    _, events = play([*every_period(0, 30), ("clock", 29 * PERIOD + 30)])
    assert statuses(events) == [("green", at(0))]
    assert gaps(events) == []


def test_open_gap_filled_by_late_data_is_corrected_not_left_open() -> None:
    state, events = play([0, ("clock", 200), 60, 120])
    assert gaps(events) == [
        (DetectionKind.GAP_OPENED, at(0).isoformat(), None),
        (DetectionKind.GAP_FILLED, at(0).isoformat(), None),
    ]
    assert state.transmission.open_gap_start is None


def test_out_of_order_reading_inside_a_closed_gap_splits_it() -> None:
    state, events = play([0, 1000, 500])
    assert gaps(events) == [
        (DetectionKind.GAP_CLOSED, at(0).isoformat(), at(1000).isoformat()),
        (DetectionKind.GAP_CORRECTED, at(0).isoformat(), at(500).isoformat()),
        (DetectionKind.GAP_CLOSED, at(500).isoformat(), at(1000).isoformat()),
    ]
    state, filled = play(every_period(560, 8), state)
    assert state.transmission.recent_gaps == (Gap(start=at(0), end=at(500)),)
    last_word = {start: kind for kind, start, _ in gaps(filled)}
    assert set(last_word.values()) == {DetectionKind.GAP_FILLED}


def test_replay_after_a_restart_emits_nothing_new() -> None:
    steps: list[Step] = [0, 60, ("clock", 100), ("clock", 400), 500, 560, ("clock", 600)]
    checkpoint, before = play(steps[:4])
    _, after = play(steps[4:], checkpoint)
    replayed_state, replayed = play(steps[2:], checkpoint)
    assert {e.id for e in replayed} <= {e.id for e in before + after}
    assert replayed_state.transmission == play(steps)[0].transmission


def snapshot(second: float, ends: tuple[int, ...], committed: tuple[int, ...]) -> OffsetSnapshot:
    """The partitions' ends and committed offsets at `second`."""
    return OffsetSnapshot(
        at=at(second),
        ends=dict(enumerate(ends)),
        committed=dict(enumerate(committed)),
    )


def test_horizon_waits_for_every_partition_to_commit_what_existed() -> None:
    horizon = ProcessingHorizon()
    assert horizon.observe(snapshot(0, (100, 50), (40, 50))) is None
    assert horizon.observe(snapshot(1, (120, 80), (100, 40))) is None  # one partition behind
    assert horizon.observe(snapshot(2, (120, 90), (120, 80))) == at(1)
    assert horizon.observe(snapshot(3, (120, 95), (120, 90))) == at(2)
    assert horizon.observe(snapshot(4, (130, 95), (130, 95))) == at(4)


def test_horizon_stays_put_during_a_backlog() -> None:
    horizon = ProcessingHorizon()
    horizon.observe(snapshot(0, (10, 10), (10, 10)))
    for second in range(1, 20):
        assert horizon.observe(snapshot(second, (10 + 100 * second, 10), (10, 10))) == at(0)


def test_caught_up_once_what_the_partitions_held_when_assigned_is_committed() -> None:
    catch_up = CatchUp()
    owned = {0, 1}
    assert not catch_up.done(owned)  # no snapshot since the assignment
    catch_up.observe(snapshot(0, (100, 50, 7), (40, 50)), owned)  # partition 2: another's
    assert not catch_up.done(owned)
    catch_up.observe(snapshot(1, (180, 90, 9), (99, 70)), owned)
    assert not catch_up.done(owned)
    catch_up.observe(snapshot(2, (250, 120, 9), (100, 75)), owned)  # newer uplinks wait
    assert catch_up.done(owned)
    catch_up.assigned()  # a rebalance: caught up again with what is there now
    assert not catch_up.done(owned)
    catch_up.observe(snapshot(3, (260, 130, 9), (250, 130)), owned)
    assert not catch_up.done(owned)
    assert catch_up.done(set())  # nothing owned, nothing to catch up with


@pytest.mark.parametrize(
    "steps",
    [
        [],  # registered, never heard
        [0.0],
        [0.0, 60.0, 120.0],
        [0.0, 60.0, ("clock", 100.0), ("clock", 200.0)],  # orange
        [0.0, 60.0, ("clock", 700.0)],  # red, gap open
        [0.0, 60.0, ("clock", 700.0), 760.0],  # back to green, gap closed
    ],
)
def test_silence_changes_nothing_until_due_then_something(steps: list[Step]) -> None:
    """The clock skips a usage until `silence_due`: that must lose no transition."""
    state, _ = play(steps)
    state, _ = check_silence(state, REF, at(0), POLICY)  # announce violet if never heard
    due = silence_due(state, REF, POLICY)
    if due is None:  # violet announced, or red with its gap open: only a reading changes it
        assert state.transmission.status in (TransmissionStatus.VIOLET, TransmissionStatus.RED)
        assert check_silence(state, REF, at(10**6), POLICY) == (state, [])
        return
    for before in (due - timedelta(seconds=30), due):
        assert check_silence(state, REF, before, POLICY) == (state, [])
    later, found = check_silence(state, REF, due + timedelta(milliseconds=1), POLICY)
    assert found and later != state


def test_violet_announced_again_after_a_lost_state_keeps_its_id() -> None:
    """The one transition not dated by the data: a worker that lost the state of a
    never-heard usage (killed before writing it) announces it again, stored once."""
    _, (first,) = check_silence(UsageState(), REF, at(10), POLICY)
    _, (again,) = check_silence(UsageState(), REF, at(70), POLICY)
    assert first.details["status"] == again.details["status"] == TransmissionStatus.VIOLET
    assert first.id == again.id and first.ts != again.ts
    _, (other,) = check_silence(
        UsageState(), REF.model_copy(update={"tenant_id": "t2"}), at(10), POLICY
    )
    assert other.id != first.id


def test_readings_published_late_are_no_silence_wherever_the_horizon_stands() -> None:
    """A device delivers 50 minutes of buffered readings at once: silence counts from their
    publication, so a horizon reached in the middle of the burst finds nothing; once
    nothing more is published, the usage goes silent, dated from its last reading."""
    published = at(50 * PERIOD)
    state, found = UsageState(), []
    for n, seconds in enumerate(every_period(0, 50)):
        heard = published + timedelta(seconds=n / 10)
        state, events = check_reading(
            state, REF, reading(seconds), transmission_policy=POLICY, heard=heard
        )
        state, silent = check_silence(state, REF, heard, POLICY)  # the horizon, mid-burst
        found += events + silent
    assert statuses(found) == [("green", at(0))]
    assert gaps([e for e in found if e.kind in TRANSMISSION_KINDS]) == []
    quiet = published + timedelta(seconds=4.9 + 1.5 * PERIOD)
    assert check_silence(state, REF, quiet, POLICY) == (state, [])
    assert silence_due(state, REF, POLICY) == quiet
    _, late = check_silence(state, REF, quiet + timedelta(seconds=1), POLICY)
    assert statuses(late) == [("orange", at(49 * PERIOD + 1.5 * PERIOD))]
