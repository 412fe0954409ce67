"""Cleansing and gap-filling operations, stored beside the readings (migration 0015).

An operation writes corrections (a reading excluded or replaced, a value estimated) in
`reading_corrections`; `readings` are never updated nor deleted. Undoing one marks it and
its corrections inactive, which gives back the corrected view it found: only a usage's
latest operation in force can be undone, so that none is undone under one built on it.

Every function takes an optional tenant: `None` for an operator's CLI (every tenant), a
tenant for the HTTP API, where another tenant's usage or operation is not found.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from models.cleansing import (
    Correction,
    FillParams,
    Review,
    Signal,
    UsageFacts,
    fill_gaps,
    review,
    run_treatment,
)
from models.cleansing.gaps import Gap
from models.cleansing.treatments import CleansingError, problems_of
from models.errors import SmatiError
from models.reading import UsageType

__all__ = [
    "FILL_GAPS",
    "NothingToApply",
    "Operation",
    "OperationConflict",
    "OperationNotFound",
    "Proposal",
    "UnknownUsage",
    "anomaly_times",
    "apply_operation",
    "list_operations",
    "propose",
    "read_signal",
    "undo_operation",
    "usage_facts",
]

FILL_GAPS = "fill-gaps"
"""Gap filling, proposed and applied like a treatment."""
PROFILE_HISTORY = timedelta(weeks=8)
"""Gap filling learns the usage's usual profile from this much before the period too."""


class UnknownUsage(SmatiError, LookupError):
    pass


class OperationNotFound(SmatiError, LookupError):
    pass


class OperationConflict(SmatiError):
    """An operation already undone, or with a later one in force on its usage."""


class NothingToApply(SmatiError):
    pass


@dataclass(frozen=True)
class Operation:
    id: str
    tenant_id: str
    usage_id: str
    kind: str
    """`cleanse` or `fill`."""
    treatment: str
    parameters: dict[str, Any]
    corrections: int
    applied_by: str
    applied_at: datetime
    undone_by: str | None
    undone_at: datetime | None


def _tenant_clause(column: str, tenant_id: str | None) -> sql.Composable:
    if tenant_id is None:
        return sql.SQL("TRUE")
    return sql.SQL("{} = {}").format(sql.Identifier(*column.split(".")), sql.Literal(tenant_id))


def usage_facts(
    conn: psycopg.Connection, usage_id: str, tenant_id: str | None = None
) -> tuple[str, UsageFacts]:
    """The usage's tenant and what the treatments need of it."""
    row = conn.execute(
        sql.SQL(
            """
            SELECT u.tenant_id, u.type, u.unit, u.period_s, e.timezone,
                   u.min_value, u.max_value, u.index_max
            FROM usages u JOIN entities e ON e.id = u.entity_id
            WHERE u.id = %s AND {}
            """
        ).format(_tenant_clause("u.tenant_id", tenant_id)),
        (usage_id,),
    ).fetchone()
    if row is None:
        whose = f" of tenant {tenant_id}" if tenant_id else ""
        raise UnknownUsage(f"no usage {usage_id!r}{whose}")
    tenant, kind, unit, period_s, zone, low, high, top = row
    facts = UsageFacts(usage_id, UsageType(kind), unit, period_s, ZoneInfo(zone), low, high, top)
    return tenant, facts


def read_signal(
    conn: psycopg.Connection,
    tenant_id: str,
    usage_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    raw: bool = False,
) -> Signal:
    """The usage's values in [start, end): as corrected by the operations in force
    (estimates marked), or `raw`, as the readings are stored."""
    source = sql.SQL("readings" if raw else "corrected_readings")
    estimated = sql.SQL("false" if raw else "estimated")
    rows = conn.execute(
        sql.SQL(
            """
            SELECT ts, value, {estimated} FROM {source}
            WHERE tenant_id = %(tenant)s AND usage_id = %(usage)s
              AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
            ORDER BY ts
            """
        ).format(estimated=estimated, source=source),
        {"tenant": tenant_id, "usage": usage_id, "start": start, "end": end},
    ).fetchall()
    return Signal(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))


def anomaly_times(conn: psycopg.Connection, tenant_id: str, usage_id: str) -> frozenset[datetime]:
    """When the stream's anomaly detector reported the usage's anomalies."""
    rows = conn.execute(
        "SELECT ts FROM detection_events"
        " WHERE tenant_id = %s AND usage_id = %s AND kind = 'anomaly'",
        (tenant_id, usage_id),
    )
    return frozenset(row[0] for row in rows)


@dataclass(frozen=True)
class Proposal:
    """What an operation would do to a usage's corrected data, before it is applied."""

    tenant_id: str
    usage: UsageFacts
    treatment: str
    parameters: dict[str, Any]
    """As understood: the defaults filled in."""
    review: Review
    skipped: list[tuple[Gap, str]]
    """Gaps left unfilled, and why (gap filling only)."""

    @property
    def kind(self) -> str:
        return "fill" if self.treatment == FILL_GAPS else "cleanse"


