"""Times for a person: read from the command line, shown in a zone that is shown too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import click

__all__ = ["Moment", "shown"]

_AGE = re.compile(r"^(\d+(?:\.\d+)?)(s|min|h|d)$")
_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


class Moment(click.ParamType):
    """A time with its zone (ISO 8601: 2026-11-25T10:00:00+01:00, or Z), or an age back from
    now (90s, 30min, 2h, 7d). A time without a zone is refused: it would be a guess."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        age = _AGE.match(text)
        if age is not None:
            return datetime.now(UTC) - timedelta(seconds=float(age[1]) * _SECONDS[age[2]])
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is neither a time (2026-11-25T10:00Z) nor an age (2h, 7d)")
        if moment.tzinfo is None:
            self.fail(f"{text!r} has no zone: add Z (UTC) or an offset such as +01:00")
        return moment


def shown(moment: datetime, zone: str = "UTC") -> str:
    """`moment` in `zone`, the zone's abbreviation after it: 2026-11-25 11:00:00 CET."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")
