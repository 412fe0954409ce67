"""Batched writes through a staging table: one COPY, then one INSERT ... SELECT.

There is no per-row round trip, and writing a batch twice (a replay after a restart)
stores it once: rows whose key is already stored do nothing, or update the row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

Values = tuple[Any, ...]
DO_NOTHING = sql.SQL("DO NOTHING")


@dataclass(frozen=True)
class StagedTable:
    """A table written through a temporary staging copy of itself."""

    target: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    """PostgreSQL types of `columns`, for the binary COPY (three times faster than text)."""
    key: tuple[str, ...]
    on_conflict: sql.Composable = field(default_factory=lambda: DO_NOTHING)
    """What a row whose key is already stored does: nothing, or an update (`DO UPDATE ...`)."""

    @property
    def staging(self) -> str:
        return f"staging_{self.target}"


# `batch_seq` is the position in the batch: the first of two rows with one key wins,
# and duplicates are traced back to the Reading they came from.
CREATE_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS {staging}
        (LIKE {target} INCLUDING DEFAULTS, batch_seq integer NOT NULL)
"""
COPY_STAGING = "COPY {staging} ({columns}, batch_seq) FROM STDIN (FORMAT BINARY)"
INSERT_FROM_STAGING = """
    INSERT INTO {target} ({columns})
    SELECT DISTINCT ON ({key}) {columns} FROM {staging} ORDER BY {key}, batch_seq
    ON CONFLICT ({key}) {on_conflict}
"""


def stage_and_insert(cur: psycopg.Cursor[Any], table: StagedTable, rows: Iterable[Values]) -> int:
    """COPY `rows` into the staging table, insert the new ones; return how many were new.

    The staging table lives as long as the connection (IF NOT EXISTS makes later batches
    reuse it) and is emptied per batch. Must run inside the caller's transaction.
    """
    names = {
        "target": sql.Identifier(table.target),
        "staging": sql.Identifier(table.staging),
        "columns": sql.SQL(", ").join(map(sql.Identifier, table.columns)),
        "key": sql.SQL(", ").join(map(sql.Identifier, table.key)),
        "on_conflict": table.on_conflict,
    }
    cur.execute(sql.SQL(CREATE_STAGING).format(**names))
    cur.execute(sql.SQL("TRUNCATE {staging}").format(**names))
    with cur.copy(sql.SQL(COPY_STAGING).format(**names)) as copy:
        copy.set_types([*table.types, "int4"])
        for seq, row in enumerate(rows):
            copy.write_row((*row, seq))
    cur.execute(sql.SQL(INSERT_FROM_STAGING).format(**names))
    return cur.rowcount
