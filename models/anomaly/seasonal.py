"""The usual value of a usage per hour of the day and kind of day (weekday or weekend):
48 exponentially weighted means, the daily and weekly rhythm of a building.

An hour is trusted once it has been seen on `min_days` different days, counted as visits
(a reading in another hour than the previous reading's): a usage reporting every second
and one reporting every ten minutes both need days of history, and a usage whose whole
history fits in an hour never uses the profile. The weekend's hours, seen two days a
week, switch on later than the weekdays'.

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


def slot_name(slot: int) -> str:
    """In a maintenance team's words: "weekday 10:00", "weekend 03:00"."""
    return f"{'weekend' if slot >= 24 else 'weekday'} {slot % 24:02d}:00"


def _hour_of_history(local_ts: datetime) -> int:
    return local_ts.toordinal() * 24 + local_ts.hour


class SeasonalProfile:
    def __init__(
        self,
        fading: float,
        means: list[float | None] | None = None,
        visits: list[int] | None = None,
        last_hour: int | None = None,
    ) -> None:
        self._fading = fading
        self._means = means or [None] * SLOTS
        self._visits = visits or [0] * SLOTS
        self._last_hour = last_hour

    def days_seen(self, slot: int) -> int:
        return self._visits[slot]

    def usual(self, slot: int) -> float:
        mean = self._means[slot]
        if mean is None:
            raise LookupError(f"hour slot {slot} has no reading yet")
        return mean

    def learn(self, local_ts: datetime, value: float) -> None:
        at = slot(local_ts)
        mean = self._means[at]
        self._means[at] = value if mean is None else mean + self._fading * (value - mean)
        hour = _hour_of_history(local_ts)
        if hour != self._last_hour:
            self._visits[at] += 1
            self._last_hour = hour

    def to_state(self) -> dict[str, Any]:
        return {"means": list(self._means), "visits": list(self._visits), "hour": self._last_hour}

    @classmethod
    def from_state(cls, fading: float, state: dict[str, Any]) -> SeasonalProfile:
        return cls(fading, list(state["means"]), list(state["visits"]), state["hour"])
