"""Gap filling: values estimated where a usage was silent, per usage type.

- index: interpolated between the indexes on both sides of the gap, the consumption in
  between spread by the usage's usual profile (so the estimates climb faster at the
  hours it usually consumes, and meet the measured index on both sides);
- consumption: each missing interval gets the usual consumption of its hour and weekday;
- instant: interpolated linearly, only across gaps up to `max_hours`.

The profile is the mean consumption per interval of each hour of each weekday (local
time), learnt from the signal itself. The stream's anomaly detector learns a profile
too, but of the raw value (an index's counter, not its consumption) and in 48 slots of
weekday and weekend hours, so it cannot serve an index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import fmean

from pydantic import BaseModel, ConfigDict, Field

from models.cleansing.signal import Action, Correction, Signal, UsageFacts
from models.reading import UsageType

Slot = tuple[int, int]
"""(weekday, hour) of local time, Monday 0."""


class FillParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    gap_periods: float = Field(default=2.5, gt=1.0)
    """A silence longer than this many registered periods is a gap."""
    max_hours: float = Field(default=6.0, gt=0.0)
    """An instant usage's longest gap that is interpolated."""


@dataclass(frozen=True)
class Gap:
    before: datetime
    """The last value before the silence."""
    after: datetime
    """The first value after it."""
    slots: tuple[datetime, ...]
    """The times a value was expected at, one period apart."""


@dataclass(frozen=True)
class Filling:
    corrections: list[Correction]
    skipped: list[tuple[Gap, str]]
    """Gaps left unfilled, and why."""


def find_gaps(signal: Signal, period_s: float, gap_periods: float) -> list[Gap]:
    period = timedelta(seconds=period_s)
    gaps = []
    for before, after in pairwise(signal.times):
        if after - before > gap_periods * period:
            count = int((after - before - period / 2) / period)
            gaps.append(Gap(before, after, tuple(before + k * period for k in range(1, count + 1))))
    return gaps


class UsualProfile:
    """Mean consumption per registered period, per hour of each weekday."""

    def __init__(self, by_slot: dict[Slot, float], overall: float | None, usage: UsageFacts):
        self._by_slot, self._overall, self._usage = by_slot, overall, usage

    @classmethod
    def learn(cls, signal: Signal, usage: UsageFacts) -> UsualProfile:
        samples: dict[Slot, list[float]] = defaultdict(list)
        for ts, consumed in _consumptions(signal, usage):
            samples[_slot(ts, usage)].append(consumed)
        everything = [value for values in samples.values() for value in values]
        means = {slot: fmean(values) for slot, values in samples.items()}
        return cls(means, fmean(everything) if everything else None, usage)

    @property
    def known(self) -> bool:
        return self._overall is not None

    def usual(self, ts: datetime) -> float:
        """The usual consumption of the period ending at `ts` (the overall mean where its
        hour of its weekday was never seen)."""
        assert self._overall is not None, "a profile without data has no usual value"
        return self._by_slot.get(_slot(ts, self._usage), self._overall)


def _slot(ts: datetime, usage: UsageFacts) -> Slot:
    local = ts.astimezone(usage.timezone)
    return local.weekday(), local.hour


def _consumptions(signal: Signal, usage: UsageFacts) -> list[tuple[datetime, float]]:
    """Measured consumption per period: a consumption usage's values, an index's steps
    between readings about a period apart (not across gaps, resets or estimates)."""
    points = [
        (ts, value)
        for ts, value, estimated in zip(signal.times, signal.values, signal.estimated, strict=True)
        if not estimated
    ]
    if usage.type is UsageType.CONSUMPTION:
        return [(ts, value) for ts, value in points if value >= 0]
    period = timedelta(seconds=usage.period_s)
    return [
        (ts, (value - previous) * (period / (ts - before)))
        for (before, previous), (ts, value) in pairwise(points)
        if ts - before <= 1.5 * period and value >= previous
    ]


def fill_gaps(
    signal: Signal, usage: UsageFacts, params: FillParams, history: Signal | None = None
) -> Filling:
    """Estimates for the gaps of `signal`, the gaps left unfilled and why; the usual
    profile is learnt from `history` (default: the signal itself)."""
    profile = UsualProfile.learn(signal if history is None else history, usage)
    values = dict(zip(signal.times, signal.values, strict=True))
    corrections: list[Correction] = []
    skipped: list[tuple[Gap, str]] = []
    for gap in find_gaps(signal, usage.period_s, params.gap_periods):
        estimates, why = _estimates(
            gap, values[gap.before], values[gap.after], usage.type, profile, params
        )
        if why:
            skipped.append((gap, why))
        reason = f"estimated: {usage.type} gap from {gap.before:%Y-%m-%d %H:%M}Z"
        corrections += [
            Correction(ts, Action.ESTIMATE, value, None, reason) for ts, value in estimates
        ]
    return Filling(corrections, skipped)


def _estimates(
    gap: Gap,
    first: float,
    last: float,
    kind: UsageType,
    profile: UsualProfile,
    params: FillParams,
) -> tuple[list[tuple[datetime, float]], str]:
    if kind is UsageType.INDEX:
        return _index(gap, first, last, profile)
    if kind is UsageType.CONSUMPTION:
        if not profile.known:
            return [], "no consumption measured to learn a profile from"
        return [(ts, profile.usual(ts)) for ts in gap.slots], ""
    if gap.after - gap.before > timedelta(hours=params.max_hours):
        return [], f"longer than {params.max_hours:g} h"
    return [(ts, _between(gap, first, last, ts)) for ts in gap.slots], ""


def _between(gap: Gap, first: float, last: float, ts: datetime) -> float:
    share = (ts - gap.before) / (gap.after - gap.before)
    return first + (last - first) * share


def _index(
    gap: Gap, first: float, last: float, profile: UsualProfile
) -> tuple[list[tuple[datetime, float]], str]:
    if last < first:
        return [], "the index decreased across the gap (a reset or a rollover?)"
    ends = [*gap.slots, gap.after]
    weights = [max(profile.usual(ts), 0.0) for ts in ends] if profile.known else []
    total = sum(weights)
    if total <= 0:
        return [(ts, _between(gap, first, last, ts)) for ts in gap.slots], ""
    estimates, reached = [], 0.0
    for ts, weight in zip(gap.slots, weights, strict=False):
        reached += weight
        estimates.append((ts, first + (last - first) * reached / total))
    return estimates, ""
