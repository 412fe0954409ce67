"""Alarm rules applied to a usage's detections: pure and deterministic.

`observe_alarms` takes one step of a usage: a reading with the detections it revealed, or
the transmission clock at the processing horizon with the detections of silence. Every
transition is dated from the data (a detection's time, a duration met at its start plus
the duration), so a replay after a restart raises the same alarms with the same ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.alarm_status import AlarmSeverity
from models.alarms.flapping import percent_state_change, remember
from models.alarms.model import Alarm, AlarmChange, Subject, Transition
from models.alarms.rules import AlarmRule, CreateCondition
from models.alarms.state import AlarmTrack, Holding, UsageAlarms
from models.detection import DetectionEvent, DetectionKind
from models.reading import UsageType


def signal_of(event: DetectionEvent) -> str:
    """The signal a detection gives the rules (see models.alarms.rules)."""
    if event.kind is DetectionKind.TRANSMISSION_STATUS:
        return f"transmission_{event.details['status']}"
    return event.kind.value


@dataclass(frozen=True)
class Step:
    """One step of a usage: at `at`, a reading (or the clock), with its detections."""

    at: datetime
    events: Sequence[DetectionEvent] = ()
    reading: bool = True


def observe_alarms(
    alarms: UsageAlarms,
    subject: Subject,
    usage: tuple[UsageType, tuple[str, ...]],
    rules: Sequence[AlarmRule],
    step: Step,
) -> tuple[UsageAlarms, list[AlarmChange]]:
    """Apply the rules that fit the usage (its type and tags) to one step."""
    if not step.events and not alarms.tracks:  # most readings: nothing to do
        return alarms, []
    signals = [(signal_of(event), event) for event in step.events]
    tracks, changes = dict(alarms.tracks), []
    for rule in rules:
        track = tracks.get(rule.type)
        if track is None and not signals:
            continue
        mine = [(s, e) for s, e in signals if s in rule.raising or s in rule.clear.when]
        if track is None and not any(s in rule.raising for s, _ in mine):
            continue
        if not rule.applies_to(*usage):
            continue
        work = _Work(rule, subject, track or AlarmTrack())
        work.step(mine, step)
        changes += work.changes
        if work.track.idle:
            tracks.pop(rule.type, None)
        else:
            tracks[rule.type] = work.track
    return UsageAlarms.model_construct(tracks=tracks), changes  # valid parts: no re-check


@dataclass
class _Work:
    """One rule's track through one step, with the changes it makes."""

    rule: AlarmRule
    subject: Subject
    track: AlarmTrack
    changes: list[AlarmChange] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def step(self, mine: list[tuple[str, DetectionEvent]], step: Step) -> None:
        for signal, event in mine:
            self._fire_timers(event.ts)
            if signal in self.rule.clear.when:
                self._clear_signal(event)
            else:
                self._raise_signal(signal, event)
        self._fire_timers(step.at)
        if step.reading and not mine:
            self._quiet_reading(step.at)

    def _update(self, **changes: Any) -> None:
        self.track = self.track.model_copy(update=changes)

    def _raise_signal(self, signal: str, event: DetectionEvent) -> None:
        self.details = {"signal": signal, "detection_id": event.id, **event.details}
        holding = {}
        for condition in self.rule.create:
            if signal in condition.when:
                held = self.track.holding.get(condition.severity)
                held = Holding(since=event.ts) if held is None else _again(held)
                holding[condition.severity] = _met(held, condition, event.ts)
        self._update(holding=holding, normal=0)
        open_alarm, changes = self.track.open, len(self.changes)
        if open_alarm is not None:
            seen = max(open_alarm.last_seen_ts, event.ts)
            update = {"occurrences": open_alarm.occurrences + 1, "last_seen_ts": seen}
            self._update(open=open_alarm.model_copy(update=update))
        self._fire_timers(event.ts)
        if open_alarm is not None and len(self.changes) == changes:  # else the severity changed
            self._change(self.track.open or open_alarm, Transition.REPEATED, event.ts)
        self._sample(True, event.ts)  # after a raise: its flapping is the open alarm's

    def _clear_signal(self, event: DetectionEvent) -> None:
        self._update(holding={}, normal=0)
        self._sample(False, event.ts)
        self._clear(event.ts)

    def _quiet_reading(self, at: datetime) -> None:
        """A reading without the rule's signals: a level still out of range holds (and
        counts towards `repeat`); a one-shot defect counts towards `normal_readings`."""
        needed = self.rule.clear.normal_readings
        if needed is None and self.track.holding:
            holding = self._held_again(at)
            if holding != self.track.holding:
                self._update(holding=holding)
            self._sample(True, at)
            self._fire_timers(at)
        elif needed is None or not (self.track.holding or self.track.open):
            self._sample(False, at)
        elif self.track.normal + 1 >= needed:
            self._update(holding={}, normal=0)
            self._sample(False, at)
            self._clear(at)
        else:
            self._update(normal=self.track.normal + 1)
            self._sample(True, at)

    def _held_again(self, at: datetime) -> dict[AlarmSeverity, Holding]:
        conditions = {c.severity: c for c in self.rule.create}
        return {  # a condition met needs no more counting
            severity: held if held.met_at else _met(_again(held), conditions[severity], at)
            for severity, held in self.track.holding.items()
        }

    def _fire_timers(self, until: datetime) -> None:
        """Conditions met by `until`, in the order they were met: raise the alarm, or set
        its severity to the highest condition met and holding."""
        due = sorted(
            (held.met_at, severity)
            for severity, held in self.track.holding.items()
            if held.met_at is not None and held.met_at <= until and not held.fired
        )
        for met_at, severity in due:
            holding = dict(self.track.holding)
            holding[severity] = holding[severity].model_copy(update={"fired": True})
            self._update(holding=holding)
            fired = [s for s, h in holding.items() if h.fired]
            self._apply(max(fired, key=lambda s: s.rank), met_at)

    def _apply(self, severity: AlarmSeverity, at: datetime) -> None:
        open_alarm = self.track.open
        if open_alarm is None:
            alarm = Alarm.raise_(self.subject, self.rule.type, severity, at, self.details)
            if self.track.flapping:
                alarm = alarm.model_copy(update={"flapping": True})
            self._change(alarm, Transition.RAISED, at)
        elif open_alarm.severity is not severity:
            seen = max(open_alarm.last_seen_ts, at)
            update = {"severity": severity, "last_seen_ts": seen, "details": self.details}
            self._change(open_alarm.model_copy(update=update), Transition.SEVERITY_CHANGED, at)

    def _sample(self, problem: bool, at: datetime) -> None:
        history = remember(self.track.history, problem)
        if history == self.track.history:  # 21 alike and one more: nothing changes
            return
        self._update(history=history)
        percent = percent_state_change(history)
        flapping = self.rule.flapping
        if not self.track.flapping and percent > flapping.start_percent:
            self._flap(True, Transition.FLAPPING_STARTED, at)
        elif self.track.flapping and percent < flapping.stop_percent:
            self._flap(False, Transition.FLAPPING_STOPPED, at)
            if not self.track.holding:  # the problem went while it flapped
                self._clear(at)

    def _flap(self, flapping: bool, transition: Transition, at: datetime) -> None:
        self._update(flapping=flapping)
        if self.track.open is not None:
            self._change(self.track.open.model_copy(update={"flapping": flapping}), transition, at)

    def _clear(self, at: datetime) -> None:
        """Clear the open alarm, unless it flaps: then it stays open, notified once."""
        open_alarm = self.track.open
        if open_alarm is None or self.track.flapping:
            return
        end = max(at, open_alarm.start_ts)
        update = {"cleared": True, "end_ts": end, "last_seen_ts": max(open_alarm.last_seen_ts, end)}
        self._change(open_alarm.model_copy(update=update), Transition.CLEARED, end)

    def _change(self, alarm: Alarm, transition: Transition, at: datetime) -> None:
        self._update(open=None if alarm.cleared else alarm)
        self.changes.append(AlarmChange(alarm=alarm, transition=transition, ts=at))


def _again(held: Holding) -> Holding:
    return held.model_copy(update={"count": held.count + 1})


def _met(held: Holding, condition: CreateCondition, at: datetime) -> Holding:
    """Once held `repeat` times, the condition is met when it has held `duration_s` too."""
    if held.met_at is not None or held.count < condition.repeat:
        return held
    met_at = max(at, held.since + timedelta(seconds=condition.duration_s))
    return held.model_copy(update={"met_at": met_at})
