"""The anomaly detector of one usage.

Each reading is compared with what the usage has shown before it, in up to five ways,
each an excess in fractions of a range so far, squashed to [0, 1) by its tolerance
(excess / (excess + tolerance)); the score is the largest:

- range: the value beyond the lowest or highest value seen (a spike, a new level);
- seasonal: the value's deviation from the usual value of its hour and kind of day, beyond
  the deviations seen (a usual value at an unusual time: heating at night, a missing peak),
  once that hour has been seen on enough days;
- level: the smoothed level beyond its lowest or highest (a level shift inside the range,
  which single noisy readings hide);
- rate (instant usages): the change since the previous reading beyond what the fastest
  change per second seen so far explains (a jump inside the range);
- stuck: identical values in a row, longer than ever seen (a frozen sensor).

An episode of anomalous readings (fewer than `episode_gap_readings` normal ones between
them) is reported once, at its first reading. Everything counts readings, not time, but
the seasonal profile, which counts days: the detector scores from its
`warmup_readings`-th reading on, at any period. The tolerances and fadings are chosen
on NAB (`smati bench nab`, one parameter set for every file, threshold 0.5), and checked
there by leave-one-category-out and at other time scales. Learning is online: each
reading updates a few river-style statistics, no refit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

from river import stats

from models.anomaly.config import AnomalyConfig
from models.anomaly.envelope import Envelope
from models.anomaly.seasonal import SeasonalProfile, slot

STATE_VERSION = 2
TINY_RANGE = 1e-9
"""The range of a usage that has shown a single value: any change is then an excess."""


class Cause(StrEnum):
    RANGE = "range"
    SEASONAL = "seasonal"
    LEVEL = "level"
    RATE = "rate"
    STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class Finding:
    """One comparison: what it measured, the range it expected that measure in."""

    cause: Cause
    score: float
    measured: float
    """The value (range, seasonal), the smoothed level, the change per second (rate), the
    identical readings in a row (stuck)."""
    expected_low: float
    expected_high: float
    usual: float | None = None
    """The usual value of this hour and kind of day (seasonal)."""
    hour_slot: int | None = None
    """models.anomaly.seasonal's slot of the reading (seasonal)."""


@dataclass(frozen=True, slots=True)
class AnomalyScore:
    """The score of one reading and the comparison that gave it, None while warming up."""

    score: float
    threshold: float
    observed: float
    finding: Finding | None
    continues_episode: bool = False
    """Over the threshold, but within `episode_gap_readings` of the previous reading that
    was: the anomaly is already reported."""

    @property
    def cause(self) -> Cause | None:
        return None if self.finding is None else self.finding.cause

    @property
    def is_anomaly(self) -> bool:
        """A new anomaly: over the threshold, and the first of its episode."""
        return (
            self.finding is not None and self.score >= self.threshold and not self.continues_episode
        )


def _squash(excess: float, tolerance: float) -> float:
    return excess / (excess + tolerance)


def _against(envelope: Envelope, measured: float, width: float, tolerance: float) -> float:
    return _squash(envelope.excess(measured) / width, tolerance)