def propose(
    conn: psycopg.Connection,
    usage_id: str,
    treatment: str,
    parameters: Mapping[str, Any],
    *,
    tenant_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Proposal:
    """Run the treatment (or gap filling) on the usage's corrected data in [start, end)."""
    tenant, usage = usage_facts(conn, usage_id, tenant_id)
    signal = read_signal(conn, tenant, usage_id, start, end)
    skipped: list[tuple[Gap, str]] = []
    chosen: BaseModel
    if treatment == FILL_GAPS:
        try:
            chosen = FillParams.model_validate(dict(parameters))
        except ValidationError as error:
            raise CleansingError(f"{FILL_GAPS}: {problems_of(error)}") from None
        history = read_signal(conn, tenant, usage_id, start and start - PROFILE_HISTORY, end)
        filling = fill_gaps(signal, usage, chosen, history)
        corrections, skipped = filling.corrections, filling.skipped
    else:
        anomalies = (
            anomaly_times(conn, tenant, usage_id) if treatment == "anomaly-events" else frozenset()
        )
        chosen, corrections = run_treatment(treatment, signal, usage, parameters, anomalies)
    shown = review(signal, corrections)
    return Proposal(tenant, usage, treatment, chosen.model_dump(), shown, skipped)


_OPERATIONS = """
SELECT id, tenant_id, usage_id, kind, treatment, parameters, corrections, applied_by,
       applied_at, undone_by, undone_at
FROM cleansing_operations
"""


def apply_operation(conn: psycopg.Connection, proposal: Proposal, by: str) -> Operation:
    """Store the proposal's corrections as a new operation, in one transaction."""
    corrections = proposal.review.defects
    usage, tenant = proposal.usage, proposal.tenant_id
    if not corrections:
        raise NothingToApply(f"{proposal.treatment} found nothing to correct in {usage.usage_id}")
    operation_id = f"op-{secrets.token_hex(6)}"
    with conn.transaction():
        _lock_usage(conn, usage.usage_id)
        conn.execute(
            """
            INSERT INTO cleansing_operations
                (id, tenant_id, usage_id, kind, treatment, parameters, corrections, applied_by)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (operation_id, tenant, usage.usage_id, proposal.kind, proposal.treatment,
             Jsonb(proposal.parameters), len(corrections), by),
        )  # fmt: skip
        _copy_corrections(conn, operation_id, proposal, corrections)
    return _operation(conn, operation_id, tenant)


def _copy_corrections(
    conn: psycopg.Connection,
    operation_id: str,
    proposal: Proposal,
    corrections: Sequence[Correction],
) -> None:
    usage = proposal.usage
    with conn.cursor().copy(
        "COPY reading_corrections (operation_id, tenant_id, usage_id, ts, action, value,"
        " original, unit, reason) FROM STDIN"
    ) as copy:
        for c in corrections:
            copy.write_row(
                (operation_id, proposal.tenant_id, usage.usage_id, c.ts, c.action.value,
                 c.value, c.original, usage.unit, c.reason)
            )  # fmt: skip


def _lock_usage(conn: psycopg.Connection, usage_id: str) -> None:
    """Operations on one usage, applied or undone, one at a time."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('cleansing:' || %s))", (usage_id,))


def _operation(conn: psycopg.Connection, operation_id: str, tenant_id: str | None) -> Operation:
    query = sql.SQL(_OPERATIONS + " WHERE id = %s AND {}").format(
        _tenant_clause("tenant_id", tenant_id)
    )
    with conn.cursor(row_factory=class_row(Operation)) as cur:
        found = cur.execute(query, (operation_id,)).fetchone()
    if found is None:
        raise OperationNotFound(f"no operation {operation_id!r}")
    return found


def list_operations(
    conn: psycopg.Connection, usage_id: str, tenant_id: str | None = None
) -> list[Operation]:
    """The usage's operations, the latest first, undone ones included."""
    query = sql.SQL(_OPERATIONS + " WHERE usage_id = %s AND {} ORDER BY seq DESC").format(
        _tenant_clause("tenant_id", tenant_id)
    )
    with conn.cursor(row_factory=class_row(Operation)) as cur:
        return cur.execute(query, (usage_id,)).fetchall()


def undo_operation(
    conn: psycopg.Connection, operation_id: str, by: str, tenant_id: str | None = None
) -> Operation:
    """Put the corrected view back as it was before the operation."""
    with conn.transaction():
        operation = _operation(conn, operation_id, tenant_id)
        _lock_usage(conn, operation.usage_id)
        operation = _operation(conn, operation_id, tenant_id)
        if operation.undone_at is not None:
            raise OperationConflict(
                f"operation {operation_id} was undone by {operation.undone_by} at "
                f"{operation.undone_at:%Y-%m-%d %H:%M:%S %Z}"
            )
        later = conn.execute(
            """
            SELECT string_agg(id, ', ' ORDER BY seq DESC) FROM cleansing_operations
            WHERE usage_id = %s AND undone_at IS NULL
              AND seq > (SELECT seq FROM cleansing_operations WHERE id = %s)
            """,
            (operation.usage_id, operation_id),
        ).fetchone()
        if later is not None and later[0] is not None:
            raise OperationConflict(
                f"operation {operation_id} has later operations in force on "
                f"{operation.usage_id}: undo {later[0]} first"
            )
        conn.execute(
            "UPDATE reading_corrections SET active = false WHERE operation_id = %s",
            (operation_id,),
        )
        conn.execute(
            "UPDATE cleansing_operations SET undone_by = %s, undone_at = now() WHERE id = %s",
            (by, operation_id),
        )
    return _operation(conn, operation_id, tenant_id)
