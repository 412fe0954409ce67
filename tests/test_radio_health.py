"""Frame counters: repeated frames dropped, replays handled again, losses and resets counted."""

from __future__ import annotations

from models.radio import LORAWAN_COUNTER_MODULUS
from models.radio_health import RadioState, check_frame
from models.sigfox import SEQUENCE_MODULUS


def run(
    frames: list[tuple[int, str]], modulus: int = LORAWAN_COUNTER_MODULUS
) -> list[tuple[object, ...]]:
    state = RadioState()
    verdicts: list[tuple[object, ...]] = []
    for f_cnt, origin in frames:
        state, verdict = check_frame(state, f_cnt, modulus, origin)
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
        state, verdict = check_frame(state, f_cnt, LORAWAN_COUNTER_MODULUS, origin)
    assert tuple(verdict) == (None, 0, True)
    assert (state.last_f_cnt, state.resets) == (1, 1)
    # After the reset, the frame numbers seen before it are new frames again.
    state, verdict = check_frame(state, 500, LORAWAN_COUNTER_MODULUS, "d")
    assert tuple(verdict) == (None, 498, False)


def test_a_sigfox_sequence_number_rolls_over_at_4096() -> None:
    assert run([(4094, "a"), (4095, "b"), (1, "c")], SEQUENCE_MODULUS) == [
        (None, 0, False),
        (None, 0, False),
        (None, 1, False),  # 0 was lost; not a reset
    ]
    assert run([(3000, "a"), (2000, "b")], SEQUENCE_MODULUS)[1] == (None, 0, True)


def test_frames_without_a_counter_are_all_new() -> None:
    state, verdict = check_frame(RadioState(), None, SEQUENCE_MODULUS, "a")
    assert state == RadioState() and verdict.duplicate_of is None
