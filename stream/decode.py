"""The decode agent: raw uplink -> checked readings, keyed by usage; the rest dead-lettered."""

from __future__ import annotations

import faust
from pydantic import ValidationError

from models.dead_letter import RejectCode, Rejection
from models.uplink import RawUplink
from models.validation import TimePolicy, decode_uplink
from stream.dead_letters import handle_or_dead_letter, send_dead_letter
from stream.metrics import READINGS_DECODED, UPLINKS
from stream.radio import RadioHealth
from stream.registry_cache import RegistryCache


def register_decode_agent(
    app: faust.App,
    raw: faust.TopicT,
    readings: faust.TopicT,
    dead_letters: faust.TopicT,
    registry: RegistryCache,
    policy: TimePolicy,
    radio: RadioHealth,
    trusted_sources: frozenset[str],
) -> None:
    @app.agent(raw, name="decode")
    async def decode(stream: faust.StreamT) -> None:
        await registry.ready.wait()

        async def handle(original: bytes, origin: str) -> None:
            await _decode_one(
                original, origin, readings, dead_letters, registry, policy, radio, trusted_sources
            )

        async for event in stream.events():
            await handle_or_dead_letter(event, handle, dead_letters, "decode")


async def _decode_one(
    original: bytes,
    origin: str,
    readings: faust.TopicT,
    dead_letters: faust.TopicT,
    registry: RegistryCache,
    policy: TimePolicy,
    radio: RadioHealth,
    trusted_sources: frozenset[str],
) -> None:
    UPLINKS.inc()
    try:
        uplink = RawUplink.from_json(original)
    except ValidationError as error:
        reason = f"not a raw uplink envelope: {error.errors(include_url=False)}"
        rejection = Rejection(code=RejectCode.BAD_ENVELOPE, reason=reason)
        await send_dead_letter(
            dead_letters, rejection, stage="decode", origin=origin, original=original
        )
        return
    decoded = decode_uplink(uplink, origin, registry.devices, policy, trusted_sources)
    if not await radio.admit(uplink, decoded, origin):
        return
    for reading in decoded.readings:
        readings.send_soon(key=reading.usage_id.encode(), value=reading.to_json())
    READINGS_DECODED.inc(len(decoded.readings))
    for rejection in decoded.rejections:
        await send_dead_letter(
            dead_letters,
            rejection,
            stage="decode",
            origin=origin,
            original=uplink.payload,
            device_id=uplink.device_id,
        )
