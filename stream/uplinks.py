"""The uplinks agent: one hop from a raw uplink to checked, stored readings.

A batch of raw uplinks (keyed by device) is decoded and validated, radio frames already
received are dropped, and each reading is checked by its usage's rules; the batch is then
committed (stream.commit), and only then are its Kafka messages acknowledged (Faust's
manual acknowledgement: the stream is taken with `noack_take`).
Nothing goes through Kafka between decoding and checking: the per-message cost of a Kafka
hop in Faust is larger than all the checks together. A device's usages are checked by the
worker that owns the device's raw partition, so their states live on that partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import faust
from faust.types import EventT
from pydantic import ValidationError

from models.alarms import Step
from models.anomaly import AnomalyConfig
from models.codecs.javascript import JsEngine, Limits
from models.dead_letter import RejectCode, Rejection, dead_letter
from models.radio_health import RadioState
from models.reading import Reading
from models.replay import replay_origin
from models.rules import UsageState, check_reading
from models.settings import Settings
from models.transmission import TransmissionPolicy
from models.uplink import RawUplink
from models.validation import Decoded, TimePolicy, decode_uplinks
from storage.writer import EVENTS, RADIO_FRAMES
from stream.alarms import AlarmRules
from stream.commit import BatchOutcome, CommitChain
from stream.dead_letters import origin_of, original_bytes, row_dead_letter
from stream.metrics import BATCH_SECONDS, READINGS_DECODED, UPLINKS_TAKEN
from stream.radio import admit_frame, radio_key
from stream.registry_cache import RegistryCache
from stream.state_cache import StateCache, WorkerLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckSettings:
    """The configuration of decoding and of the rules, built once from the settings."""

    time: TimePolicy
    trusted_decoders: frozenset[str]
    transmission: TransmissionPolicy
    anomaly: AnomalyConfig
    codec_limits: Limits

    @classmethod
    def of(cls, settings: Settings) -> CheckSettings:
        return cls(
            TimePolicy(max_future=settings.max_future, max_age=settings.max_age),
            frozenset(settings.trusted_decoders),
            settings.transmission_policy,
            settings.anomaly_config,
            Limits(settings.codec_time_limit_s, settings.codec_memory_limit_mb << 20),
        )


@dataclass(frozen=True)
class Admitted:
    """A reading to check, with where and when its uplink was published."""

    reading: Reading
    partition: int
    heard: datetime


@dataclass
class UplinkChecker:
    """Everything a batch needs; `check` handles one batch."""

    settings: CheckSettings
    registry: RegistryCache
    lock: WorkerLock
    usage_states: StateCache[UsageState]
    radio_states: StateCache[RadioState]
    commits: CommitChain
    alarms: AlarmRules
    engine: JsEngine = field(init=False)
    """The JavaScript codecs' contexts, kept from batch to batch."""

    def __post_init__(self) -> None:
        self.engine = JsEngine(self.settings.codec_limits)

    async def check(self, events: Sequence[EventT[bytes]]) -> None:
        """Decode and check one batch under the worker's lock, then submit it to be
        committed (before releasing the lock, so that commits follow the checks' order)."""
        batch = BatchOutcome(messages=events)
        UPLINKS_TAKEN.inc(len(events))
        async with self.lock:
            with BATCH_SECONDS.labels(step="check").time():
                await self._check(events, batch)
            await self.commits.submit(batch)

    async def _check(self, events: Sequence[EventT[bytes]], batch: BatchOutcome) -> None:
        envelopes = [e for event in events if (e := self._envelope(event, batch)) is not None]
        # Off the event loop: a JavaScript codec may run up to its time limit.
        decoded = await asyncio.to_thread(self._decode, envelopes, batch)
        await self.radio_states.fetch({k for d in decoded if (k := radio_key(d[1], d[2]))})
        admitted = [
            admitted
            for event, uplink, found in decoded
            for admitted in self._admit(event, uplink, found, batch)
        ]
        await self.usage_states.fetch({a.reading.usage_id for a in admitted})
        for one in admitted:
            self._detect(one, batch)
        batch.take_changes(self.usage_states, self.radio_states)

    def _envelope(
        self, event: EventT[bytes], batch: BatchOutcome
    ) -> tuple[EventT[bytes], RawUplink] | None:
        original = original_bytes(event)
        try:
            return event, RawUplink.from_json(original)
        except ValidationError as error:
            reason = f"not a raw uplink envelope: {error.errors(include_url=False)}"
            rejection = Rejection(code=RejectCode.BAD_ENVELOPE, reason=reason)
            _refuse(batch, rejection, origin_of(event), original)
            return None

    def _decode(
        self, envelopes: list[tuple[EventT[bytes], RawUplink]], batch: BatchOutcome
    ) -> list[tuple[EventT[bytes], RawUplink, Decoded]]:
        """The batch decoded at once (one call per JavaScript codec); if that fails, each
        uplink alone, so that only the one at fault is refused."""
        try:
            found = self._decode_all(envelopes)
        except Exception:  # a codec bug must not stop the worker
            log.exception("decoding a batch failed; decoding its uplinks one by one")
            return [d for e in envelopes if (d := self._decode_one(*e, batch)) is not None]
        pairs = zip(envelopes, found, strict=True)
        return [self._refuse_decoded(event, uplink, d, batch) for (event, uplink), d in pairs]

    def _decode_all(self, envelopes: list[tuple[EventT[bytes], RawUplink]]) -> list[Decoded]:
        return decode_uplinks(
            [(uplink, _origin(event, uplink)) for event, uplink in envelopes],
            self.registry.devices,
            self.settings.time,
            self.settings.trusted_decoders,
            self.engine,
        )

    def _decode_one(
        self, event: EventT[bytes], uplink: RawUplink, batch: BatchOutcome
    ) -> tuple[EventT[bytes], RawUplink, Decoded] | None:
        try:
            (found,) = self._decode_all([(event, uplink)])
        except Exception as error:
            origin = _origin(event, uplink)
            log.exception("decoding %s failed", origin, extra=_place(event, uplink.device_id))
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
            _refuse(batch, rejection, origin, original_bytes(event), uplink=uplink)
            return None
        return self._refuse_decoded(event, uplink, found, batch)

    def _refuse_decoded(
        self, event: EventT[bytes], uplink: RawUplink, found: Decoded, batch: BatchOutcome
    ) -> tuple[EventT[bytes], RawUplink, Decoded]:
        READINGS_DECODED.inc(len(found.readings))
        for rejection in found.rejections:
            _refuse(
                batch, rejection, _origin(event, uplink), uplink.payload, uplink.device_id, uplink
            )
        return event, uplink, found

    def _admit(
        self, event: EventT[bytes], uplink: RawUplink, found: Decoded, batch: BatchOutcome
    ) -> list[Admitted]:
        """The uplink's readings, none for a radio frame already received."""
        message = event.message
        admitted, record = admit_frame(
            self.radio_states, uplink, found, _origin(event, uplink), message.partition
        )
        if record is not None:
            batch.store(RADIO_FRAMES, [record])
        if not admitted:
            return []
        batch.readings += found.readings
        heard = _heard(message.timestamp, uplink)
        return [Admitted(reading, message.partition, heard) for reading in found.readings]

    def _detect(self, admitted: Admitted, batch: BatchOutcome) -> None:
        reading = admitted.reading
        ref = self.registry.usages.get(reading.usage_id)
        if ref is None:  # removed from the registry since it was decoded: stored, not checked
            log.info(
                "usage %s is no longer registered; not checked",
                reading.usage_id,
                extra={"usage": reading.usage_id, "device": reading.device_id},
            )
            return
        try:
            previous = self.usage_states.get(reading.usage_id)
            state, found = check_reading(
                previous,
                ref,
                reading,
                transmission_policy=self.settings.transmission,
                anomaly_config=self.settings.anomaly,
                heard=admitted.heard,
            )
            # a late or repeated reading is no new reading for the rules' counts
            fresh = previous.last_ts is None or reading.ts > previous.last_ts
            step = Step(reading.ts, found, reading=fresh)
            state, changes = self.alarms.observe(state, ref, step, reading.device_id)
        except Exception as error:  # never let one reading stop the worker
            log.exception(
                "detection on %s failed",
                reading.origin,
                extra={"usage": reading.usage_id, "device": reading.device_id},
            )
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
            batch.refuse(row_dead_letter(reading, rejection, "detect"))
            return
        self.usage_states.put(reading.usage_id, state, admitted.partition)
        batch.store(EVENTS, found)
        batch.alarms += changes


