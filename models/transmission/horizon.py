"""The processing horizon: the time before which every published uplink has been checked.

Silence is judged at this time, not at the wall clock: a worker catching up after a
restart (its uplinks still in Kafka) must not take its usages for silent. It is learnt
from Kafka's offsets, snapshot after snapshot: a snapshot taken at time t is *covered*
once the consumer group has committed every offset of the raw topic that existed at t;
everything published before t has then been decoded, checked and stored. (A snapshot may
hold several topics, `stages`, each covered after the one before it; the worker reads
one, the raw topic.) It is a time of publication: a usage's silence is counted from when
its last uplink was published (models.transmission.monitor), not from its readings' times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

Offsets = Mapping[int, int]
"""Partition -> offset of one topic."""


@dataclass(frozen=True)
class OffsetSnapshot:
    """Offsets read stage after stage, each stage's ends before its committed offsets.

    That order matters: the next stage's ends, read after this stage's commits, include
    what this stage produced from what it committed.
    """

    at: datetime
    ends: Sequence[Offsets]
    """Per stage, in pipeline order: the end (next) offset of each partition."""
    committed: Sequence[Offsets]
    """Per stage: the group's committed offset of each partition (absent: nothing yet)."""


def _done(committed: Offsets, ends: Offsets) -> bool:
    return all(committed.get(partition, 0) >= end for partition, end in ends.items())


class ProcessingHorizon:
    """Feed it offset snapshots in time order; `value` is the latest covered snapshot time."""

    def __init__(self, max_snapshots: int = 200) -> None:
        self._snapshots: list[OffsetSnapshot] = []
        self._max = max_snapshots
        self.value: datetime | None = None

    def observe(self, snapshot: OffsetSnapshot) -> datetime | None:
        self._snapshots = [*self._snapshots, snapshot][-self._max :]
        for index in range(len(self._snapshots) - 1, -1, -1):
            if self._covered(index):
                self.value = self._snapshots[index].at
                self._snapshots = self._snapshots[index + 1 :]
                break
        return self.value

    def _covered(self, index: int) -> bool:
        snapshots = self._snapshots
        seen = index
        for stage in range(len(snapshots[index].ends)):
            ends = snapshots[seen].ends[stage]
            seen = next(
                (
                    later
                    for later in range(seen, len(snapshots))
                    if _done(snapshots[later].committed[stage], ends)
                ),
                -1,
            )
            if seen < 0:
                return False
        return True
