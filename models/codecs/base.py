"""What every codec shares: its signature, its output, its errors and its registry entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from models.errors import SmatiError


class DecodeError(SmatiError, ValueError):
    """The payload cannot be decoded; the message says why, for the dead-letter topic."""


class WrongLength(DecodeError):
    """The payload is shorter or longer than its format allows (truncated, or another format)."""


class WrongPort(DecodeError):
    """The uplink came on a LoRaWAN port that does not carry this device's measurements."""


class CodecError(DecodeError):
    """A JavaScript codec did not decode the payload: its own errors, an exception, or its
    memory limit reached."""


class CodecTimeout(DecodeError):
    """A JavaScript codec did not finish decoding one payload within its time limit."""


class ChannelValue(NamedTuple):
    channel: str
    ts: datetime
    value: float
    unit: str | None


Decoder = Callable[[bytes, datetime], list[ChannelValue]]
"""`(payload, time of the frame) -> channel values`; raises DecodeError for anything else."""


@dataclass(frozen=True)
class Codec:
    """A device model's payload decoder, and the LoRaWAN ports its measurements come on."""

    decode: Decoder
    f_ports: frozenset[int] | None = None
    """Ports carrying measurements; None: any port, or no port (Sigfox, MQTT)."""

    def __call__(
        self, payload: bytes, ts: datetime, f_port: int | None = None
    ) -> list[ChannelValue]:
        if f_port is not None and self.f_ports is not None and f_port not in self.f_ports:
            raise WrongPort(
                f"f_port {f_port} carries no measurements (expected {sorted(self.f_ports)})"
            )
        return self.decode(payload, ts)


def need_length(payload: bytes, at: int, size: int, what: str) -> bytes:
    """`size` bytes of `payload` from `at`, or WrongLength naming the truncated field."""
    if at + size > len(payload):
        raise WrongLength(
            f"{what} needs {size} byte(s) at offset {at}, the payload has {len(payload)}"
        )
    return payload[at : at + size]
