"""What the soak's database and dead-letter topic hold, against what was published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg

from benchmarks.fleet import usage_id
from models.dead_letter import DeadLetter, RejectCode
from stream.topics import read_records


@dataclass(frozen=True)
class Tally:
    stored: int
    """Rows of `readings`."""
    missing: int
    """Readings published and not stored with their value."""
    beyond: int
    """Rows stored that were not published so: a reading stored twice, or a wrong one."""


def tally_readings(database: str, published: Iterator[tuple[int, datetime, float]]) -> Tally:
    """Compares `readings` with the readings published, loaded by COPY beside them."""
    with psycopg.connect(database) as conn:
        conn.execute(
            "CREATE TEMP TABLE soak_published (usage_id text, ts timestamptz, value float8)"
        )
        with conn.cursor().copy("COPY soak_published (usage_id, ts, value) FROM STDIN") as copy:
            for n, at, value in published:
                copy.write_row((usage_id(n), at, value))
        (count,) = conn.execute("SELECT count(*) FROM soak_published").fetchone() or (0,)
        (stored,) = conn.execute("SELECT count(*) FROM readings").fetchone() or (0,)
        (missing,) = conn.execute(
            "SELECT count(*) FROM soak_published p WHERE NOT EXISTS (SELECT 1 FROM readings r"
            " WHERE r.usage_id = p.usage_id AND r.ts = p.ts AND r.value = p.value)"
        ).fetchone() or (0,)
    return Tally(stored=stored, missing=missing, beyond=stored - (count - missing))


def dead_letters_by_code(bootstrap: str, topic: str) -> Counter[RejectCode]:
    """The dead letters of `topic`, counted by their code."""
    records = read_records(bootstrap, topic)
    return Counter(DeadLetter.model_validate_json(record.value).code for record in records)
