"""What every codec shares: its signature, its output, its errors and its registry entry."""

from __future__ import annotations

from collections.abc import Callable, Collection
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
        refusal = port_refusal(f_port, self.f_ports)
        if refusal is not None:
            raise refusal
        return self.decode(payload, ts)


def port_refusal(f_port: int | None, f_ports: Collection[int] | None) -> WrongPort | None:
    """WrongPort for a LoRaWAN port outside a codec's data ports, None for any other."""
    if f_port is None or f_ports is None or f_port in f_ports:
        return None
    return WrongPort(f"f_port {f_port} carries no measurements (expected {sorted(f_ports)})")


def need_length(payload: bytes, at: int, size: int, what: str) -> bytes:
    """`size` bytes of `payload` from `at`, or WrongLength naming the truncated field."""
    if at + size > len(payload):
        raise WrongLength(
            f"{what} needs {size} byte(s) at offset {at}, the payload has {len(payload)}"
        )
    return payload[at : at + size]
