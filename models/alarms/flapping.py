"""Flap detection, Nagios's method: the percent of state change over the last 21 states.

Each of the 20 changes between 21 consecutive states weighs from 0.75 (the oldest) to
1.25 (the newest), so recent changes count more; the sum, over 20, is the percent.
Flapping starts above a high threshold and stops below a low one (hysteresis).
"""

from __future__ import annotations

HISTORY = 21
"""States kept."""
_OLDEST_WEIGHT, _NEWEST_WEIGHT = 0.75, 1.25


def remember(history: str, problem: bool) -> str:
    """The history ('1' a problem, '0' none; oldest first) with one more state."""
    return (history + ("1" if problem else "0"))[-HISTORY:]


def percent_state_change(history: str) -> float:
    """A shorter history counts its changes at the newest weights, over the same 20."""
    changes = HISTORY - 1
    offset = HISTORY - len(history)
    total = 0.0
    for i in range(1, len(history)):
        if history[i] != history[i - 1]:
            position = i + offset  # 1 for the oldest change of a full history, 20 the newest
            step = (_NEWEST_WEIGHT - _OLDEST_WEIGHT) / (changes - 1)
            total += _OLDEST_WEIGHT + (position - 1) * step
    return total * 100.0 / changes
