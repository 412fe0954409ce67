"""The stream's per-key state (usage state, radio state), stored next to the readings.

A row is a key, the raw partition that last fed it, the state as JSON, and columns
derived from the state for queries (a usage's transmission). Writes are batched upserts
(the last write wins); reads take the keys a batch needs, or every key with its partition.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import sql
from pydantic import BaseModel

from models.radio_health import RadioState
from models.rules import UsageState
from storage.staging import StagedTable, stage_and_insert

State = TypeVar("State", bound=BaseModel)
StoredState = tuple[int, str]
"""The raw partition that last fed a key, and its state's JSON."""
StateChange = tuple[str, int, State, str]
"""A key, the raw partition that fed it, its new state and that state's JSON."""


@dataclass(frozen=True)
class Derived(Generic[State]):
    """A column computed from the state when it is written."""

    column: str
    type: str
    of: Callable[[State], Any]


@dataclass(frozen=True)
class StateTable(Generic[State]):
    name: str
    key: str
    kind: type[State]
    derived: tuple[Derived[State], ...] = ()

    def staged(self) -> StagedTable:
        columns = (self.key, "raw_partition", *(d.column for d in self.derived), "state")
        # JSON as text: the same bytes in a binary COPY
        types = ("text", "int4", *(d.type for d in self.derived), "text")
        updates = sql.SQL(", ").join(
            sql.SQL("{column} = excluded.{column}").format(column=sql.Identifier(column))
            for column in columns[1:]
        )
        return StagedTable(
            target=self.name,
            columns=columns,
            types=types,
            key=(self.key,),
            on_conflict=sql.SQL("DO UPDATE SET {updates}, updated_at = now()").format(
                updates=updates
            ),
        )

    def values(self, change: StateChange[State]) -> tuple[Any, ...]:
        key, raw_partition, state, encoded = change
        return (key, raw_partition, *(d.of(state) for d in self.derived), encoded)


USAGE_STATES = StateTable(
    "usage_states",
    "usage_id",
    UsageState,
    (
        Derived("last_reading_at", "timestamptz", lambda s: s.last_ts),
        Derived("status", "text", lambda s: s.transmission.status.value),
        Derived("status_since", "timestamptz", lambda s: s.transmission.status_since),
        Derived("period_estimated_s", "float8", lambda s: s.transmission.period.seconds),
        Derived("open_gap_start", "timestamptz", lambda s: s.transmission.open_gap_start),
    ),
)
RADIO_STATES = StateTable("radio_states", "device_key", RadioState)


def write_states(
    cur: psycopg.Cursor[Any], table: StateTable[State], changes: Iterable[StateChange[State]]
) -> None:
    """Upsert the changed states, inside the caller's transaction."""
    stage_and_insert(cur, table.staged(), map(table.values, changes))


def read_states(
    conn: psycopg.Connection, table: StateTable[Any], keys: Collection[str]
) -> dict[str, StoredState]:
    """The stored states of these keys (a key never stored is absent)."""
    if not keys:
        return {}
    query = sql.SQL("SELECT {key}, raw_partition, state::text FROM {table} WHERE {key} = ANY(%s)")
    with conn.cursor() as cur:
        cur.execute(query.format(**_names(table)), [list(keys)])
        return {key: (partition, state) for key, partition, state in cur}


def read_stored_keys(conn: psycopg.Connection, table: StateTable[Any]) -> dict[str, int]:
    """Every stored key, with the raw partition that last fed it (not its state)."""
    query = sql.SQL("SELECT {key}, raw_partition FROM {table}").format(**_names(table))
    with conn.cursor() as cur:
        return {key: partition for key, partition in cur.execute(query)}


def _names(table: StateTable[Any]) -> dict[str, sql.Identifier]:
    return {"key": sql.Identifier(table.key), "table": sql.Identifier(table.name)}
