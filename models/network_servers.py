"""Which parser reads the uplinks of which source (the `source` of the raw uplink)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from models.lorawan import parse_chirpstack, parse_tts
from models.radio import RadioFrame
from models.sigfox import parse_sigfox

FrameParser = Callable[[bytes, datetime], RadioFrame]

FRAME_PARSERS: dict[str, FrameParser] = {
    "tts": parse_tts,
    "chirpstack": parse_chirpstack,
    "sigfox": parse_sigfox,
}
"""Sources whose payload is a network server's message; other sources carry the device's."""
