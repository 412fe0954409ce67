"""A report's period: whole local months, from the first named to the last named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from models.errors import SmatiError

__all__ = ["Period", "PeriodError", "next_month"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(SmatiError, ValueError):
    """A period that does not parse, or ends before it starts."""


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    """First day of the first month."""
    end: date
    """First day of the month after the last: excluded."""

    @classmethod
    def of_months(cls, first: str, last: str) -> Period:
        """From `YYYY-MM` to `YYYY-MM`, both months included."""
        start, last_month = _parse(first), _parse(last)
        if last_month < start:
            raise PeriodError(f"the period ends ({last}) before it starts ({first})")
        return cls(start, next_month(last_month))

    @classmethod
    def months_before(cls, today: date, count: int) -> Period:
        """The `count` whole months before the month of `today`."""
        end = date(today.year, today.month, 1)
        start = end
        for _ in range(count):
            start = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
        return cls(start, end)

    @property
    def months(self) -> list[date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = next_month(month)
        return months

    @property
    def years(self) -> list[int]:
        return sorted({month.year for month in self.months})


def _parse(text: str) -> date:
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"not a month: {text!r} (expected YYYY-MM)")
    return date(int(match.group(1)), int(match.group(2)), 1)
