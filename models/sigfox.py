"""The Sigfox backend's data callback (custom callback, JSON body).

Configure the callback's body as (quoted or not: the numbers may arrive as text)
`{"device": "{device}", "time": {time}, "data": "{data}", "seqNumber": {seqNumber},
"station": "{station}", "rssi": {rssi}, "snr": {snr}, "avgSnr": {avgSnr},
"duplicate": {duplicate}, "ack": {ack}}` (`ack`: a bidirectional callback). `time` is in
epoch seconds, `data` up to 12 bytes in hex; the sequence number is 12 bits and rolls over
at 4096.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, ValidationError, field_validator

from models.radio import RadioFrame, Reception, describe

SEQUENCE_MODULUS = 4096
MAX_DATA_BYTES = 12


class SigfoxCallback(BaseModel):
    device: str = Field(pattern=r"^[0-9A-Fa-f]{1,8}$")
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
    try:
        callback = SigfoxCallback.model_validate_json(raw)
    except ValidationError as error:
        raise describe("a Sigfox data callback", error) from None
    device = callback.device.upper()
    receptions: tuple[Reception, ...] = ()
    if callback.station:
        receptions = (Reception(gateway_id=callback.station, rssi=callback.rssi, snr=callback.snr),)
    return RadioFrame(
        network_id=device,
        time=datetime.fromtimestamp(callback.time, UTC),
        f_cnt=callback.seqNumber,
        counter_modulus=SEQUENCE_MODULUS,
        payload=callback.data,
        receptions=receptions,
        downlink_requested=callback.ack,
    )
