"""Issue 24, items 1 and 3: each treatment finds exactly the defects put in a fixture, and
gap filling estimates what is missing, per usage type (pure functions, no services)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from models.cleansing import (
    Action,
    CleansingError,
    FillParams,
    Signal,
    UsageFacts,
    fill_gaps,
    review,
    run_treatment,
)
from models.reading import UsageType

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
PARIS = ZoneInfo("Europe/Paris")
N = 24 * 21


def facts(kind: UsageType, **extra: float) -> UsageFacts:
    return UsageFacts("u", kind, "x", 3600.0, PARIS, **extra)


def times(n: int = N) -> list[datetime]:
    return [T0 + k * HOUR for k in range(n)]


def signal(values: dict[int, float]) -> Signal:
    keys = sorted(values)
    return Signal(tuple(T0 + k * HOUR for k in keys), tuple(values[k] for k in keys))


def level(k: int) -> float:
    """A daily sine around 20 with a little deterministic noise."""
    return 20 + 2 * math.sin(2 * math.pi * k / 24) + 0.05 * ((k * 37) % 7 - 3)


SPIKES = {50: 35.0, 120: 8.0, 200: 40.0}
INSTANT = signal({k: SPIKES.get(k, level(k)) for k in range(N)})


def found(name: str, data: Signal, usage: UsageFacts, **params: str) -> set[int]:
    corrections = run_treatment(name, data, usage, params)[1]
    return {int((c.ts - T0) / HOUR) for c in corrections}


@pytest.mark.parametrize("method", ["iqr", "mad", "hampel"])
def test_each_outlier_method_finds_exactly_the_spikes(method: str) -> None:
    assert found(method, INSTANT, facts(UsageType.INSTANT)) == set(SPIKES)


def test_hampel_replaces_a_spike_by_its_windows_median() -> None:
    corrections = run_treatment("hampel", INSTANT, facts(UsageType.INSTANT), {"window": "3"})[1]
    spike = next(c for c in corrections if c.ts == T0 + 50 * HOUR)
    window = sorted([*(level(k) for k in (47, 48, 49, 51, 52, 53)), 35.0])
    assert spike.action is Action.REPLACE and spike.original == 35.0
    assert spike.value == pytest.approx(window[3])


def test_thresholds_default_to_the_registered_ones_and_can_be_given() -> None:
    registered = facts(UsageType.INSTANT, min=15.0, max=30.0)
    assert found("thresholds", INSTANT, registered) == set(SPIKES)
    assert found("thresholds", INSTANT, registered, max="36") == {120, 200}
    with pytest.raises(CleansingError, match="no registered min or max"):
        run_treatment("thresholds", INSTANT, facts(UsageType.INSTANT), {})


def test_negative_consumptions_are_found() -> None:
    data = signal({k: -1.0 if k in (30, 31, 100) else 3.0 for k in range(N)})
    assert found("negative-consumption", data, facts(UsageType.CONSUMPTION)) == {30, 31, 100}


def test_decreasing_index_finds_glitches_not_resets_nor_a_new_level() -> None:
    def index(k: int) -> float:
        if k in (40, 41):
            return 500.0  # a glitch: back above the trusted index at k = 42
        if k >= 100:
            return 3 + 10 * (k - 100) - (50 if k >= 150 else 0)  # reset, then a lower level
        return 1000 + 10 * k

    data = signal({k: index(k) for k in range(200)})
    assert found("decreasing-index", data, facts(UsageType.INDEX)) == {40, 41}
    # A glitch the signal ends on is one too.
    tail = signal({**{k: 1000.0 + k for k in range(10)}, 10: 900.0})
    assert found("decreasing-index", tail, facts(UsageType.INDEX)) == {10}


def test_anomaly_events_exclude_the_readings_the_stream_reported() -> None:
    events = frozenset({T0 + 50 * HOUR, T0 + 120 * HOUR, T0 + 10_000 * HOUR})
    corrections = run_treatment("anomaly-events", INSTANT, facts(UsageType.INSTANT), {}, events)[1]
    assert {c.ts for c in corrections} == {T0 + 50 * HOUR, T0 + 120 * HOUR}
    assert all(c.action is Action.EXCLUDE and c.value is None for c in corrections)


def test_a_treatment_refuses_a_usage_type_parameters_and_names_it_does_not_know() -> None:
    with pytest.raises(CleansingError, match="applies to usages of type consumption, instant"):
        run_treatment("iqr", INSTANT, facts(UsageType.INDEX), {})
    with pytest.raises(CleansingError, match="treatment mad: threshold: Input should be"):
        run_treatment("mad", INSTANT, facts(UsageType.INSTANT), {"threshold": "-1"})
    with pytest.raises(CleansingError, match="window: Extra inputs"):
        run_treatment("mad", INSTANT, facts(UsageType.INSTANT), {"window": "3"})
    with pytest.raises(CleansingError, match="unknown treatment 'zscore'; known: decreasing"):
        run_treatment("zscore", INSTANT, facts(UsageType.INSTANT), {})


def test_estimates_are_never_judged_as_defects() -> None:
    data = Signal(INSTANT.times, INSTANT.values, tuple(k == 50 for k in range(N)))
    assert found("mad", data, facts(UsageType.INSTANT)) == {120, 200}


def hourly_use(k: int) -> float:
    """Consumption of the hour ending at T0 + k h: 10 by day (local 08:00 to 18:00), 2 at night."""
    local = (T0 + k * HOUR).astimezone(PARIS)
    return 10.0 if 8 <= local.hour < 18 else 2.0


GAP = range(400, 420)


def test_a_filled_index_follows_the_profile_is_monotonic_and_meets_both_sides() -> None:
    indexes = {0: 1000.0}
    for k in range(1, N):
        indexes[k] = indexes[k - 1] + hourly_use(k)
    data = signal({k: v for k, v in indexes.items() if k not in GAP})
    filling = fill_gaps(data, facts(UsageType.INDEX), FillParams())
    estimates = {int((c.ts - T0) / HOUR): c for c in filling.corrections}
    assert set(estimates) == set(GAP) and not filling.skipped
    assert all(c.action is Action.ESTIMATE and c.original is None for c in estimates.values())
    series = [indexes[GAP.start - 1], *(estimates[k].value for k in GAP), indexes[GAP.stop]]
    assert all(a is not None and b is not None and a <= b for a, b in pairwise(series))
    # The profile is learnt exactly: the estimates are the true indexes.
    assert [estimates[k].value for k in GAP] == pytest.approx([indexes[k] for k in GAP])


def test_the_profile_may_be_learnt_from_a_longer_history_than_the_period_filled() -> None:
    indexes = {0: 1000.0}
    for k in range(1, N):
        indexes[k] = indexes[k - 1] + hourly_use(k)
    history = signal({k: v for k, v in indexes.items() if k not in GAP})
    period = signal({k: indexes[k] for k in (GAP.start - 1, GAP.stop)})
    alone = fill_gaps(period, facts(UsageType.INDEX), FillParams()).corrections
    learnt = fill_gaps(period, facts(UsageType.INDEX), FillParams(), history).corrections
    assert [c.value for c in learnt] == pytest.approx([indexes[k] for k in GAP])
    assert [c.value for c in alone] != pytest.approx([indexes[k] for k in GAP])  # linear


def test_a_filled_consumption_is_its_usual_hour_and_weekday() -> None:
    data = signal({k: hourly_use(k) for k in range(N) if k not in GAP})
    filling = fill_gaps(data, facts(UsageType.CONSUMPTION), FillParams())
    assert [c.value for c in filling.corrections] == [hourly_use(k) for k in GAP]


def test_an_instant_is_interpolated_only_across_short_gaps() -> None:
    missing = {10, 11, 12, *range(50, 61)}
    data = signal({k: float(k) for k in range(100) if k not in missing})
    filling = fill_gaps(data, facts(UsageType.INSTANT), FillParams(max_hours=6))
    assert [(int((c.ts - T0) / HOUR), c.value) for c in filling.corrections] == [
        (10, 10.0), (11, 11.0), (12, 12.0)
    ]  # fmt: skip
    ((gap, why),) = filling.skipped
    assert (gap.before, gap.after, why) == (T0 + 49 * HOUR, T0 + 61 * HOUR, "longer than 6 h")


def test_an_index_lower_after_its_gap_is_not_filled() -> None:
    data = signal({0: 100.0, 1: 101.0, 2: 102.0, 9: 3.0, 10: 4.0})
    filling = fill_gaps(data, facts(UsageType.INDEX), FillParams())
    assert filling.corrections == []
    assert [why for _, why in filling.skipped] == [
        "the index decreased across the gap (a reset or a rollover?)"
    ]


def test_review_shows_the_signal_corrected() -> None:
    data = signal({0: 1.0, 1: 50.0, 2: 3.0, 5: 6.0})
    _, excluded = run_treatment("thresholds", data, facts(UsageType.INSTANT), {"max": "10"})
    filling = fill_gaps(data, facts(UsageType.INSTANT), FillParams())
    shown = review(data, [*excluded, *filling.corrections])
    assert shown.stored == data and [c.ts for c in shown.defects] == [
        T0 + HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR
    ]  # fmt: skip
    assert shown.corrected == Signal(
        tuple(T0 + k * HOUR for k in (0, 2, 3, 4, 5)),
        (1.0, 3.0, 4.0, 5.0, 6.0),
        (False, False, True, True, False),
    )
