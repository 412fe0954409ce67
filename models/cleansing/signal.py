"""A usage's signal as the cleansing functions see it, and the corrections they find."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.reading import UsageType


class Action(StrEnum):
    EXCLUDE = "exclude"
    """The reading is left out of the corrected view."""
    REPLACE = "replace"
    """The reading shows another value in the corrected view."""
    ESTIMATE = "estimate"
    """A value estimated where none was measured, marked as such."""


@dataclass(frozen=True)
class Signal:
    """Times (UTC, increasing) and values of one usage, `estimated` marking the values no
    meter measured."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    estimated: tuple[bool, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.estimated:
            object.__setattr__(self, "estimated", (False,) * len(self.times))
        if not len(self.times) == len(self.values) == len(self.estimated):
            raise ValueError("a signal needs as many times as values")

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class UsageFacts:
    """What the treatments need to know of the usage, from the registry."""

    usage_id: str
    type: UsageType
    unit: str
    period_s: float
    timezone: ZoneInfo
    min: float | None = None
    max: float | None = None
    index_max: float | None = None


@dataclass(frozen=True)
class Correction:
    """One change to the corrected view: `value` None excludes the reading at `ts`."""

    ts: datetime
    action: Action
    value: float | None
    original: float | None
    """The value shown before (None: nothing was there, an estimate's case)."""
    reason: str
