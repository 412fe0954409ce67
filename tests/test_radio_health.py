"""Frame counters: repeated frames dropped, replays handled again, losses and resets counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.radio import LORAWAN_COUNTER_MODULUS
from models.radio_health import RadioState, check_frame
from models.sigfox import SEQUENCE_MODULUS

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def run(
    frames: list[tuple[int, str]],
    modulus: int = LORAWAN_COUNTER_MODULUS,
    every: timedelta = timedelta(minutes=10),
) -> list[tuple[object, ...]]:
    """The verdict on each frame, received `every` apart."""
    state = RadioState()
    verdicts: list[tuple[object, ...]] = []
    for n, (f_cnt, origin) in enumerate(frames):
        state, verdict = check_frame(state, f_cnt, modulus, origin, T0 + n * every)
        verdicts.append(tuple(verdict))
    return verdicts


def test_the_same_frame_from_another_origin_is_a_duplicate() -> None:
    # One frame heard by two gateways through two integrations, then the next frame.
    assert run([(10, "raw/0/1"), (10, "raw/0/2"), (11, "raw/0/3")]) == [
        (None, 0, False),
        ("raw/0/1", 0, False),
        (None, 0, False),
    ]


def test_the_same_raw_uplink_read_again_is_handled_again() -> None:
    """After a worker restart the raw topic is read again from the last commit."""
    assert run([(10, "raw/0/1"), (10, "raw/0/1")]) == [(None, 0, False), (None, 0, False)]


def test_a_gap_in_the_counter_counts_lost_frames() -> None:
    assert run([(10, "a"), (14, "b")]) == [(None, 0, False), (None, 3, False)]


def test_a_counter_going_back_is_a_reset() -> None:
    state = RadioState()
    for f_cnt, origin in [(500, "a"), (501, "b"), (1, "c")]:
        state, verdict = check_frame(state, f_cnt, LORAWAN_COUNTER_MODULUS, origin, T0)
    assert tuple(verdict) == (None, 0, True)
    assert (state.last_f_cnt, state.resets) == (1, 1)
    # After the reset, the frame numbers seen before it are new frames again.
    state, verdict = check_frame(state, 500, LORAWAN_COUNTER_MODULUS, "d", T0)
    assert tuple(verdict) == (None, 498, False)


def test_a_sigfox_sequence_number_rolls_over_at_4096() -> None:
    assert run([(4094, "a"), (4095, "b"), (1, "c")], SEQUENCE_MODULUS) == [
        (None, 0, False),
        (None, 0, False),
        (None, 1, False),  # 0 was lost; not a reset
    ]
    assert run([(3000, "a"), (2000, "b")], SEQUENCE_MODULUS)[1] == (None, 0, True)


def test_a_sigfox_sequence_number_is_judged_as_the_backend_does() -> None:
    """Ahead by at most max(300 x days, 140 x (days + 2)) since the last message continues
    the sequence (the backend delivers it); further ahead is a reset (the backend refused it
    until the sequence was disengaged)."""
    within_a_day = [(4000, "a"), (100, "b")]  # 196 ahead, through 4095
    assert run(within_a_day, SEQUENCE_MODULUS)[1] == (None, 195, False)
    restarted = [(2000, "a"), (5, "b")]  # 2,101 ahead
    assert run(restarted, SEQUENCE_MODULUS, timedelta(hours=20))[1] == (None, 0, True)
    # After 12 days of silence the backend takes up to 3,600 ahead: not a reset.
    assert run(restarted, SEQUENCE_MODULUS, timedelta(days=12))[1] == (None, 2100, False)
    # The limit itself: 420 ahead within a day (140 x 3), 421 is a reset.
    assert run([(0, "a"), (420, "b")], SEQUENCE_MODULUS)[1] == (None, 419, False)
    assert run([(0, "a"), (421, "b")], SEQUENCE_MODULUS)[1] == (None, 0, True)


def test_frames_without_a_counter_are_all_new() -> None:
    state, verdict = check_frame(RadioState(), None, SEQUENCE_MODULUS, "a", T0)
    assert state == RadioState() and verdict.duplicate_of is None
