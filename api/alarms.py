"""/alarms: a token's tenant's alarms, listed, shown with their history, acknowledged and
cleared (the same storage functions as `smati alarms`), and their open counts.

Every query is scoped to the token's tenant: another tenant's alarm is 404, as an alarm
that does not exist, so that ids do not leak.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.dependencies import Connection, Holder, actor
from api.schemas import Alarm, AlarmCount, AlarmPage, AlarmWithHistory, Problem
from models.alarm_status import AlarmSeverity, AlarmStatus, CountLevel
from storage import alarms as stored

__all__ = ["router"]

_NAME = r"^[^\x00]+$"  # PostgreSQL text holds no NUL
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NAME)]
AlarmId = Annotated[str, Path(min_length=1, max_length=200, pattern=_NAME)]


class AlarmQuery(BaseModel):
    """Which of the tenant's alarms to list; an unknown parameter is refused (a misspelt
    filter would otherwise list every alarm)."""

    model_config = ConfigDict(extra="forbid")

    entity: Name | None = None
    equipment: Name | None = None
    usage: Name | None = None
    type: Name | None = None
    status: list[AlarmStatus] = []
    severity: list[AlarmSeverity] = []
    since: AwareDatetime | None = Field(None, description="active at or after this time")
    until: AwareDatetime | None = Field(None, description="raised before this time")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class CountQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: CountLevel | None = Field(None, description="only the counts of this level")


Responses = dict[int | str, dict[str, Any]]
_NOT_FOUND: Responses = {
    404: {"model": Problem, "description": "no such alarm of the token's tenant"}
}
_CONFLICT: Responses = {
    409: {"model": Problem, "description": "the alarm already is in that state"}
}

router = APIRouter(
    prefix="/alarms",
    tags=["alarms"],
    responses={401: {"model": Problem, "description": "no live bearer token"}},
)


@router.get("", summary="List alarms")
def list_alarms(
    query: Annotated[AlarmQuery, Query()], holder: Holder, conn: Connection
) -> AlarmPage:
    """The tenant's alarms, latest raised first, filtered; `next_offset` pages on."""
    chosen = stored.AlarmFilter(
        tenant_id=holder.tenant_id,
        entity_id=query.entity,
        equipment_id=query.equipment,
        usage_id=query.usage,
        type=query.type,
        statuses=tuple(query.status),
        severities=tuple(query.severity),
        since=query.since,
        until=query.until,
    )
    rows = stored.list_alarms(conn, chosen, limit=query.limit + 1, offset=query.offset)
    more = len(rows) > query.limit
    return AlarmPage(
        alarms=[Alarm.model_validate(row) for row in rows[: query.limit]],
        next_offset=query.offset + query.limit if more else None,
    )


@router.get("/counts", summary="Count open alarms")
def count_alarms(
    query: Annotated[CountQuery, Query()], holder: Holder, conn: Connection
) -> list[AlarmCount]:
    """The tenant's open alarms counted by status and severity: the tenant's total, each
    entity's, each equipment's (or only the `level` asked for)."""
    rows = stored.alarm_counts(conn, tenant_id=holder.tenant_id, level=query.level)
    return [AlarmCount.model_validate(row) for row in rows]


@router.get("/{alarm_id}", summary="Show an alarm", responses=_NOT_FOUND)
def show_alarm(alarm_id: AlarmId, holder: Holder, conn: Connection) -> AlarmWithHistory:
    """An alarm and its transitions, oldest first ('stream': made by the data)."""
    alarm, history = stored.alarm_with_history(conn, alarm_id, tenant_id=holder.tenant_id)
    return AlarmWithHistory.model_validate({**alarm, "history": history})


@router.post("/{alarm_id}/ack", summary="Acknowledge an alarm", responses=_NOT_FOUND | _CONFLICT)
def acknowledge_alarm(alarm_id: AlarmId, holder: Holder, conn: Connection) -> Alarm:
    """Someone is on it: recorded with the token's name as who, and now as when."""
    row = stored.acknowledge_alarm(conn, alarm_id, actor(holder), tenant_id=holder.tenant_id)
    return Alarm.model_validate(row)


@router.post(
    "/{alarm_id}/clear", summary="Clear an alarm by hand", responses=_NOT_FOUND | _CONFLICT
)
def clear_alarm(alarm_id: AlarmId, holder: Holder, conn: Connection) -> Alarm:
    """End an active alarm now, the token's name recorded as who cleared it."""
    row = stored.clear_alarm(conn, alarm_id, actor(holder), tenant_id=holder.tenant_id)
    return Alarm.model_validate(row)
