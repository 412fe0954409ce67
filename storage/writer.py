"""Batched, idempotent writers of the worker's output tables: readings, detection events,
radio frames.

Each follows one pattern: COPY the batch into a temporary staging table, then a single
`INSERT ... SELECT ... ON CONFLICT DO NOTHING` into the real table. There is no per-row
round trip, and writing a batch twice (a replay after a restart) stores it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from models.detection import DetectionEvent
from models.radio_health import RadioRecord, merge_repeated_frames
from models.reading import Reading
from storage.staging import StagedTable, Values, stage_and_insert
from storage.transmission import write_transmission_events

__all__ = [
    "EVENTS",
    "RADIO_FRAMES",
    "Duplicate",
    "OutputTable",
    "ReadingWriteResult",
    "write_events",
    "write_radio_frames",
    "write_readings",
    "write_rows",
]
Row = TypeVar("Row")


@dataclass(frozen=True)
class Duplicate:
    """A reading whose (usage, time) is already stored from another uplink: not written."""

    reading: Reading
    stored_value: float
    stored_origin: str

    @property
    def reason(self) -> str:
        """Why the reading was refused, for the dead-letter record."""
        if self.stored_value != self.reading.value:
            return (
                f"conflicting value: stored {self.stored_value} (from origin "
                f"{self.stored_origin}), received {self.reading.value}"
            )
        return f"duplicate of the reading stored from origin {self.stored_origin}"


@dataclass(frozen=True)
class ReadingWriteResult:
    inserted: int
    """Readings stored by this call."""
    replayed: int
    """Readings already stored from the same origin: a replay, silently skipped."""
    duplicates: list[Duplicate] = field(default_factory=list)
    """Readings already stored from another origin (or twice in the batch): not written."""
    accepted: list[Reading] = field(default_factory=list)
    """The others: stored by this call or before it from the same origin."""


_READINGS = StagedTable(
    target="readings",
    columns=(
        "usage_id",
        "ts",
        "value",
        "unit",
        "tenant_id",
        "source",
        "device_id",
        "origin",
        "flags",
    ),
    types=("text", "timestamptz", "float8", "text", "text", "text", "text", "text", "text[]"),
    key=("usage_id", "ts"),
)
_EVENTS = StagedTable(
    target="detection_events",
    columns=("id", "kind", "tenant_id", "usage_id", "ts", "severity", "details"),
    types=("text", "text", "text", "text", "timestamptz", "text", "jsonb"),
    key=("id",),
)
_RADIO_FRAMES = StagedTable(
    target="radio_frames",
    columns=(
        "device_id",
        "ts",
        "source",
        "network_id",
        "dev_eui",
        "f_port",
        "f_cnt",
        "gateways",
        "gateway_count",
        "best_rssi",
        "best_snr",
        "lost_before",
        "counter_reset",
        "origin",
    ),
    types=(
        "text",
        "timestamptz",
        "text",
        "text",
        "text",
        "int4",
        "int8",
        "jsonb",
        "int4",
        "float8",
        "float8",
        "int4",
        "bool",
        "text",
    ),
    key=("device_id", "ts"),
    on_conflict=sql.SQL(
        """DO UPDATE SET
            gateways = merge_receptions(radio_frames.gateways, EXCLUDED.gateways),
            gateway_count = jsonb_array_length(
                merge_receptions(radio_frames.gateways, EXCLUDED.gateways)
            ),
            best_rssi = greatest(radio_frames.best_rssi, EXCLUDED.best_rssi),
            best_snr = greatest(radio_frames.best_snr, EXCLUDED.best_snr)
        WHERE NOT radio_frames.gateways @> EXCLUDED.gateways"""
    ),
)
"""A frame's row; a repeated frame's receptions are merged into it (migration 0013)."""

# After the insert every staged key is in `readings`: rows whose stored origin differs
# were not written by this batch (or lost to an earlier row of it). Only asked when the
# insert skipped rows, and looked up row by row in the primary key: a join the planner
# may hash would scan all of `readings` at every batch (the staging table has no stats).
_SELECT_DUPLICATES = """
    SELECT s.batch_seq, r.value, r.origin
    FROM {staging} AS s
    CROSS JOIN LATERAL (
        SELECT value, origin FROM readings
        WHERE usage_id = s.usage_id AND ts = s.ts
        LIMIT 1
    ) AS r
    WHERE r.origin <> s.origin
    ORDER BY s.batch_seq
