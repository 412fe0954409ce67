"""The cost per reading of the alarm rules (models.alarms), in-process, no services.

    python -m benchmarks.alarm_rules_cost

Each case timed over many readings of one usage with the built-in rules: a quiet usage
(no detection, nothing open: most readings), a usage whose threshold alarm was just
raised (each reading still counts towards the rule and its flap history) or has been open
for 30 readings, and a reading with a detection that updates the open alarm. Also the
JSON size the alarm state adds to the usage's saved state.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from models.alarms import DEFAULT_ALARM_RULES, Step, Subject, UsageAlarms, observe_alarms
from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import UsageType

T0 = datetime(2026, 11, 25, tzinfo=UTC)
SUBJECT = Subject(tenant_id="t", entity_id="e", equipment_id="q", usage_id="u", device_id="d")
USAGE = (UsageType.INSTANT, ())
READINGS = 5_000
RUNS = 7
"""The fastest run counts: on a shared machine the others measure the neighbours."""


def per_reading_us(state: UsageAlarms, events: Callable[[datetime], list[DetectionEvent]]) -> float:
    steps = [Step(at, events(at)) for at in (T0 + timedelta(minutes=n) for n in range(READINGS))]

    def run() -> None:
        for step in steps:
            observe_alarms(state, SUBJECT, USAGE, DEFAULT_ALARM_RULES, step)

    return min(timeit.repeat(run, number=1, repeat=RUNS)) / READINGS * 1e6


def high(at: datetime) -> list[DetectionEvent]:
    return [DetectionEvent.of(DetectionKind.THRESHOLD_HIGH, "t", "u", at, Severity.MAJOR)]


def after(state: UsageAlarms, readings: int) -> UsageAlarms:
    """The state once `readings` more readings without detection came in."""
    for n in range(1, readings + 1):
        step = Step(T0 + timedelta(minutes=n))
        state, _ = observe_alarms(state, SUBJECT, USAGE, DEFAULT_ALARM_RULES, step)
    return state


def main() -> None:
    quiet = UsageAlarms()
    raised, _ = observe_alarms(quiet, SUBJECT, USAGE, DEFAULT_ALARM_RULES, Step(T0, high(T0)))
    cases = [
        ("quiet usage", quiet, lambda at: []),
        ("threshold alarm just raised", raised, lambda at: []),
        ("threshold alarm open 30 readings", after(raised, 30), lambda at: []),
        ("detection on an open alarm", raised, high),
    ]
    for name, state, events in cases:
        print(f"{name:<34} {per_reading_us(state, events):8.2f} us/reading")
    print(f"{'alarm state with an open alarm':<34} {len(raised.model_dump_json()):8d} bytes")


if __name__ == "__main__":
    main()
