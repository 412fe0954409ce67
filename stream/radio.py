"""Per-device radio health: drop repeated frames, record the others' radio data.

The state is keyed like the raw topic (the device as its network names it), so the worker
that owns a raw partition holds the state of its devices; it is stored in `radio_states`
with the batch (stream.state_cache). Accepted frames, with their losses and counter
resets, are written to `radio_frames` (view `radio_quality`).
"""

from __future__ import annotations

import logging

from models.metrics import RADIO_FRAMES_REPEATED
from models.radio_health import RadioRecord, RadioState, check_frame
from models.replay import replay_origin
from models.uplink import RawUplink
from models.validation import Decoded
from stream.dead_letters import position
from stream.state_cache import StateCache

log = logging.getLogger(__name__)


def radio_key(uplink: RawUplink, decoded: Decoded) -> str | None:
    """The radio state's key of a radio uplink from a registered device on its first pass,
    else None: a replayed frame's counter was judged on its first pass (models.replay)."""
    if decoded.frame is None or decoded.device is None or replay_origin(uplink) is not None:
        return None
    return uplink.device_id


def admit_frame(
    states: StateCache[RadioState],
    uplink: RawUplink,
    decoded: Decoded,
    origin: str,
    raw_partition: int,
) -> tuple[bool, RadioRecord | None]:
    """Whether the uplink's readings are new, and the frame's radio record (None for an
    uplink that is no radio frame). A frame already handled from another origin (another
    gateway's or base station's copy) is not: its record adds its receptions to the
    first's (storage.writer merges them). Its key is fetched."""
    key, frame, device = radio_key(uplink, decoded), decoded.frame, decoded.device
    if key is None or frame is None or device is None:
        return True, None
    state = states.get(key)
    new_state, verdict = check_frame(state, frame.f_cnt, frame.counter_modulus, origin, frame.time)
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
    if verdict.duplicate_of is not None:
        RADIO_FRAMES_REPEATED.labels(source=uplink.source).inc()
        log.info(
            "frame %s of %s already received from %s: its receptions merged, readings dropped",
            frame.f_cnt,
            device.id,
            verdict.duplicate_of,
            extra={"device": device.id, **position(origin)},
        )
        return False, record
    states.put(key, new_state, raw_partition)
    return True, record
