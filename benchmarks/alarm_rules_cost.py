"""The cost per reading of the alarm rules (models.alarms), in-process, no services.

    python -m benchmarks.alarm_rules_cost

Three cases, each timed over many readings of one usage with the built-in rules: a quiet
usage (no detection, nothing open: most readings), a usage whose threshold alarm is open
(each reading counts towards the rule), and a reading with a detection that updates the
open alarm. Also the JSON size the alarm state adds to the usage's saved state.
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


def main() -> None:
    quiet = UsageAlarms()
    open_alarm, _ = observe_alarms(quiet, SUBJECT, USAGE, DEFAULT_ALARM_RULES, Step(T0, high(T0)))
    print(f"quiet usage:            {per_reading_us(quiet, lambda at: []):8.2f} us/reading")
    print(f"threshold alarm open:   {per_reading_us(open_alarm, lambda at: []):8.2f} us/reading")
    print(f"detection on open alarm:{per_reading_us(open_alarm, high):8.2f} us/reading")
    print(f"alarm state saved:      {len(open_alarm.model_dump_json()):8d} bytes (open alarm)")


if __name__ == "__main__":
    main()
