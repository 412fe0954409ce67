"""Which refused uplinks a replay sends through the stream again, and under which origin.

A dead letter keeps the raw uplink it refused (`DeadLetter.uplink`). Replayed, the uplink
carries the origin of its first pass (`replay_of`): the stream gives its readings that
origin, so the readings a replay stores were never stored before, and a second replay of
the same uplink stores nothing again (a reading is stored once per usage and time; the
same origin again is a replay, skipped in silence). A replayed frame's counter was judged
on its first pass: it touches no frame counter.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.dead_letter import DeadLetter
from models.uplink import RawUplink

REPLAY_OF = "replay_of"


def replay_origin(uplink: RawUplink) -> str | None:
    """The origin of the first pass of a replayed uplink; None for one on its first pass."""
    origin = uplink.metadata.get(REPLAY_OF)
    return origin if isinstance(origin, str) else None


def replays(letters: Iterable[DeadLetter]) -> list[RawUplink]:
    """The refused uplinks of `letters`, once each (an uplink refused for two of its
    values has two letters), in the order they failed, marked with their first origin."""
    chosen: dict[str, RawUplink] = {}
    for letter in sorted(letters, key=lambda letter: letter.failed_at):
        if letter.uplink is None:
            continue
        origin = _first_origin(letter)
        metadata = {**letter.uplink.metadata, REPLAY_OF: origin}
        chosen.setdefault(origin, letter.uplink.model_copy(update={"metadata": metadata}))
    return list(chosen.values())


def _first_origin(letter: DeadLetter) -> str:
    """A stream's letter's origin is its uplink's place in the raw topic (or the origin it
    was replayed under); a connector's is its endpoint, made unique by the refusal's time."""
    if letter.stage == "connector":
        return f"{letter.origin}@{letter.failed_at.isoformat()}"
    return letter.origin
