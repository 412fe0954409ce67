"""The usual value of a usage per hour of the day and kind of day (weekday or weekend):
48 exponentially weighted means (river's EWMean), the daily and weekly rhythm of a building."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from river import stats

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
        self._means = [stats.EWMean(fading) for _ in range(SLOTS)]
        self._counts = counts or [0] * SLOTS
        for mean, value in zip(self._means, means or [], strict=False):
            if value is not None:
                mean.update(value)  # river's EWMean takes its first value as it is

    def count(self, slot: int) -> int:
        return self._counts[slot]

    def usual(self, slot: int) -> float:
        return float(self._means[slot].get())

    def learn(self, slot: int, value: float) -> None:
        self._means[slot].update(value)
        self._counts[slot] += 1

    def to_state(self) -> dict[str, Any]:
        means: list[float | None] = [
            self.usual(i) if count else None for i, count in enumerate(self._counts)
        ]
        return {"means": means, "counts": list(self._counts)}

    @classmethod
    def from_state(cls, fading: float, state: dict[str, Any]) -> SeasonalProfile:
        return cls(fading, list(state["means"]), [int(count) for count in state["counts"]])
