"""The usual value of a usage per hour of the day and kind of day (weekday or weekend):
48 exponentially weighted means, the daily and weekly rhythm of a building.

Plain floats, updated as river's `stats.EWMean` does (the first value as it is, then
mean += fading x (value - mean)): restoring 48 river objects from a state costs more than
a reading's whole scoring, and the state is restored after every restart or rebalance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SLOTS = 48


def slot(local_ts: datetime) -> int:
    return local_ts.hour + (24 if local_ts.weekday() >= 5 else 0)


class SeasonalProfile:
    def __init__(
        self,
        fading: float,
        means: list[float | None] | None = None,
        counts: list[int] | None = None,
    ) -> None:
        self._fading = fading
        self._means = means or [None] * SLOTS
        self._counts = counts or [0] * SLOTS

    def count(self, slot: int) -> int:
        return self._counts[slot]

    def usual(self, slot: int) -> float:
        mean = self._means[slot]
        if mean is None:
            raise LookupError(f"hour slot {slot} has no reading yet")
        return mean

    def learn(self, slot: int, value: float) -> None:
        mean = self._means[slot]
        self._means[slot] = value if mean is None else mean + self._fading * (value - mean)
        self._counts[slot] += 1

    def to_state(self) -> dict[str, Any]:
        return {"means": list(self._means), "counts": list(self._counts)}

    @classmethod
    def from_state(cls, fading: float, state: dict[str, Any]) -> SeasonalProfile:
        return cls(fading, list(state["means"]), list(state["counts"]))
