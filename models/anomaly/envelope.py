"""The lowest and highest of what a usage has shown: river's running Min and Max."""

from __future__ import annotations

from river import stats


class Envelope:
    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self._min = stats.Min()
        self._max = stats.Max()
        if low is not None and high is not None:
            self.learn(low)
            self.learn(high)

    @property
    def empty(self) -> bool:
        return self._min.get() > self._max.get()

    @property
    def low(self) -> float:
        return float(self._min.get())

    @property
    def high(self) -> float:
        return float(self._max.get())

    @property
    def width(self) -> float:
        return 0.0 if self.empty else self.high - self.low

    def excess(self, value: float) -> float:
        """How far `value` lies outside, 0 inside (or while empty)."""
        if self.empty:
            return 0.0
        return max(value - self.high, self.low - value, 0.0)

    def learn(self, value: float) -> None:
        self._min.update(value)
        self._max.update(value)

    def to_state(self) -> list[float] | None:
        return None if self.empty else [self.low, self.high]

    @classmethod
    def from_state(cls, state: list[float] | None) -> Envelope:
        return cls() if state is None else cls(*state)
