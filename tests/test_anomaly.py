"""The anomaly detector on synthetic building series: pure, no Kafka."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.anomaly import (
    AnomalyConfig,
    AnomalyDetector,
    AnomalyScore,
    Cause,
    anomaly_event,
    check_anomaly,
)
from models.detection import DetectionKind
from models.reading import Reading, UsageType

T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
STEP = timedelta(minutes=10)
WEEK = 7 * 144
ANOMALY_AT = 3 * WEEK + 300  # a Thursday, 02:00, in the fourth week

Series = list[tuple[datetime, float]]


def office_temperature(seed: int, weeks: int = 4) -> Series:
    """An office: warmer when occupied (weekdays 7:00 to 19:00), a daily swing, noise."""
    rng = random.Random(seed)
    series = []
    for n in range(weeks * WEEK):
        ts = T0 + n * STEP
        hour = ts.hour + ts.minute / 60
        occupied = ts.weekday() < 5 and 7 <= hour < 19
        value = 18 + 3 * occupied + 1.5 * math.sin(2 * math.pi * (hour - 9) / 24)
        series.append((ts, value + rng.gauss(0, 0.2)))
    return series


def altered(series: Series, change: Callable[[int, float], float]) -> Series:
    return [(ts, change(n, value)) for n, (ts, value) in enumerate(series)]


def scores(series: Series, detector: AnomalyDetector | None = None) -> list[AnomalyScore]:
    detector = detector or AnomalyDetector()
    return [detector.score_and_learn(ts, value) for ts, value in series]


def anomalies(series: Series) -> dict[int, AnomalyScore]:
    return {n: score for n, score in enumerate(scores(series)) if score.is_anomaly}


def test_clean_seasonal_series_with_noise_is_not_flagged() -> None:
    assert anomalies(office_temperature(seed=0)) == {}


def test_spike_is_found_where_it_is_with_its_explanation() -> None:
    spiked = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    found = anomalies(spiked)
    assert list(found) == [ANOMALY_AT]
    spike = found[ANOMALY_AT]
    assert spike.cause in (Cause.RANGE, Cause.SEASONAL)
    assert spike.finding is not None and spike.observed > spike.finding.expected_high


def test_level_shift_is_found_within_the_hour() -> None:
    shifted = altered(office_temperature(seed=0), lambda n, v: v + 3 if n >= ANOMALY_AT else v)
    found = anomalies(shifted)
    assert found and ANOMALY_AT <= min(found) < ANOMALY_AT + 6


def test_occupied_level_at_night_is_found_by_the_seasonal_profile() -> None:
    """Heating left on at night: a value normal at 10:00 but not at 02:00."""
    heated = altered(
        office_temperature(seed=0),
        lambda n, v: v + 3 if ANOMALY_AT <= n < ANOMALY_AT + 12 else v,
    )
    found = anomalies(heated)
    assert found and ANOMALY_AT <= min(found) < ANOMALY_AT + 12
    assert found[min(found)].cause in (Cause.SEASONAL, Cause.LEVEL)


def test_stuck_sensor_is_found_once() -> None:
    frozen_at = office_temperature(seed=0)[ANOMALY_AT][1]
    stuck = altered(
        office_temperature(seed=0),
        lambda n, v: frozen_at if ANOMALY_AT <= n < ANOMALY_AT + 36 else v,
    )
    found = {n: s for n, s in anomalies(stuck).items() if s.cause is Cause.STUCK}
    assert list(found) == [ANOMALY_AT + AnomalyConfig().stuck_min_readings]


def test_nothing_is_scored_while_warming_up() -> None:
    spiked = altered(office_temperature(seed=0, weeks=1), lambda n, v: v + 50 if n == 50 else v)
    warming = [s for s in scores(spiked) if s.cause is None]
    assert len(warming) == AnomalyConfig().warmup_readings
    assert all(s.score == 0.0 and not s.is_anomaly for s in warming)


def test_same_seed_same_scores() -> None:
    first = scores(office_temperature(seed=7))
    assert first == scores(office_temperature(seed=7))
    assert first != scores(office_temperature(seed=8))


def test_state_round_trip_scores_as_if_never_restarted() -> None:
    series = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    uninterrupted = scores(series)
    detector = AnomalyDetector()
    scores(series[: 2 * WEEK], detector)
    state = json.dumps(detector.to_state())
    assert len(state) < 4096
    restarted = AnomalyDetector.from_state(json.loads(state))
    assert scores(series[2 * WEEK :], restarted) == uninterrupted[2 * WEEK :]


def test_threshold_comes_from_the_configuration() -> None:
    spiked = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    spike_score = scores(spiked)[ANOMALY_AT].score
    strict = AnomalyDetector(AnomalyConfig(threshold=min(spike_score + 0.01, 1.0)))
    assert not scores(spiked, strict)[ANOMALY_AT].is_anomaly


def test_anomaly_event_explains_what_was_expected() -> None:
    spiked = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    results = scores(spiked)
    ts = spiked[ANOMALY_AT][0]
    event = anomaly_event("t1", "u1", ts, results[ANOMALY_AT], unit="°C")
    assert event is not None
    assert event.kind is DetectionKind.ANOMALY
    assert event.details["cause"] in ("range", "seasonal")
    assert event.details["observed"] == spiked[ANOMALY_AT][1]
    details = event.details
    assert details["expected_low"] < details["expected_high"] < details["observed"]
    assert event.details["threshold"] == AnomalyConfig().threshold
    assert anomaly_event("t1", "u1", ts, results[ANOMALY_AT - 1]) is None
    assert DetectionKind.ANOMALY.value == "anomaly"


def test_naive_time_or_non_finite_value_is_refused() -> None:
    detector = AnomalyDetector()
    with pytest.raises(ValueError):
        detector.score_and_learn(datetime(2026, 11, 2), 1.0)
    with pytest.raises(ValueError):
        detector.score_and_learn(T0, math.nan)
    assert detector.to_state()["readings"] == 0


def test_check_anomaly_on_stored_state_finds_what_a_live_detector_finds() -> None:
    series = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    state: dict[str, Any] | None = None
    events = []
    for ts, value in series:
        reading = Reading(
            tenant_id="t1",
            usage_id="u1",
            ts=ts,
            value=value,
            unit="°C",
            usage_type=UsageType.INSTANT,
            source="test",
            device_id="d1",
            origin="raw/0/0",
        )
        state, event = check_anomaly(json.loads(json.dumps(state)), reading, AnomalyConfig())
        events += [event] if event else []
    assert [event.ts for event in events] == [series[ANOMALY_AT][0]]
    assert events[0].details["unit"] == "°C"
