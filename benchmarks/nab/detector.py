"""The stream's anomaly detector as `smati bench nab` runs it on NAB, and the parameter
sets it is compared with when one category is left out.

NAB's series are levels (CPU, temperature, latency, traffic) or counts per interval
(tweets, taxis): the detector runs as for an instant usage, rate of change on. A reading
continuing an episode already reported scores 0, as the stream reports no event for it.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.runner import DetectorFactory, Score
from models.anomaly import AnomalyConfig, AnomalyDetector, AnomalyScore

TUNED = (
    "range_tolerance",
    "seasonal_tolerance",
    "level_tolerance",
    "rate_tolerance",
    "stuck_tolerance",
    "level_fading",
    "seasonal_fading",
    "episode_gap_readings",
)
"""The parameters chosen on NAB; the others are counts of readings or days chosen by
what they mean (a day's readings do not exist at every period)."""
NEIGHBOUR_FACTORS = (0.5, 2.0)


def stream_detector(config: AnomalyConfig) -> DetectorFactory:
    def make(_: DataFile) -> Score:
        detector = AnomalyDetector(config, rate_of_change=True)
        return lambda ts, value: _reported(detector.score_and_learn(ts, value))

    return make


def _reported(result: AnomalyScore) -> float:
    """NAB sees what the stream reports: nothing more of an episode already reported."""
    return 0.0 if result.continues_episode else result.score


def with_state_round_trip(config: AnomalyConfig) -> DetectorFactory:
    """As the stream runs it: the state restored from JSON and saved again for every reading."""

    def make(_: DataFile) -> Score:
        state: bytes | None = None

        def score(ts: datetime, value: float) -> float:
            nonlocal state
            detector = (
                AnomalyDetector(config, rate_of_change=True)
                if state is None
                else AnomalyDetector.from_state(orjson.loads(state), config, rate_of_change=True)
            )
            result = detector.score_and_learn(ts, value)
            state = orjson.dumps(detector.to_state())
            return _reported(result)

        return score

    return make


def neighbours(config: AnomalyConfig) -> dict[str, AnomalyConfig]:
    """Each tuned parameter halved and doubled, the others as configured: the candidates
    among which leave-one-category-out chooses, next to the configured set."""
    candidates: dict[str, AnomalyConfig] = {}
    for name in TUNED:
        for factor in NEIGHBOUR_FACTORS:
            configured = getattr(config, name)
            value = configured * factor
            if isinstance(configured, int):
                value = max(round(value), 1)
            elif name.endswith("fading"):
                value = min(value, 1.0)
            candidates[f"{name} x{factor:g}"] = config.model_copy(update={name: value})
    return candidates
