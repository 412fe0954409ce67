"""Payload codecs: turn a device's bytes into channel values, chosen by the device's model.

A codec is a pure function `(payload, received_at) -> list[ChannelValue]` that raises
`DecodeError` for anything it cannot read. Add a codec by registering it in `CODECS`.
"""

from models.codecs.base import ChannelValue, Codec, DecodeError
from models.codecs.generic_json import decode_generic_json

CODECS: dict[str, Codec] = {"generic-json": decode_generic_json}


def codec_for(model: str) -> Codec:
    try:
        return CODECS[model]
    except KeyError:
        raise DecodeError(f"no codec for device model {model!r}") from None


__all__ = ["CODECS", "ChannelValue", "Codec", "DecodeError", "codec_for"]