"""


def _reading_row(reading: Reading) -> Values:
    return (
        reading.usage_id,
        reading.ts,
        reading.value,
        reading.unit,
        reading.tenant_id,
        reading.source,
        reading.device_id,
        reading.origin,
        [flag.value for flag in reading.flags],
    )


def _event_row(event: DetectionEvent) -> Values:
    details = event.model_dump(mode="json", include={"details"})["details"]
    return (
        event.id,
        event.kind.value,
        event.tenant_id,
        event.usage_id,
        event.ts,
        event.severity.value,
        Jsonb(details),
    )


def _radio_row(record: RadioRecord) -> Values:
    rssi = [r.rssi for r in record.receptions if r.rssi is not None]
    snr = [r.snr for r in record.receptions if r.snr is not None]
    return (
        record.device_id,
        record.ts,
        record.source,
        record.network_id,
        record.dev_eui,
        record.f_port,
        record.f_cnt,
        Jsonb([reception.model_dump() for reception in record.receptions]),
        len(record.receptions),
        max(rssi, default=None),
        max(snr, default=None),
        record.lost_before,
        record.counter_reset,
        record.origin,
    )


def write_readings(conn: psycopg.Connection, readings: Sequence[Reading]) -> ReadingWriteResult:
    """Store a batch of readings in one transaction; sort out replays from duplicates.

    A reading whose (usage, time) is already stored is never overwritten. If it was
    stored from the same origin (the same raw uplink), this is a replay after a restart:
    counted in `replayed`, nothing else. From a different origin, the device or the
    connector really sent it twice: it is returned in `duplicates` for dead-lettering.
    """
    if not readings:
        return ReadingWriteResult(inserted=0, replayed=0)
    with conn.transaction(), conn.cursor() as cur:
        inserted = stage_and_insert(cur, _READINGS, map(_reading_row, readings))
        duplicates = []
        if inserted < len(readings):
            query = sql.SQL(_SELECT_DUPLICATES).format(staging=sql.Identifier(_READINGS.staging))
            duplicates = [
                Duplicate(reading=readings[seq], stored_value=value, stored_origin=origin)
                for seq, value, origin in cur.execute(query).fetchall()
            ]
    replayed = len(readings) - inserted - len(duplicates)
    refused = {id(duplicate.reading) for duplicate in duplicates}
    return ReadingWriteResult(
        inserted=inserted,
        replayed=replayed,
        duplicates=duplicates,
        accepted=[reading for reading in readings if id(reading) not in refused],
    )


@dataclass(eq=False, frozen=True)
class OutputTable(Generic[Row]):
    """A table the worker stores batches of rows in, besides `readings` (which sorts out
    duplicates): adding one is declaring it here, and storing its rows with a batch
    (`BatchOutcome.store`)."""

    staged: StagedTable
    values: Callable[[Row], Values]
    also: Callable[[psycopg.Cursor[Any], Sequence[Row]], None] | None = None
    """What else the rows write, in the same transaction."""
    combine: Callable[[Sequence[Row]], Sequence[Row]] | None = None
    """Rows of one key in a batch made one, where the first must not simply win."""


def write_rows(conn: psycopg.Connection, table: OutputTable[Row], rows: Sequence[Row]) -> int:
    """Store a batch of rows in one transaction; return how many were new (a replayed row,
    its key already stored, is skipped)."""
    if not rows:
        return 0
    if table.combine is not None:
        rows = table.combine(rows)
    with conn.transaction(), conn.cursor() as cur:
        written = stage_and_insert(cur, table.staged, map(table.values, rows))
        if table.also is not None:
            table.also(cur, rows)
        return written


EVENTS = OutputTable(_EVENTS, _event_row, write_transmission_events)
"""Detection events; event ids are deterministic, so a replayed finding is stored once.
Transmission events also write their status history and gap rows."""
RADIO_FRAMES = OutputTable(_RADIO_FRAMES, _radio_row, combine=merge_repeated_frames)


def write_events(conn: psycopg.Connection, events: Sequence[DetectionEvent]) -> int:
    return write_rows(conn, EVENTS, events)


def write_radio_frames(conn: psycopg.Connection, records: Sequence[RadioRecord]) -> int:
    return write_rows(conn, RADIO_FRAMES, records)
