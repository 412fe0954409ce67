"""Alarm rules: which detections raise which alarm type at which severity, and what clears it.

A rule follows ThingsBoard's alarm rules: create conditions, one per severity, and one
clear condition. A condition is met by detection *signals*: a detection kind
(`threshold_high`, `anomaly` ...), or for a transmission status change the status it
enters (`transmission_orange`, `transmission_red`, `transmission_green`).

- `duration_s`: the condition must hold that long, judged on the data's time (the clock
  raises it at the processing horizon, without any reading);
- `repeat`: it must hold at that many readings in a row (the detection counts as the
  first; a level out of range keeps holding at each reading until its clear signal);
- clear: one of its signals (a level back in range, the transmission back to green, a
  gap closed), or `normal_readings` readings in a row without any of the rule's signals
  (one-shot defects and anomalies, which have no "back to normal" event).

A tenant's `alarm_rules:` in the registry replaces the built-in `DEFAULT_ALARM_RULES`:

    alarm_rules:
      - type: boiler_hot
        tags: [boiler]               # and/or usage_types: [instant]; none: every usage
        create:
          - {severity: major, when: [threshold_high], repeat: 3}
          - {severity: critical, when: [threshold_high], duration_s: 1800}
        clear: {when: [threshold_cleared]}       # or {normal_readings: 3}
        flapping: {start_percent: 30, stop_percent: 20}

(`when`, not `on`: YAML reads a bare `on` as true.)
"""

from __future__ import annotations

from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from models.alarm_status import AlarmSeverity
from models.detection import DetectionKind
from models.reading import UsageType

TRANSMISSION_SIGNALS = frozenset(f"transmission_{s}" for s in ("green", "orange", "red", "violet"))
SIGNALS = frozenset(k.value for k in DetectionKind if k is not DetectionKind.TRANSMISSION_STATUS)
SIGNALS |= TRANSMISSION_SIGNALS


def _known(signals: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(signals) - SIGNALS)
    if unknown:
        known = ", ".join(sorted(SIGNALS))
        raise ValueError(f"unknown signal(s) {', '.join(unknown)}; known: {known}")
    return signals


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateCondition(_Rule):
    severity: AlarmSeverity
    when: tuple[str, ...] = Field(min_length=1, description="signals that make it hold")
    duration_s: float = Field(default=0, ge=0, description="held this long (data time)")
    repeat: PositiveInt = Field(default=1, description="held at this many readings in a row")

    @model_validator(mode="after")
    def _signals_known(self) -> Self:
        _known(self.when)
        return self


class ClearCondition(_Rule):
    when: tuple[str, ...] = Field(default=(), description="signals that clear the alarm")
    normal_readings: PositiveInt | None = Field(
        default=None, description="readings in a row without the rule's signals"
    )

    @model_validator(mode="after")
    def _some_clear(self) -> Self:
        _known(self.when)
        if not self.when and self.normal_readings is None:
            raise ValueError("a clear condition needs signals (when) or normal_readings")
        return self


class Flapping(_Rule):
    """Nagios's flap detection: percent of state change over the last 21 states."""

    start_percent: float = Field(default=30.0, gt=0, le=100)
    stop_percent: float = Field(default=20.0, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.stop_percent >= self.start_percent:
            raise ValueError("flapping stop_percent must be below start_percent")
        return self


class AlarmRule(_Rule):
    type: str = Field(min_length=1, description="the alarm type it raises")
    create: tuple[CreateCondition, ...] = Field(min_length=1)
    clear: ClearCondition
    usage_types: tuple[UsageType, ...] = Field(default=(), description="none: every type")
    tags: tuple[str, ...] = Field(default=(), description="usages with one of them; none: all")
    flapping: Flapping = Flapping()

    @model_validator(mode="after")
    def _clear_apart(self) -> Self:
        both = set(self.clear.when) & {s for c in self.create for s in c.when}
        if both:
            raise ValueError(f"signal(s) {', '.join(sorted(both))} both create and clear")
        return self

    @cached_property
    def raising(self) -> frozenset[str]:
        return frozenset(s for condition in self.create for s in condition.when)

    def applies_to(self, usage_type: UsageType, tags: tuple[str, ...]) -> bool:
        if self.usage_types and usage_type not in self.usage_types:
            return False
        return not self.tags or any(tag in self.tags for tag in tags)


def _rule(alarm_type: str, create: list[CreateCondition], clear: ClearCondition) -> AlarmRule:
    return AlarmRule(type=alarm_type, create=tuple(create), clear=clear)


def _after_normal(alarm_type: str, severity: AlarmSeverity, readings: int = 1) -> AlarmRule:
    """A rule for a one-shot detection of the same name, cleared by normal readings."""
    return _rule(alarm_type, [_on(severity, alarm_type)], ClearCondition(normal_readings=readings))


def _on(severity: AlarmSeverity, *signals: str, duration_s: float = 0) -> CreateCondition:
    return CreateCondition(severity=severity, when=signals, duration_s=duration_s)


S = AlarmSeverity
DEFAULT_ALARM_RULES = (
    _rule(
        "transmission",
        [
            _on(S.WARNING, "transmission_orange"),
            _on(S.MAJOR, "transmission_red"),
            _on(S.CRITICAL, "transmission_red", duration_s=15 * 60),
        ],
        ClearCondition(when=("transmission_green",)),
    ),
    _rule(
        "gap",
        [_on(S.MINOR, "gap_opened")],
        ClearCondition(when=("gap_closed", "gap_corrected", "gap_filled")),
    ),
    _rule(
        "threshold",
        [_on(S.MAJOR, "threshold_high", "threshold_low")],
        ClearCondition(when=("threshold_cleared",)),
    ),
    _after_normal("decreasing_index", S.MAJOR),
    _after_normal("meter_reset", S.WARNING),
    _after_normal("negative_consumption", S.MAJOR),
    _after_normal("anomaly", S.MINOR, readings=3),
)
"""Every tenant's rules unless its registry entry gives `alarm_rules:`. A transmission
turns orange (warning), red (major), red for 15 minutes (critical): one alarm whose
severity rises, cleared when readings come back. An anomaly clears after 3 normal readings
in a row: one normal reading after an outlier is common (a spike), three are a return to
the usual pattern, and at an hourly period the alarm does not linger half a day. Index
rollovers raise nothing: a register wrapping round is a meter working as designed."""
