"""Per-device radio state in the worker: drop repeated frames, record the others' radio data.

The state lives in a Faust table keyed like the raw topic (the device as its network
names it) and written while handling that topic's event, so its changelog partition is
the raw partition's: a worker taking over a raw partition recovers the state of its
devices. Accepted frames go, with their losses and counter resets, to the radio topic,
which a sink writes to PostgreSQL in batches (`radio_frames`, view `radio_quality`).
"""

from __future__ import annotations

import logging

import faust

from models.radio_health import RadioRecord, RadioState, check_frame
from models.settings import Settings
from models.uplink import RawUplink
from models.validation import Decoded
from stream.metrics import RADIO_FRAMES_REPEATED

log = logging.getLogger(__name__)


class RadioHealth:
    def __init__(self, states: faust.types.TableT, radio: faust.TopicT) -> None:
        self._states = states
        self._radio = radio

    async def admit(self, uplink: RawUplink, decoded: Decoded, origin: str) -> bool:
        """False for a frame already handled from another origin; else record it, True."""
        frame, device = decoded.frame, decoded.device
        if frame is None or device is None:  # not a radio uplink, or refused before
            return True
        key = uplink.device_id.encode()
        stored = self._states.get(key)
        state = RadioState.model_validate(stored) if stored else RadioState()
        new_state, verdict = check_frame(state, frame.f_cnt, frame.counter_modulus, origin)
        if verdict.duplicate_of is not None:
            RADIO_FRAMES_REPEATED.labels(source=uplink.source).inc()
            log.info(
                "frame %s of %s already received from %s: dropped",
                frame.f_cnt,
                device.id,
                verdict.duplicate_of,
            )
            return False
        if new_state != state:
            self._states[key] = new_state.model_dump(mode="json")
        record = RadioRecord(
            device_id=device.id,
            ts=frame.time,
            source=uplink.source,
            network_id=frame.network_id,
            dev_eui=frame.dev_eui,
            f_port=frame.f_port,
            f_cnt=frame.f_cnt,
            receptions=frame.receptions,
            lost_before=verdict.lost_before,
            counter_reset=verdict.counter_reset,
            origin=origin,
        )
        await self._radio.send(key=device.id.encode(), value=record.to_json())
        return True


def radio_health(app: faust.App, settings: Settings, radio: faust.TopicT) -> RadioHealth:
    """The radio state table (co-partitioned with the raw topic) and its keeper."""
    states = app.Table(
        "radio-state",
        default=None,
        partitions=settings.topic_partitions,
        key_type=bytes,  # serialised raw; values are JSON
    )
    return RadioHealth(states, radio)
