"""The anomaly detector on synthetic building series: pure, no Kafka."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import replace
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
from models.anomaly.detector import Finding
from models.anomaly.explain import explain
from models.anomaly.seasonal import SLOTS, SeasonalProfile
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


def test_an_episode_of_anomalous_readings_is_reported_once() -> None:
    """Three readings higher and higher are one anomaly; a new one after the episode's gap."""
    second = ANOMALY_AT + 3 + AnomalyConfig().episode_gap_readings

    def spikes(n: int, value: float) -> float:
        if ANOMALY_AT <= n < ANOMALY_AT + 3:
            return value + 8 * (n - ANOMALY_AT + 1)
        return value + (40 if n == second else 0)

    results = scores(altered(office_temperature(seed=0), spikes))
    episode = results[ANOMALY_AT : ANOMALY_AT + 3]
    assert all(s.score >= s.threshold for s in episode)
    assert [s.continues_episode for s in episode] == [False, True, True]
    assert [n for n, s in enumerate(results) if s.is_anomaly] == [ANOMALY_AT, second]


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
    assert details["explanation"].startswith(f"value {details['observed']:.4g} °C, ")
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


def temperature(ts: datetime, value: float) -> Reading:
    """A reading of an instant usage, as the stream hands it to `check_anomaly`."""
    return Reading(
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


def test_check_anomaly_on_stored_state_finds_what_a_live_detector_finds() -> None:
    series = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    state: dict[str, Any] | None = None
    events = []
    for ts, value in series:
        reading = temperature(ts, value)
        state, event = check_anomaly(json.loads(json.dumps(state)), reading, AnomalyConfig())
        events += [event] if event else []
    assert [event.ts for event in events] == [series[ANOMALY_AT][0]]
    assert events[0].details["unit"] == "°C"


def rescaled(series: Series, period: timedelta) -> Series:
    """The same values, one every `period` from T0."""
    return [(T0 + n * period, value) for n, (_, value) in enumerate(series)]


@pytest.mark.parametrize("period", [timedelta(seconds=1), timedelta(hours=1)])
def test_warm_up_counts_readings_at_any_period(period: timedelta) -> None:
    """A pump sampled every second and a boiler every hour are scored from the same reading."""
    spiked = altered(office_temperature(seed=0, weeks=1), lambda n, v: v + 50 if n == 150 else v)
    results = scores(rescaled(spiked, period))
    assert [n for n, s in enumerate(results) if s.cause is None] == list(range(100))
    assert results[150].is_anomaly and results[150].cause is Cause.RANGE


def test_spike_is_found_when_the_clock_runs_60_times_faster() -> None:
    """Four weeks of ten-minute readings in 67 minutes: no daily rhythm to learn, the
    spike is still the only anomaly."""
    spiked = altered(office_temperature(seed=0), lambda n, v: v + 8 if n == ANOMALY_AT else v)
    assert list(anomalies(rescaled(spiked, timedelta(seconds=10)))) == [ANOMALY_AT]


def test_an_hour_is_trusted_once_seen_on_three_days_whatever_the_period() -> None:
    every_second = SeasonalProfile(0.05)
    for ts, value in rescaled(office_temperature(seed=0), timedelta(seconds=1)):
        every_second.learn(ts, value)  # 4,032 readings in 67 minutes: two hours seen once
    assert max(every_second.days_seen(hour) for hour in range(SLOTS)) == 1
    ten_minutes = SeasonalProfile(0.05)
    for ts, value in office_temperature(seed=0, weeks=1)[: 3 * 144]:  # Monday to Wednesday
        ten_minutes.learn(ts, value)
    assert [ten_minutes.days_seen(hour) for hour in range(SLOTS)] == [3] * 24 + [0] * 24


def test_no_hour_is_compared_with_its_usual_value_before_the_third_day() -> None:
    """Heating left on the second night: no hour has been seen on three days yet."""
    heated = altered(office_temperature(seed=0), lambda n, v: v + 3 if 144 <= n < 156 else v)
    results = scores(heated)
    assert all(s.cause is not Cause.SEASONAL for s in results[:288])
    assert any(s.cause is Cause.SEASONAL for s in results[288:300])


def level_with_a_jump(jump_at: int) -> Series:
    """A swing between 10 and 20 every 72 readings, one reading jumping by 4 inside it."""
    series = []
    for n in range(6 * 72):
        value = 15 + 5 * math.sin(2 * math.pi * n / 72) + (4 if n == jump_at else 0)
        series.append((T0 + n * STEP, value))
    return series


def test_jump_inside_the_range_is_found_on_the_rate_of_change_of_a_level() -> None:
    series = level_with_a_jump(288)  # at 15, rising
    level = AnomalyDetector(rate_of_change=True)
    found = {n: s for n, s in enumerate(scores(series, level)) if s.is_anomaly}
    assert list(found) == [288] and found[288].cause is Cause.RATE
    assert found[288].finding is not None and found[288].finding.measured == pytest.approx(
        (series[288][1] - series[287][1]) / STEP.total_seconds()
    )
    assert not any(s.is_anomaly for s in scores(series))  # a consumption's detector


def test_explanation_says_how_far_from_the_usual_level_of_that_hour() -> None:
    finding = Finding(Cause.SEASONAL, 0.9, 45.0, 12.0, 18.0, usual=15.0, hour_slot=10)
    result = AnomalyScore(0.9, 0.5, 45.0, finding)
    assert explain(result, "kWh") == (
        "value 45 kWh, 3.0 times the usual weekday 10:00 level (15 kWh); expected 12 kWh to 18 kWh"
    )
    low = AnomalyScore(0.9, 0.5, 5.0, replace(finding, hour_slot=34))
    assert "33% of the usual weekend 10:00 level" in explain(low, "kWh")
    near = AnomalyScore(0.9, 0.5, 20.0, finding)
    assert "5 kWh above the usual weekday 10:00 level" in explain(near, "kWh")


def test_anomaly_event_figures_carry_no_float_noise() -> None:
    finding = Finding(
        Cause.SEASONAL, 0.9, 45.00000000001, 0.09999999999990905, 18.0, usual=15.000000000002
    )
    result = AnomalyScore(0.9, 0.5, 45.00000000001, finding)
    event = anomaly_event("t1", "u1", T0, result, unit="kWh")
    assert event is not None
    figures = {key: event.details[key] for key in ("observed", "measured", "expected_low")}
    assert figures == {"observed": 45.00000000001, "measured": 45.0, "expected_low": 0.1}
    assert (event.details["expected_high"], event.details["usual"]) == (18.0, 15.0)


def test_state_of_an_older_detector_starts_a_new_one() -> None:
    reading = temperature(T0, 1.0)
    state, event = check_anomaly({"v": 1, "readings": 5000}, reading, AnomalyConfig())
    assert (state["readings"], event) == (1, None)
