"""The raw uplink envelope that connectors produce to Kafka.

Connectors do not decode: they wrap the original bytes with where and when they
were received, so that a decoder fix can replay the raw topic and lose nothing.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer, field_validator


class RawUplink(BaseModel):
    """One message as a device sent it, with its reception metadata."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(
        description="what the payload is: mqtt (a device's own), tts, chirpstack, sigfox "
        "(a network server's message, see models.network_servers)"
    )
    device_id: str = Field(min_length=1)
    received_at: AwareDatetime
    payload: bytes = Field(description="the original bytes, untouched")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("payload")
    def _payload_to_base64(self, payload: bytes) -> str:
        return base64.b64encode(payload).decode("ascii")

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_from_base64(cls, value: object) -> object:
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
        return value

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes) -> RawUplink:
        return cls.model_validate_json(raw)
