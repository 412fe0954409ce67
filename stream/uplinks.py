"""The uplinks agent: one hop from a raw uplink to checked, stored readings.

A batch of raw uplinks (keyed by device) is decoded and validated, radio frames already
received are dropped, and each reading is checked by its usage's rules; the batch is then
committed (stream.commit), and only then are its Kafka messages acknowledged.
Nothing goes through Kafka between decoding and checking: the per-message cost of a Kafka
hop in Faust is larger than all the checks together. A device's usages are checked by the
worker that owns the device's raw partition, so their states live on that partition.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import faust
from faust.types import EventT
from pydantic import ValidationError

from models.anomaly import AnomalyConfig
from models.dead_letter import RejectCode, Rejection
from models.radio_health import RadioState
from models.reading import Reading
from models.rules import UsageState, check_reading
from models.settings import Settings
from models.transmission import TransmissionPolicy
from models.uplink import RawUplink
from models.validation import Decoded, TimePolicy, decode_uplink
from stream.commit import BatchOutcome, CommitChain
from stream.dead_letters import dead_letter, origin_of, original_bytes, row_dead_letter
from stream.metrics import BATCH_SECONDS, READINGS_DECODED, UPLINKS
from stream.outputs import Outputs
from stream.radio import admit_frame, radio_key
from stream.registry_cache import RegistryCache
from stream.sink import batches
from stream.state_cache import StateCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rules:
    """The configuration of decoding and of the rules, built once from the settings."""

    time: TimePolicy
    trusted_decoders: frozenset[str]
    transmission: TransmissionPolicy
    anomaly: AnomalyConfig

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            TimePolicy(max_future=settings.max_future, max_age=settings.max_age),
            frozenset(settings.trusted_decoders),
            settings.transmission_policy,
            settings.anomaly_config,
        )


@dataclass
class UplinkChecker:
    """Everything a batch needs; `check` handles one batch."""

    rules: Rules
    registry: RegistryCache
    usage_states: StateCache[UsageState]
    radio_states: StateCache[RadioState]
    outputs: Outputs
    commits: CommitChain

    async def check(self, events: Sequence[EventT]) -> None:
        """Decode and check one batch, then submit it to be committed (the caller holds
        the usage states' lock)."""
        batch = BatchOutcome(messages=events)
        UPLINKS.inc(len(events))
        with BATCH_SECONDS.labels(step="check").time():
            decoded = [d for d in map(self._decode, events) if d is not None]
            await self.radio_states.fetch({k for d in decoded if (k := radio_key(d[1], d[2]))})
            admitted = [
                (reading, event.message.partition)
                for event, uplink, found in decoded
                for reading in self._admit(event, uplink, found, batch)
            ]
            await self.usage_states.fetch({reading.usage_id for reading, _ in admitted})
            for reading, partition in admitted:
                self._detect(reading, partition, batch)
            batch.take_changes(self.usage_states, self.radio_states)
        await self.commits.submit(batch)

    def _decode(self, event: EventT) -> tuple[EventT, RawUplink, Decoded] | None:
        original, origin = original_bytes(event), origin_of(event)
        try:
            uplink = RawUplink.from_json(original)
        except ValidationError as error:
            reason = f"not a raw uplink envelope: {error.errors(include_url=False)}"
            self._refuse(Rejection(code=RejectCode.BAD_ENVELOPE, reason=reason), origin, original)
            return None
        try:
            found = decode_uplink(
                uplink, origin, self.registry.devices, self.rules.time, self.rules.trusted_decoders
            )
        except Exception as error:  # a codec bug must not stop the worker
            log.exception("decoding %s failed", origin)
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
            self._refuse(rejection, origin, original)
            return None
        for rejection in found.rejections:
            self._refuse(rejection, origin, uplink.payload, uplink.device_id)
        return event, uplink, found

    def _refuse(
        self, rejection: Rejection, origin: str, original: bytes, device_id: str | None = None
    ) -> None:
        letter = dead_letter(
            rejection, stage="decode", origin=origin, original=original, device_id=device_id
        )
        self.outputs.dead_letter(letter)

    def _admit(
        self, event: EventT, uplink: RawUplink, found: Decoded, batch: BatchOutcome
    ) -> list[Reading]:
        """The uplink's readings, none for a radio frame already received."""
        admitted, record = admit_frame(
            self.radio_states, uplink, found, origin_of(event), event.message.partition
        )
        if record is not None:
            batch.radio_frames.append(record)
        if not admitted:
            return []
        READINGS_DECODED.inc(len(found.readings))
        batch.readings += found.readings
        return found.readings

    def _detect(self, reading: Reading, partition: int, batch: BatchOutcome) -> None:
        ref = self.registry.usages.get(reading.usage_id)
        if ref is None:  # removed from the registry since it was decoded: stored, not checked
            log.info("usage %s is no longer registered; not checked", reading.usage_id)
            return
        try:
            state, found = check_reading(
                self.usage_states.get(reading.usage_id),
                ref,
                reading,
                transmission_policy=self.rules.transmission,
                anomaly_config=self.rules.anomaly,
            )
        except Exception as error:  # never let one reading stop the worker
            log.exception("detection on %s failed", reading.origin)
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
            self.outputs.dead_letter(row_dead_letter(reading, rejection, "detect"))
            return
        self.usage_states.put(reading.usage_id, state, partition)
        batch.detections += found


def register_uplinks_agent(app: faust.App, settings: Settings, checker: UplinkChecker) -> None:
    @app.agent(app.topic(settings.topic("raw"), internal=False), name="uplinks")
    async def check_uplinks(stream: faust.StreamT) -> None:
        await checker.registry.ready.wait()
        async for batch in batches(stream, settings):
            async with checker.usage_states.lock:
                await checker.check(batch)
