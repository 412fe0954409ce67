"""What could not be decoded or validated, kept with its original bytes and the reason."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_serializer, field_validator

from models.uplink import RawUplink


class RejectCode(StrEnum):
    BAD_ENVELOPE = "bad_envelope"
    BAD_TOPIC = "bad_topic"
    """An MQTT topic that matches no template but for its device id level (empty, or a
    device id holding a `/`)."""
    OVERSIZED = "oversized"
    UNKNOWN_DEVICE = "unknown_device"
    UNBOUND_APPLICATION = "unbound_application"
    """A network server's application (TTS application, ChirpStack application, Sigfox
    device type) that the registry binds to no tenant, or to another than the caller."""
    DEVICE_MISMATCH = "device_mismatch"
    """An MQTT topic naming another device or application than the message's body."""
    MALFORMED_PAYLOAD = "malformed_payload"
    WRONG_PORT = "wrong_port"
    """A LoRaWAN uplink on a port that carries no measurements of its device's model."""
    WRONG_LENGTH = "wrong_length"
    """A payload shorter or longer than its device's format allows."""
    CODEC_ERROR = "codec_error"
    """A JavaScript codec refused the payload (its own errors), threw, or reached its
    memory limit."""
    CODEC_TIMEOUT = "codec_timeout"
    """A JavaScript codec did not decode the payload within its time limit."""
    UNKNOWN_CHANNEL = "unknown_channel"
    INVALID_VALUE = "invalid_value"
    IMPLAUSIBLE_VALUE = "implausible_value"
    """A value no sensor or meter of its usage can report (outside its unit's physical
    bounds, the usage's plausible range, or its meter's register up to `index_max`)."""
    WRONG_UNIT = "wrong_unit"
    FUTURE_TIMESTAMP = "future_timestamp"
    ANCIENT_TIMESTAMP = "ancient_timestamp"
    DUPLICATE = "duplicate"
    PROCESSING_ERROR = "processing_error"
    """An unexpected error while handling the message: a bug to fix, then replay."""


class Rejection(BaseModel):
    """Why one uplink, or one value of it, was refused."""

    model_config = ConfigDict(frozen=True)

    code: RejectCode
    reason: str
    channel: str | None = None
    usage_id: str | None = None


class DeadLetter(BaseModel):
    """A dead-letter record: the rejection, where it came from, and the original bytes."""

    model_config = ConfigDict(frozen=True)

    code: RejectCode
    reason: str
    stage: str
    origin: str
    device_id: str | None = None
    channel: str | None = None
    usage_id: str | None = None
    failed_at: AwareDatetime
    original: bytes
    uplink: RawUplink | None = None
    """The raw uplink refused, as its connector published it, where it was one: what
    `smati dead-letters replay` sends through the stream again."""

    @field_serializer("original")
    def _original_to_base64(self, original: bytes) -> str:
        return base64.b64encode(original).decode("ascii")

    @field_validator("original", mode="before")
    @classmethod
    def _original_from_base64(cls, value: object) -> object:
        return base64.b64decode(value, validate=True) if isinstance(value, str) else value

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def dead_letter(
    rejection: Rejection,
    *,
    stage: str,
    origin: str,
    original: bytes,
    device_id: str | None = None,
    uplink: RawUplink | None = None,
) -> DeadLetter:
    """The dead letter of a refused message, failed now: the one builder of every stage."""
    return DeadLetter(
        code=rejection.code,
        reason=rejection.reason,
        stage=stage,
        origin=origin,
        device_id=device_id,
        channel=rejection.channel,
        usage_id=rejection.usage_id,
        failed_at=datetime.now(UTC),
        original=original,
        uplink=uplink,
    )
