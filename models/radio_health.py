"""Radio health of a device from its frame counters: duplicates, losses, counter resets.

One frame may reach SMATI several times: from several gateways or base stations (a
Sigfox callback per station when duplicates are sent), through two integrations of the
same network server, or as a callback the Sigfox backend retried. The frame counter
(LoRaWAN FCnt, Sigfox sequence number) tells them apart: the same counter again is the
same frame, unless it is the same raw uplink read again after a restart (same origin),
which must be handled again like the first time. A counter that goes forward by more
than one means lost frames; one that goes back means the device restarted or rejoined
(a reset), except a Sigfox sequence number rolling over from 4095 to 0, or ahead by what
the Sigfox backend takes as the next after the silence since the last frame
(`models.sigfox.sequence_continues`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.radio import Reception
from models.sigfox import SEQUENCE_MODULUS, sequence_continues

RECENT_FRAMES = 16
"""How many recent counters a device's state keeps to recognise a repeated frame."""


class RadioState(BaseModel):
    """What the stream keeps per device between its uplinks."""

    model_config = ConfigDict(frozen=True)

    last_f_cnt: int | None = None
    last_time: AwareDatetime | None = None
    """When the network received the last frame: Sigfox's tolerance grows with silence."""
    recent: tuple[tuple[int, str], ...] = ()
    """(counter, origin) of the last frames accepted, oldest first."""
    resets: int = 0


class FrameVerdict(NamedTuple):
    duplicate_of: str | None
    """Origin of the frame this one repeats; None for a frame seen for the first time."""
    lost_before: int
    """Frames missing between the previous one and this one."""
    counter_reset: bool


def check_frame(
    state: RadioState, f_cnt: int | None, modulus: int, origin: str, time: datetime
) -> tuple[RadioState, FrameVerdict]:
    """The device's new state, and what this frame is: new, repeated, after a loss or reset."""
    fresh = FrameVerdict(duplicate_of=None, lost_before=0, counter_reset=False)
    if f_cnt is None:  # a network that reports no counter: nothing to compare
        return state, fresh
    for seen, seen_origin in state.recent:
        if seen == f_cnt:
            if seen_origin == origin:  # the same raw uplink again: a replay, handled again
                return state, fresh
            return state, fresh._replace(duplicate_of=seen_origin)
    recent = (*state.recent, (f_cnt, origin))[-RECENT_FRAMES:]
    update = {"last_f_cnt": f_cnt, "last_time": time, "recent": recent}
    if state.last_f_cnt is None:
        return state.model_copy(update=update), fresh
    forward = (f_cnt - state.last_f_cnt) % modulus
    if _continues(forward, modulus, state.last_time, time):
        return state.model_copy(update=update), fresh._replace(lost_before=forward - 1)
    new_state = RadioState(
        last_f_cnt=f_cnt, last_time=time, recent=((f_cnt, origin),), resets=state.resets + 1
    )
    return new_state, fresh._replace(counter_reset=True)


def _continues(forward: int, modulus: int, last_time: datetime | None, time: datetime) -> bool:
    """Whether a counter `forward` steps ahead of the last is the next frame's: within
    Sigfox's tolerance for its sequence numbers, within half the range for LoRaWAN's."""
    if modulus == SEQUENCE_MODULUS and last_time is not None:
        return sequence_continues(forward, time - last_time)
    return 0 < forward < modulus // 2


class RadioRecord(BaseModel):
    """One accepted frame with its radio metadata, as stored for diagnostics."""

    model_config = ConfigDict(frozen=True)

    device_id: str = Field(description="the registry's device id")
    ts: AwareDatetime
    source: str
    network_id: str
    dev_eui: str | None = None
    f_port: int | None = None
    f_cnt: int | None = None
    receptions: tuple[Reception, ...] = ()
    lost_before: int = 0
    counter_reset: bool = False
    origin: str

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes) -> RadioRecord:
        return cls.model_validate_json(raw)


def merge_repeated_frames(records: Sequence[RadioRecord]) -> list[RadioRecord]:
    """One record per frame (device and time), the first, with the receptions of its
    repetitions appended: one frame heard by several gateways or base stations."""
    merged: dict[tuple[str, datetime], RadioRecord] = {}
    for record in records:
        key = (record.device_id, record.ts)
        first = merged.setdefault(key, record)
        if first is not record:
            receptions = merge_receptions(first.receptions, record.receptions)
            merged[key] = first.model_copy(update={"receptions": receptions})
    return list(merged.values())


def merge_receptions(
    first: tuple[Reception, ...], more: tuple[Reception, ...]
) -> tuple[Reception, ...]:
    """`first`, then the receptions of `more` by gateways not in it (the SQL function
    merge_receptions does the same with a stored frame)."""
    heard = {reception.gateway_id for reception in first}
    return (*first, *(reception for reception in more if reception.gateway_id not in heard))
