"""The real transmission period of a usage, learnt online from the times between readings."""

from __future__ import annotations

from statistics import median
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class PeriodEstimate(BaseModel):
    """The median of the last intervals between consecutive readings, in reading time.

    Fed only with readings newer than the last one, so duplicates, replays and late or
    out-of-order data never count; a burst of retransmitted old readings carries its own
    (reading) times, so it shows the true period, not the burst's. The median shrugs off
    jitter and the odd long silence (a gap is one large interval among `WINDOW`).
    """

    model_config = ConfigDict(frozen=True)

    WINDOW: ClassVar[int] = 15
    MIN_INTERVALS: ClassVar[int] = 5

    intervals_s: tuple[float, ...] = ()

    def observe(self, interval_s: float) -> PeriodEstimate:
        if interval_s <= 0:
            return self
        return PeriodEstimate(intervals_s=(*self.intervals_s, interval_s)[-self.WINDOW :])

    @property
    def seconds(self) -> float | None:
        """The estimate, once enough intervals were seen; None before."""
        if len(self.intervals_s) < self.MIN_INTERVALS:
            return None
        return median(self.intervals_s)
