"""The worker's per-key states in memory, backed by a table of the database.

A batch first `fetch`es the keys it needs (one query for those not in memory), reads and
changes them, then takes its changes, which are written in one upsert before its offsets
are committed (stream.commit). So the stored states are never behind the committed
offsets, and a restarted worker reads back only the keys it meets (the transmission
clock: the rows of its partitions): recovery costs a query, whatever the stream's
history, and nothing is written to Kafka for it.

After a rebalance, memory may hold keys that another worker has moved on since:
`forget` marks it stale, and the next user, holding the worker's lock, starts again
from the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterator
from typing import Generic

from storage.worker_state import State, StateChange, StateTable
from stream.database import WorkerDatabase

OnChange = Callable[[str, State, str], None]
"""Told each change taken: key, new state, its `version`."""


class WorkerLock(asyncio.Lock):
    """Held by whoever reads, changes and writes the worker's states: the uplinks agent
    for a batch, the transmission clock for a slice of usages, and the rebalance handler
    while it waits for the commits and drops what another worker may have changed."""


class StateCache(Generic[State]):
    """Held as JSON text, parsed when used: a hundred thousand states as objects made
    Python's garbage collector scan millions of them, for up to a second at a time.

    `on_change` is told each change taken while the state is at hand, so a watcher (the
    transmission clock's schedule) need not parse it again."""

    def __init__(
        self,
        database: WorkerDatabase,
        table: StateTable[State],
        on_change: OnChange[State] | None = None,
    ) -> None:
        self._database, self.table, self._on_change = database, table, on_change
        self._stored: dict[str, str] = {}
        """The JSON of each key held ("" for a key never stored), as last written."""
        self._partitions: dict[str, int] = {}
        """The raw partition that last fed each key held."""
        self._changed: dict[str, State] = {}
        """The keys changed since the last `take_changes`, with their new states."""
        self._stale = False

    def forget(self) -> None:
        """After a rebalance: what is in memory may be stale, start again from the table."""
        self._stale = True

    def _drop_if_stale(self) -> None:
        if self._stale:
            self._stored.clear()
            self._partitions.clear()
            self._changed.clear()
            self._stale = False

    async def fetch(self, keys: Collection[str]) -> None:
        """Bring these keys into memory (a key never stored starts from a fresh state).

        Only the keys not held are read: a worker that has been checking its partitions
        since it was given them holds most, and a hundred thousand states are 150 MB of
        JSON to read again."""
        self._drop_if_stale()
        missing = [key for key in keys if key not in self._stored]
        if not missing:
            return
        stored = await self._database.read_states(self.table, missing)
        for key in missing:
            if key in stored:
                self._partitions[key], self._stored[key] = stored[key]
            else:
                self._stored[key] = ""

    async def stored_keys(self) -> dict[str, int]:
        """Every key of the table, of any partition, with the raw partition that last fed
        it (not its state)."""
        return await self._database.read_stored_keys(self.table)

    def get(self, key: str) -> State:
        """The state of a fetched key."""
        changed = self._changed.get(key)
        if changed is not None:
            return changed
        stored = self._stored[key]
        return self.table.kind.model_validate_json(stored) if stored else self.table.kind()

    def version(self, key: str) -> str:
        """Changes (by identity) whenever the key's state is written."""
        return self._stored[key]

    def holds(self, key: str) -> bool:
        return key in self._stored

    def put(self, key: str, state: State, raw_partition: int) -> None:
        """Change a key's state; `raw_partition` is the partition that feeds it."""
        self._changed[key] = state
        self._partitions[key] = raw_partition

    def fed_by(self, partitions: Collection[int]) -> Iterator[tuple[str, int]]:
        """The keys held that these partitions feed, with their partition."""
        for key, partition in self._partitions.items():
            if partition in partitions:
                yield key, partition

    def take_changes(self) -> list[StateChange[State]]:
        """Every key changed since the last call, to be written."""
        changes = []
        for key, state in self._changed.items():
            encoded = self._stored[key] = state.model_dump_json()
            changes.append((key, self._partitions[key], state, encoded))
            if self._on_change is not None:
                self._on_change(key, state, encoded)
        self._changed.clear()
        return changes
