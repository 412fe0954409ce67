"""The Sigfox backend's data callback (custom callback), in its default content type
`application/x-www-form-urlencoded` or in JSON.

Configure the callback's body as (quoted or not: the numbers may arrive as text)
`{"device": "{device}", "deviceTypeId": "{deviceTypeId}", "time": {time}, "data":
"{data}", "seqNumber": {seqNumber}, "station": "{station}", "rssi": {rssi}, "snr": {snr},
"ack": {ack}}` (`ack`: a bidirectional callback, whose device listens for a downlink in the
reply), or the same variables as a form (`device={device}&deviceTypeId={deviceTypeId}&...`).
`time` is in epoch seconds, `data` up to 12 bytes in hex; the device type id is what the
registry binds to a tenant.

The sequence number is 12 bits and rolls over at 4096. The backend takes a sequence
number as the device's next one when it is ahead of the last by no more than
max(300 x days, contract x (days + 2)), days being the days between the two messages
(within 24 h: 1) and contract the daily messages of the device's subscription; further
ahead, it refuses the message ("out of message sequence") until the sequence number is
disengaged, which a device restarted with a new firmware needs (Sigfox support, "Sequence
number: general knowledge"). So a number that wraps from 4095 to 0 continues the sequence,
and so does any number after a silence long enough; only one further ahead is a reset.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field, ValidationError, field_validator

from models.radio import FrameFormatError, RadioFrame, Reception, describe

SEQUENCE_MODULUS = 4096
MAX_DATA_BYTES = 12
MOST_DAILY_MESSAGES = 140
"""The largest Sigfox subscription's daily uplinks (Platinum): the contract figure of the
backend's rule, at its most tolerant, since SMATI does not know each device's contract."""


class SigfoxCallback(BaseModel):
    device: str = Field(pattern=r"^[0-9A-Fa-f]{1,8}$")
    deviceTypeId: str | None = Field(default=None, min_length=1)
    time: int = Field(ge=0, lt=1 << 40)
    data: bytes = b""
    seqNumber: int | None = Field(default=None, ge=0, lt=SEQUENCE_MODULUS)
    station: str | None = None
    rssi: float | None = None
    snr: float | None = None
    ack: bool = False
    """A bidirectional callback: the device listens for a downlink in the reply."""

    @field_validator("data", mode="before")
    @classmethod
    def _hex(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            data = bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"data must be hexadecimal, got {value!r}") from None
        if len(data) > MAX_DATA_BYTES:
            raise ValueError(f"data has {len(data)} bytes, Sigfox carries {MAX_DATA_BYTES} at most")
        return data


def parse_sigfox(raw: bytes, _: datetime) -> RadioFrame:
    """The frame of a callback's body, JSON or form-encoded (told apart by its first byte:
    a form's first variable name cannot start with `{`)."""
    what = "a Sigfox data callback"
    try:
        if raw.lstrip()[:1] == b"{":
            callback = SigfoxCallback.model_validate_json(raw)
        else:
            callback = SigfoxCallback.model_validate(_form(raw))
    except ValidationError as error:
        raise describe(what, error) from None
    except ValueError as error:
        raise FrameFormatError(f"not {what}: {error}") from None
    device = callback.device.upper()
    receptions: tuple[Reception, ...] = ()
    if callback.station:
        receptions = (Reception(gateway_id=callback.station, rssi=callback.rssi, snr=callback.snr),)
    return RadioFrame(
        network_id=device,
        application=callback.deviceTypeId,
        time=datetime.fromtimestamp(callback.time, UTC),
        f_cnt=callback.seqNumber,
        counter_modulus=SEQUENCE_MODULUS,
        payload=callback.data,
        receptions=receptions,
        downlink_requested=callback.ack,
    )


def _form(raw: bytes) -> dict[str, str]:
    """The variables of a form-encoded body; ValueError for one that is no form."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("neither JSON nor a form (not ASCII)") from None
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))


def sequence_continues(forward: int, silence: timedelta) -> bool:
    """Whether a sequence number `forward` steps ahead of the last one (modulo 4096) after
    `silence` is the device's next, as the backend judges it; otherwise a reset."""
    days = max(1, math.ceil(silence / timedelta(days=1)))
    return 0 < forward <= max(300 * days, MOST_DAILY_MESSAGES * (days + 2))
