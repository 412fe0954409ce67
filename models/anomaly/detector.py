"""The anomaly detector of one usage.

Each reading is compared with what the usage has shown before it, in four ways, each an
excess in fractions of the usage's range so far, squashed to [0, 1) by its tolerance
(excess / (excess + tolerance)); the score is the largest:

- range: the value beyond the lowest or highest value seen (a spike, a new level);
- seasonal: the value's deviation from the usual value of its hour and kind of day, beyond
  the deviations seen (a usual value at an unusual time: heating at night, a missing peak);
- level: the smoothed level beyond its lowest or highest (a level shift inside the range,
  which single noisy readings hide);
- stuck: identical values in a row, longer than ever seen (a frozen sensor).

The tolerances are tuned on NAB (`smati bench nab`, one parameter set for every file) so
that 0.5 is the best threshold of its standard profile. Measured there too: an HTM-style
anomaly likelihood (a Gaussian tail of recent prediction errors against their long-term
distribution) scored 12 alone and added under half a point on top of these four, so it is
not used. Learning is online: each reading updates a few river statistics, no refit.
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

STATE_VERSION = 1
TINY_RANGE = 1e-9
"""The range of a usage that has shown a single value: any change is then an excess."""


class Cause(StrEnum):
    RANGE = "range"
    SEASONAL = "seasonal"
    LEVEL = "level"
    STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class AnomalyScore:
    """The score of one reading, with what was expected of it."""

    score: float
    threshold: float
    observed: float
    expected_low: float | None
    expected_high: float | None
    cause: Cause | None
    """The comparison that scored highest, None while warming up."""

    @property
    def is_anomaly(self) -> bool:
        return self.cause is not None and self.score >= self.threshold


def _squash(excess: float, tolerance: float) -> float:
    return excess / (excess + tolerance)


class AnomalyDetector:
    """`score(ts, value)` scores a reading then learns it; state round trip with
    `to_state()` and `AnomalyDetector.from_state(state, config, tz)`.

    `tz` is the time zone of the building: it decides the hour and kind of day.
    """

    def __init__(self, config: AnomalyConfig | None = None, tz: tzinfo = UTC) -> None:
        self.config = config or AnomalyConfig()
        self._tz = tz
        self._readings = 0
        self._first_ts: datetime | None = None
        self._values = Envelope()
        self._profile = SeasonalProfile(self.config.seasonal_fading)
        self._deviations = Envelope(0.0, 0.0)
        self._level = stats.EWMean(self.config.level_fading)
        self._levels = Envelope()
        self._previous: float | None = None
        self._run = 0
        self._longest_run = 0

    def score(self, ts: datetime, value: float) -> AnomalyScore:
        """Score a reading against what came before it, then learn it. `ts` must be aware."""
        if ts.tzinfo is None or not math.isfinite(value):
            raise ValueError(f"an aware time and a finite value, not {ts!r}, {value!r}")
        config = self.config
        if self._first_ts is None:
            self._first_ts = ts
        scoring = self._readings >= config.warmup_readings and ts - self._first_ts >= config.warmup
        self._readings += 1
        width = self._values.width or TINY_RANGE
        scores = {Cause.RANGE: _squash(self._values.excess(value) / width, config.range_tolerance)}
        expected = (self._values.low, self._values.high)
        seasonal = self._seasonal(slot(ts.astimezone(self._tz)), value, width)
        if seasonal is not None:
            scores[Cause.SEASONAL], expected = seasonal
        self._values.learn(value)
        level = self._level_score(value)
        if level is not None:
            scores[Cause.LEVEL] = level
        stuck = self._stuck_score(value, scoring)
        if stuck is not None:
            scores[Cause.STUCK] = stuck
        if not scoring:
            return AnomalyScore(0.0, config.threshold, value, None, None, None)
        cause = max(scores, key=scores.__getitem__)
        return AnomalyScore(scores[cause], config.threshold, value, *expected, cause)

    def _seasonal(
        self, hour: int, value: float, width: float
    ) -> tuple[float, tuple[float, float]] | None:
        """The seasonal score and the range expected at this hour, once the hour is known."""
        result = None
        if self._profile.count(hour) >= self.config.seasonal_min_readings:
            usual = self._profile.usual(hour)
            deviation = value - usual
            excess = self._deviations.excess(deviation) / width
            expected = (usual + self._deviations.low, usual + self._deviations.high)
            result = _squash(excess, self.config.seasonal_tolerance), expected
            self._deviations.learn(deviation)
        self._profile.learn(hour, value)
        return result

    def _level_score(self, value: float) -> float | None:
        """Compares the smoothed level once it has settled, with this reading in it."""
        self._level.update(value)
        if self._readings <= self.config.level_settle_readings:
            return None
        level = self._level.get()
        excess = self._levels.excess(level) / (self._values.width or TINY_RANGE)
        self._levels.learn(level)
        return _squash(excess, self.config.level_tolerance)

    def _stuck_score(self, value: float, scoring: bool) -> float | None:
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
        excess = max(self._run - self._longest_run, 0) / (self._longest_run + 1)
        if excess >= self.config.stuck_tolerance:
            self._longest_run = self._run  # found once: the run is now the longest known
        return _squash(excess, self.config.stuck_tolerance)

    def to_state(self) -> dict[str, Any]:
        """Small and JSON-serialisable (about 1.5 KB): it lives in the per-usage state."""
        return {
            "v": STATE_VERSION,
            "readings": self._readings,
            "first_ts": None if self._first_ts is None else self._first_ts.isoformat(),
            "values": self._values.to_state(),
            "profile": self._profile.to_state(),
            "deviations": self._deviations.to_state(),
            "level": self._level.get() if self._readings else None,
            "levels": self._levels.to_state(),
            "previous": self._previous,
            "run": self._run,
            "longest_run": self._longest_run,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: AnomalyConfig | None = None, tz: tzinfo = UTC
    ) -> AnomalyDetector:
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"anomaly detector state version {state.get('v')!r} unknown")
        detector = cls(config, tz)
        detector._readings = state["readings"]
        if state["first_ts"] is not None:
            detector._first_ts = datetime.fromisoformat(state["first_ts"])
        detector._values = Envelope.from_state(state["values"])
        detector._profile = SeasonalProfile.from_state(
            detector.config.seasonal_fading, state["profile"]
        )
        detector._deviations = Envelope.from_state(state["deviations"])
        if state["level"] is not None:
            detector._level.update(state["level"])  # river's EWMean takes its first value as is
        detector._levels = Envelope.from_state(state["levels"])
        detector._previous = state["previous"]
        detector._run = state["run"]
        detector._longest_run = state["longest_run"]
        return detector