class AnomalyDetector:
    """`score_and_learn(ts, value)` scores a reading then learns it; state round trip with
    `to_state()` and `AnomalyDetector.from_state(state, config, tz, rate_of_change)`.

    `tz` is the time zone of the building: it decides the hour and kind of day.
    `rate_of_change` scores the change since the previous reading too: for a level
    (instant usages), not for a consumption.
    """

    def __init__(
        self, config: AnomalyConfig | None = None, tz: tzinfo = UTC, rate_of_change: bool = False
    ) -> None:
        self.config = config or AnomalyConfig()
        self._tz = tz
        self._rate_of_change = rate_of_change
        self._readings = 0
        self._values = Envelope()
        self._profile = SeasonalProfile(self.config.seasonal_fading)
        self._deviations = Envelope(0.0, 0.0)
        self._level = stats.EWMean(self.config.level_fading)
        self._levels = Envelope()
        self._fastest = 0.0
        self._previous: float | None = None
        self._previous_ts: float | None = None
        self._run = 0
        self._longest_run = 0
        self._since_anomalous = self.config.episode_gap_readings

    def score_and_learn(self, ts: datetime, value: float) -> AnomalyScore:
        """Score a reading against what came before it, then learn it. `ts` must be aware
        and later than the previous reading's."""
        if ts.tzinfo is None or not math.isfinite(value):
            raise ValueError(f"an aware time and a finite value, not {ts!r}, {value!r}")
        scoring = self._readings >= self.config.warmup_readings
        self._readings += 1
        width = self._values.width or TINY_RANGE
        findings: list[Finding | None] = [self._range(value, width)]
        findings.append(self._seasonal(ts.astimezone(self._tz), value, width))
        self._values.learn(value)
        findings.append(self._level_shift(value))
        findings.append(self._rate(ts.timestamp(), value))
        findings.append(self._stuck(value, scoring))
        if not scoring:
            return AnomalyScore(0.0, self.config.threshold, value, None)
        worst = max((f for f in findings if f is not None), key=lambda f: f.score)
        return AnomalyScore(worst.score, self.config.threshold, value, worst, self._episode(worst))

    def _episode(self, worst: Finding) -> bool:
        """Whether this reading continues an anomaly episode already reported."""
        over = worst.score >= self.config.threshold
        continues = over and self._since_anomalous < self.config.episode_gap_readings
        self._since_anomalous = 0 if over else self._since_anomalous + 1
        return continues

    def _range(self, value: float, width: float) -> Finding:
        values = self._values
        score = _against(values, value, width, self.config.range_tolerance)
        return Finding(Cause.RANGE, score, value, values.low, values.high)

    def _seasonal(self, local_ts: datetime, value: float, width: float) -> Finding | None:
        """Compares with the usual value of the hour once the hour is trusted, then learns.
        Deviations are learnt from an hour's first reading on, so the comparison does not
        start from an empty range of deviations the day it is trusted."""
        hour, profile = slot(local_ts), self._profile
        result = None
        if profile.days_seen(hour):
            usual, deviations = profile.usual(hour), self._deviations
            deviation = value - usual
            if profile.days_seen(hour) >= self.config.seasonal_min_days:
                score = _against(deviations, deviation, width, self.config.seasonal_tolerance)
                low, high = usual + deviations.low, usual + deviations.high
                result = Finding(Cause.SEASONAL, score, value, low, high, usual, hour)
            deviations.learn(deviation)
        profile.learn(local_ts, value)
        return result

    def _level_shift(self, value: float) -> Finding | None:
        """Compares the smoothed level once it has settled, with this reading in it."""
        self._level.update(value)
        if self._readings <= self.config.level_settle_readings:
            return None
        level, levels = self._level.get(), self._levels
        width = self._values.width or TINY_RANGE
        result = Finding(
            Cause.LEVEL,
            _against(levels, level, width, self.config.level_tolerance),
            level,
            levels.low if not levels.empty else level,
            levels.high if not levels.empty else level,
        )
        levels.learn(level)
        return result

    def _rate(self, seconds: float, value: float) -> Finding | None:
        """The change per second since the previous reading, either way, beyond the fastest
        seen: what the fastest would not explain over the time elapsed, in fractions of the
        range of values (a jump, not a trend; the return from a jump is no faster)."""
        previous, previous_ts = self._previous, self._previous_ts
        self._previous_ts = seconds
        if not self._rate_of_change or previous is None or previous_ts is None:
            return None
        if seconds <= previous_ts:
            return None
        elapsed = seconds - previous_ts
        rate, fastest = (value - previous) / elapsed, self._fastest
        unexplained = max(abs(rate) - fastest, 0.0) * elapsed / (self._values.width or TINY_RANGE)
        self._fastest = max(fastest, abs(rate))
        score = _squash(unexplained, self.config.rate_tolerance)
        return Finding(Cause.RATE, score, rate, -fastest, fastest)

    def _stuck(self, value: float, scoring: bool) -> Finding | None:
        """Runs seen while warming up are normal; a usage that never changed is not stuck."""
        if value == self._previous:
            self._run += 1
        else:
            self._longest_run = max(self._longest_run, self._run)
            self._run = 0
        self._previous = value
        if not scoring:
            self._longest_run = max(self._longest_run, self._run)
            return None
        if self._run < self.config.stuck_min_readings or self._values.width == 0:
            return None
        longest = self._longest_run
        excess = max(self._run - longest, 0) / (longest + 1)
        if excess >= self.config.stuck_tolerance:
            self._longest_run = self._run  # found once: the run is now the longest known
        score = _squash(excess, self.config.stuck_tolerance)
        return Finding(Cause.STUCK, score, self._run + 1, 1, longest + 1)

    def to_state(self) -> dict[str, Any]:
        """Small and JSON-serialisable (about 1.5 KB): it lives in the per-usage state."""
        return {
            "v": STATE_VERSION,
            "readings": self._readings,
            "values": self._values.to_state(),
            "profile": self._profile.to_state(),
            "deviations": self._deviations.to_state(),
            "level": self._level.get() if self._readings else None,
            "levels": self._levels.to_state(),
            "fastest": self._fastest,
            "previous": self._previous,
            "previous_ts": self._previous_ts,
            "run": self._run,
            "longest_run": self._longest_run,
            "since_anomalous": self._since_anomalous,
        }

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        config: AnomalyConfig | None = None,
        tz: tzinfo = UTC,
        rate_of_change: bool = False,
    ) -> AnomalyDetector:
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"anomaly detector state version {state.get('v')!r} unknown")
        detector = cls(config, tz, rate_of_change)
        detector._readings = state["readings"]
        detector._values = Envelope.from_state(state["values"])
        detector._profile = SeasonalProfile.from_state(
            detector.config.seasonal_fading, state["profile"]
        )
        detector._deviations = Envelope.from_state(state["deviations"])
        if state["level"] is not None:
            detector._level.update(state["level"])  # river's EWMean takes its first value as is
        detector._levels = Envelope.from_state(state["levels"])
        detector._fastest = state["fastest"]
        detector._previous = state["previous"]
        detector._previous_ts = state["previous_ts"]
        detector._run = state["run"]
        detector._longest_run = state["longest_run"]
        detector._since_anomalous = state["since_anomalous"]
        return detector
