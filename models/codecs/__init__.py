"""Payload codecs: turn a device's bytes into channel values, chosen by the device's model.

A codec decodes `(payload, frame time) -> list[ChannelValue]` and raises `DecodeError`
(`WrongLength`, `WrongPort`) for anything it cannot read. One module per device family,
named by maker and model; register it in `CODECS` under the `model` the registry uses.
Makers' JavaScript codecs run in an embedded engine instead (`models.codecs.javascript`),
named by the registry's codec entries (`models.codecs.catalogue`).
"""

from models.codecs.axioma_qalcosonic import QALCOSONIC_W1
from models.codecs.base import (
    ChannelValue,
    Codec,
    CodecError,
    CodecTimeout,
    DecodeError,
    Decoder,
    WrongLength,
    WrongPort,
)
from models.codecs.elsys import ELSYS
from models.codecs.generic_json import decode_generic_json
from models.codecs.milesight import MILESIGHT_EM300

CODECS: dict[str, Codec] = {
    "generic-json": Codec(decode_generic_json),
    "elsys-ers": ELSYS,
    "milesight-em300": MILESIGHT_EM300,
    "axioma-qalcosonic-w1": QALCOSONIC_W1,
}


def codec_for(model: str) -> Codec:
    try:
        return CODECS[model]
    except KeyError:
        raise CodecError(
            f"no codec for device model {model!r}: neither a native codec nor one of the "
            "registry's codecs"
        ) from None


__all__ = [
    "CODECS",
    "ChannelValue",
    "Codec",
    "CodecError",
    "CodecTimeout",
    "DecodeError",
    "Decoder",
    "WrongLength",
    "WrongPort",
    "codec_for",
]
