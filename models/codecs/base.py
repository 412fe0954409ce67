"""What every codec shares: its signature, its output and its error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple


class DecodeError(ValueError):
    """The payload cannot be decoded; the message says why, for the dead-letter topic."""


class ChannelValue(NamedTuple):
    channel: str
    ts: datetime
    value: float
    unit: str | None


Codec = Callable[[bytes, datetime], list[ChannelValue]]
