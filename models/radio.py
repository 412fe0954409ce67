"""One radio uplink as a network server reports it: payload, counters and gateways.

The Things Stack, ChirpStack and the Sigfox backend each have their own JSON; their
parsers (models.lorawan, models.sigfox) turn it into a `RadioFrame`, the part codecs,
the connectors and the radio-health rules need.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from models.errors import SmatiError

LORAWAN_COUNTER_MODULUS = 1 << 32
"""LoRaWAN network servers report the full 32-bit frame counter."""


class FrameFormatError(SmatiError, ValueError):
    """The message is not in its network server's format; the text says where and why."""


class Reception(BaseModel):
    """One gateway (LoRaWAN) or base station (Sigfox) that received the frame."""

    model_config = ConfigDict(frozen=True)

    gateway_id: str
    rssi: float | None = None
    snr: float | None = None


class RadioFrame(BaseModel):
    """What a network server tells of one uplink, whatever its JSON looked like."""

    model_config = ConfigDict(frozen=True)

    network_id: str
    """The device as the network server names it: TTS device id, DevEUI, Sigfox id."""
    dev_eui: str | None = None
    application: str | None = None
    """The network server's application (TTS application id, ChirpStack application UUID,
    Sigfox device type id): its binding in the registry says whose device it is."""
    network_tenant: str | None = None
    """The Things Stack's tenant id, where the message names it."""
    time: AwareDatetime
    """When the network received it: the time of the readings that carry no time."""
    f_port: int | None = None
    f_cnt: int | None = None
    counter_modulus: int = LORAWAN_COUNTER_MODULUS
    payload: bytes = b""
    decoded: dict[str, Any] | None = None
    """The network server's own decoding of the payload, when it made one."""
    receptions: tuple[Reception, ...] = ()
    downlink_requested: bool = False
    """Sigfox: the device listens for a downlink, answered in the callback's reply."""

    def metadata(self) -> dict[str, Any]:
        """The radio metadata the connectors put in the raw uplink envelope."""
        return {
            "network_id": self.network_id,
            "dev_eui": self.dev_eui,
            "time": self.time.isoformat(),
            "f_port": self.f_port,
            "f_cnt": self.f_cnt,
            "gateways": [reception.model_dump() for reception in self.receptions],
        }


def base64_bytes(value: object) -> object:
    """A strict base64 field: a bad character or padding is an error, not silently dropped."""
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError(f"not base64: {error}") from None


def describe(what: str, error: ValidationError) -> FrameFormatError:
    """A readable FrameFormatError from pydantic's errors: `what: field: problem; ...`."""
    problems = "; ".join(
        f"{'.'.join(map(str, detail['loc'])) or 'message'}: {detail['msg']}"
        for detail in error.errors(include_url=False)
    )
    return FrameFormatError(f"not {what}: {problems}")
