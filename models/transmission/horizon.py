"""The processing horizon: the time before which every published uplink has been checked.

Silence is judged at this time, not at the wall clock: a worker catching up after a
restart (its uplinks still in Kafka) must not take its usages for silent. It is learnt
from Kafka's offsets, snapshot after snapshot: a snapshot taken at time t is *covered*
once the consumer group has committed every offset of the raw topic that existed at t;
everything published before t has then been decoded, checked and stored. It is a time of
publication: a usage's silence is counted from when its last uplink was published
(models.transmission.monitor), not from its readings' times.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

Offsets = Mapping[int, int]
"""Partition -> offset of one topic."""


@dataclass(frozen=True)
class OffsetSnapshot:
    """The raw topic's offsets at `at`: its ends read before the group's committed offsets
    (so that what is committed never looks ahead of what existed)."""

    at: datetime
    ends: Offsets
    """The end (next) offset of each partition."""
    committed: Offsets
    """The group's committed offset of each partition (absent: nothing yet)."""


def _reached(committed: Offsets, ends: Offsets) -> bool:
    return all(committed.get(partition, 0) >= end for partition, end in ends.items())


class ProcessingHorizon:
    """Feed it offset snapshots in time order; `value` is the latest covered snapshot time."""

    def __init__(self, max_snapshots: int = 200) -> None:
        self._snapshots: list[OffsetSnapshot] = []
        self._max = max_snapshots
        self.value: datetime | None = None

    def observe(self, snapshot: OffsetSnapshot) -> datetime | None:
        """The horizon after this snapshot: the time of the latest snapshot whose ends its
        committed offsets reach (committed offsets never go back)."""
        self._snapshots = [*self._snapshots, snapshot][-self._max :]
        for index in range(len(self._snapshots) - 1, -1, -1):
            if _reached(snapshot.committed, self._snapshots[index].ends):
                self.value = self._snapshots[index].at
                self._snapshots = self._snapshots[index + 1 :]
                break
        return self.value


class CatchUp:
    """Whether a worker has caught up since its partitions were assigned: its group has
    committed every offset its partitions held at the first snapshot after the
    assignment. Until then the worker is busy with a backlog, and not ready."""

    def __init__(self) -> None:
        self._target: dict[int, int] | None = None
        self._committed: Offsets = {}

    def assigned(self) -> None:
        """Partitions were (re)assigned: the next snapshot sets what to catch up with."""
        self._target = None

    def observe(self, snapshot: OffsetSnapshot, owned: Collection[int]) -> None:
        if self._target is None:
            self._target = {p: end for p, end in snapshot.ends.items() if p in owned}
        self._committed = snapshot.committed

    def done(self, owned: Collection[int]) -> bool:
        """Caught up (a worker that owns no partition has nothing to catch up with)."""
        if not owned:
            return True
        return self._target is not None and _reached(self._committed, self._target)
