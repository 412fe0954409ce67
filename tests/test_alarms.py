"""Alarm lifecycle and rules on hand-made detections: pure, no Kafka."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from models.alarms import (
    DEFAULT_ALARM_RULES,
    AlarmChange,
    AlarmRule,
    AlarmSeverity,
    Step,
    Subject,
    Transition,
    UsageAlarms,
    observe_alarms,
)
from models.alarms.flapping import percent_state_change
from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import UsageType

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SUBJECT = Subject(tenant_id="t", entity_id="e", equipment_id="q", usage_id="u1", device_id="d1")
K = DetectionKind
S = AlarmSeverity


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(kind: DetectionKind, minutes: float, **details: Any) -> DetectionEvent:
    return DetectionEvent.of(kind, "t", "u1", at(minutes), Severity.MAJOR, **details)


def status(name: str, minutes: float) -> DetectionEvent:
    return DetectionEvent.of(
        K.TRANSMISSION_STATUS, "t", "u1", at(minutes), Severity.MAJOR, name, status=name
    )


class Usage:
    """A usage's alarm state driven step by step; every change kept."""

    def __init__(
        self,
        rules: Sequence[AlarmRule] = DEFAULT_ALARM_RULES,
        kind: UsageType = UsageType.INSTANT,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.rules, self.usage = rules, (kind, tags)
        self.state = UsageAlarms()
        self.changes: list[AlarmChange] = []

    def reading(self, minutes: float, *events: DetectionEvent) -> list[AlarmChange]:
        return self._step(Step(at(minutes), events))

    def clock(self, minutes: float, *events: DetectionEvent) -> list[AlarmChange]:
        return self._step(Step(at(minutes), events, reading=False))

    def _step(self, step: Step) -> list[AlarmChange]:
        self.state, found = observe_alarms(self.state, SUBJECT, self.usage, self.rules, step)
        self.changes += found
        return found

    def transitions(self) -> list[tuple[Transition, AlarmSeverity]]:
        return [(c.transition, c.alarm.severity) for c in self.changes]

    def ids(self) -> set[str]:
        return {c.alarm.id for c in self.changes}


def rule(**fields: Any) -> AlarmRule:
    base: dict[str, Any] = {
        "type": "threshold",
        "create": [{"severity": "major", "when": ["threshold_high"]}],
        "clear": {"when": ["threshold_cleared"]},
    }
    return AlarmRule.model_validate(base | fields)


def test_a_threshold_crossing_raises_an_alarm_its_return_clears() -> None:
    usage = Usage()
    usage.reading(0, event(K.THRESHOLD_HIGH, 0, observed=30))
    usage.reading(10)
    usage.reading(20, event(K.THRESHOLD_CLEARED, 20))
    assert usage.transitions() == [(Transition.RAISED, S.MAJOR), (Transition.CLEARED, S.MAJOR)]
    raised, cleared = usage.changes
    assert raised.alarm.start_ts == at(0) and raised.alarm.details["observed"] == 30
    assert cleared.alarm.id == raised.alarm.id
    assert cleared.alarm.cleared and cleared.alarm.end_ts == at(20)
    assert raised.alarm.device_id == "d1" and raised.alarm.equipment_id == "q"


def test_the_same_data_raises_the_same_ids_on_a_replay() -> None:
    first, replay = Usage(), Usage()
    for usage in (first, replay):
        usage.reading(0, event(K.THRESHOLD_HIGH, 0))
        usage.reading(10, event(K.THRESHOLD_CLEARED, 10))
        usage.reading(20, event(K.THRESHOLD_LOW, 20))
    assert first.changes == replay.changes
    assert len(first.ids()) == 2  # a new alarm after the clear, with an id of its own


def test_repeated_detections_update_the_open_alarm() -> None:
    usage = Usage()
    usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.reading(10, event(K.THRESHOLD_LOW, 10))
    assert usage.transitions() == [(Transition.RAISED, S.MAJOR), (Transition.REPEATED, S.MAJOR)]
    repeated = usage.changes[-1].alarm
    assert repeated.occurrences == 2 and repeated.last_seen_ts == at(10)
    assert len(usage.ids()) == 1


def test_orange_then_red_is_one_alarm_whose_severity_rises() -> None:
    usage = Usage()
    usage.clock(15, status("orange", 15))
    usage.clock(50, status("red", 50))
    assert usage.transitions() == [
        (Transition.RAISED, S.WARNING),
        (Transition.SEVERITY_CHANGED, S.MAJOR),
    ]
    assert len(usage.ids()) == 1 and usage.changes[-1].alarm.occurrences == 2


def test_a_detection_of_a_lower_condition_lowers_the_severity() -> None:
    two_levels = rule(
        create=[
            {"severity": "major", "when": ["threshold_high"]},
            {"severity": "warning", "when": ["threshold_low"]},
        ],
        clear={"when": ["threshold_cleared"]},
    )
    usage = Usage([two_levels])
    usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.reading(10, event(K.THRESHOLD_LOW, 10))
    assert usage.transitions() == [
        (Transition.RAISED, S.MAJOR),
        (Transition.SEVERITY_CHANGED, S.WARNING),
    ]
    assert len(usage.ids()) == 1


def test_red_for_fifteen_minutes_turns_critical_on_the_clock_at_the_data_time() -> None:
    usage = Usage()
    usage.clock(50, status("red", 50))
    assert usage.state.next_due() == at(65)
    assert usage.clock(64) == []
    (critical,) = usage.clock(70)  # the clock's tick comes late: dated when it was met
    assert critical.transition is Transition.SEVERITY_CHANGED
    assert critical.alarm.severity is S.CRITICAL
    assert critical.ts == at(65)
    assert usage.state.next_due() is None
    (cleared,) = usage.reading(80, status("green", 80))
    assert cleared.transition is Transition.CLEARED and len(usage.ids()) == 1


def test_red_for_less_than_the_duration_never_turns_critical() -> None:
    usage = Usage()
    usage.clock(50, status("red", 50))
    usage.reading(60, status("green", 60))
    usage.clock(90)
    assert usage.transitions() == [(Transition.RAISED, S.MAJOR), (Transition.CLEARED, S.MAJOR)]
    assert usage.state.next_due() is None


def test_a_reading_after_the_duration_raises_before_it_clears() -> None:
    """The clock did not tick in time: the reading's step fires the timer first."""
    only_critical = rule(
        type="transmission",
        create=[{"severity": "critical", "when": ["transmission_red"], "duration_s": 900}],
        clear={"when": ["transmission_green"]},
    )
    usage = Usage([only_critical])
    usage.clock(50, status("red", 50))
    assert usage.changes == []
    usage.reading(70, status("green", 70))
    assert usage.transitions() == [
        (Transition.RAISED, S.CRITICAL),
        (Transition.CLEARED, S.CRITICAL),
    ]
    assert usage.changes[0].alarm.start_ts == at(65)


def test_a_repeating_condition_raises_at_the_third_reading_out_of_range() -> None:
    usage = Usage([rule(create=[{"severity": "major", "when": ["threshold_high"], "repeat": 3}])])
    usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.reading(10)
    assert usage.changes == []
    usage.reading(20)
    assert usage.transitions() == [(Transition.RAISED, S.MAJOR)]
    assert usage.changes[0].alarm.start_ts == at(20)


def test_a_clear_restarts_the_repeat_count() -> None:
    usage = Usage([rule(create=[{"severity": "major", "when": ["threshold_high"], "repeat": 3}])])
    usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.reading(10)
    usage.reading(20, event(K.THRESHOLD_CLEARED, 20))
    usage.reading(30, event(K.THRESHOLD_HIGH, 30))
    usage.reading(40)
    assert usage.changes == []
    assert usage.reading(50) != []


def test_an_anomaly_clears_after_three_normal_readings() -> None:
    usage = Usage()
    usage.reading(0, event(K.ANOMALY, 0))
    usage.reading(10)
    usage.reading(20)
    assert usage.transitions() == [(Transition.RAISED, S.MINOR)]
    (cleared,) = usage.reading(30)
    assert cleared.transition is Transition.CLEARED and cleared.alarm.end_ts == at(30)


def test_another_anomaly_restarts_the_normal_count() -> None:
    usage = Usage()
    usage.reading(0, event(K.ANOMALY, 0))
    usage.reading(10)
    usage.reading(20, event(K.ANOMALY, 20))
    usage.reading(30)
    usage.reading(40)
    assert Transition.CLEARED not in [t for t, _ in usage.transitions()]
    assert usage.reading(50)[0].transition is Transition.CLEARED


def test_a_meter_defect_clears_at_the_next_normal_reading() -> None:
    usage = Usage(kind=UsageType.INDEX)
    usage.reading(0, event(K.DECREASING_INDEX, 0))
    usage.reading(10)
    assert usage.transitions() == [(Transition.RAISED, S.MAJOR), (Transition.CLEARED, S.MAJOR)]


def test_a_gap_alarm_clears_when_the_gap_closes() -> None:
    usage = Usage()
    usage.clock(30, event(K.GAP_OPENED, 30))
    usage.reading(60, event(K.GAP_CLOSED, 60))
    assert usage.transitions() == [(Transition.RAISED, S.MINOR), (Transition.CLEARED, S.MINOR)]


def test_an_index_rollover_raises_nothing() -> None:
    usage = Usage(kind=UsageType.INDEX)
    usage.reading(0, event(K.INDEX_ROLLOVER, 0))
    assert usage.changes == [] and usage.state == UsageAlarms()


def test_rules_apply_to_their_usage_types_and_tags() -> None:
    boilers = rule(usage_types=["instant"], tags=["boiler"])
    for kind, tags, raised in [
        (UsageType.INSTANT, ("boiler",), True),
        (UsageType.INSTANT, ("ahu",), False),
        (UsageType.INDEX, ("boiler",), False),
    ]:
        usage = Usage([boilers], kind, tags)
        usage.reading(0, event(K.THRESHOLD_HIGH, 0))
        assert bool(usage.changes) is raised, (kind, tags)


def test_a_quiet_usage_carries_no_alarm_state() -> None:
    usage = Usage()
    usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.reading(10, event(K.THRESHOLD_CLEARED, 10))
    for n in range(2, 21):
        usage.reading(10 * n)
    assert usage.state.tracks  # the problem is still among the last 21 states
    usage.reading(210)
    assert usage.state == UsageAlarms()


def test_an_alarm_cleared_by_hand_is_forgotten_and_the_next_detection_opens_another() -> None:
    usage = Usage()
    (raised,) = usage.reading(0, event(K.THRESHOLD_HIGH, 0))
    usage.state = usage.state.forget({raised.alarm.id})
    (again,) = usage.reading(10, event(K.THRESHOLD_LOW, 10))
    assert again.transition is Transition.RAISED and again.alarm.id != raised.alarm.id


def test_percent_state_change_weighs_recent_changes_more() -> None:
    assert percent_state_change("0" * 21) == 0
    assert percent_state_change("01" * 10 + "0") == pytest.approx(100)
    assert percent_state_change("0" * 20 + "1") == pytest.approx(1.25 * 100 / 20)
    assert percent_state_change("0" + "1" * 20) == pytest.approx(0.75 * 100 / 20)
    assert percent_state_change("01") == percent_state_change("0" * 20 + "1")


def flapping_usage() -> Usage:
    """A level going out of range and back at every other reading, nine times."""
    usage = Usage()
    for n in range(9):
        usage.reading(20 * n, event(K.THRESHOLD_HIGH, 20 * n))
        usage.reading(20 * n + 10, event(K.THRESHOLD_CLEARED, 20 * n + 10))
    return usage


def test_a_flapping_alarm_stays_open_raised_once() -> None:
    usage = flapping_usage()
    transitions = [t for t, _ in usage.transitions()]
    started = transitions.index(Transition.FLAPPING_STARTED)
    assert Transition.CLEARED not in transitions[started:]
    assert Transition.RAISED not in transitions[started:]
    assert usage.changes[-1].alarm.flapping and not usage.changes[-1].alarm.cleared
    assert len({c.alarm.id for c in usage.changes[started:]}) == 1


def test_flapping_starts_above_its_start_percent() -> None:
    changes = [t for t, _ in flapping_usage().transitions()]
    cycles_before = changes[: changes.index(Transition.FLAPPING_STARTED)].count(Transition.RAISED)
    # 5 changes weigh 29.9 %, 6 pass 30 %: at the fourth raise; its clear is then held
    assert cycles_before == 4
    strict = Usage([rule(flapping={"start_percent": 90, "stop_percent": 50})])
    for n in range(9):
        strict.reading(20 * n, event(K.THRESHOLD_HIGH, 20 * n))
        strict.reading(20 * n + 10, event(K.THRESHOLD_CLEARED, 20 * n + 10))
    assert Transition.FLAPPING_STARTED not in [t for t, _ in strict.transitions()]
    assert [t for t, _ in strict.transitions()].count(Transition.RAISED) == 9


def test_flapping_stops_below_its_stop_percent_and_then_clears() -> None:
    usage = flapping_usage()
    n = 180
    while Transition.FLAPPING_STOPPED not in [t for t, _ in usage.transitions()]:
        usage.reading(n)
        n += 10
        assert n < 500, "flapping never stopped"
    stopped, cleared = usage.changes[-2:]
    assert (stopped.transition, cleared.transition) == (
        Transition.FLAPPING_STOPPED,
        Transition.CLEARED,
    )
    history = usage.state.tracks["threshold"].history
    assert percent_state_change(history) < 20 <= percent_state_change(history[:-1] + "1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"create": [{"severity": "major", "when": ["too_hot"]}]}, "unknown signal(s) too_hot"),
        ({"clear": {"when": ["threshold_high"]}}, "both create and clear"),
        ({"clear": {}}, "needs signals (when) or normal_readings"),
        ({"flapping": {"start_percent": 20, "stop_percent": 30}}, "stop_percent must be below"),
        ({"create": [{"severity": "fatal", "when": ["anomaly"]}]}, "severity"),
    ],
)
def test_a_wrong_rule_says_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rule(**fields)