def _heard(published: float, uplink: RawUplink) -> datetime:
    """When the uplink was published: a replayed one, when its connector first received
    it, so that a replay does not make its usages look heard now."""
    if replay_origin(uplink) is not None:
        return uplink.received_at
    return datetime.fromtimestamp(published, UTC)


def _origin(event: EventT[bytes], uplink: RawUplink) -> str:
    """Where the uplink's readings come from: its place in the raw topic, or for a replay,
    the place of its first pass (models.replay)."""
    return replay_origin(uplink) or origin_of(event)


def _refuse(
    batch: BatchOutcome,
    rejection: Rejection,
    origin: str,
    original: bytes,
    device_id: str | None = None,
    uplink: RawUplink | None = None,
) -> None:
    """A dead letter of the decoding step, with the uplink to replay after a fix."""
    letter = dead_letter(
        rejection,
        stage="decode",
        origin=origin,
        original=original,
        device_id=device_id,
        uplink=uplink,
    )
    batch.refuse(letter)


def _place(event: EventT[bytes], device_id: str) -> dict[str, object]:
    """Log fields: where the uplink sits in Kafka, and its device."""
    message = event.message
    return {"device": device_id, "partition": message.partition, "offset": message.offset}


def register_uplinks_agent(app: faust.App, settings: Settings, checker: UplinkChecker) -> None:
    @app.agent(app.topic(settings.topic("raw"), internal=False), name="uplinks")
    async def check_uplinks(stream: faust.StreamT[bytes]) -> None:
        await checker.registry.ready.wait()
        # Faust acknowledges nothing itself: the commit acknowledges each batch's events.
        batches = cast(faust.Stream[bytes], stream).noack_take(
            settings.sink_batch_size, within=settings.sink_batch_seconds
        )
        async for events in batches:
            await checker.check(cast(Sequence[EventT[bytes]], events))
