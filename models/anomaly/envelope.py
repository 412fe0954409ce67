"""The lowest and highest of what a usage has shown: a running min and max.

Plain floats rather than river's `stats.Min` and `stats.Max`, whose two objects cost more
to rebuild from a stored state (once per reading in the stream) than the whole update.
"""

from __future__ import annotations

import math


class Envelope:
    __slots__ = ("high", "low")

    def __init__(self, low: float = math.inf, high: float = -math.inf) -> None:
        """Empty by default; `Envelope(a, b)` has seen a and b (a <= b)."""
        self.low = low
        self.high = high

    @property
    def empty(self) -> bool:
        return self.low > self.high

    @property
    def width(self) -> float:
        return 0.0 if self.empty else self.high - self.low

    def excess(self, value: float) -> float:
        """How far `value` lies outside, 0 inside (or while empty)."""
        if self.empty:
            return 0.0
        return max(value - self.high, self.low - value, 0.0)

    def learn(self, value: float) -> None:
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def to_state(self) -> list[float] | None:
        return None if self.empty else [self.low, self.high]

    @classmethod
    def from_state(cls, state: list[float] | None) -> Envelope:
        return cls() if state is None else cls(*state)
