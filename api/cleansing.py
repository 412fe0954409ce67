"""Cleansing and gap filling of a token's tenant's usages: the review data of a proposed
operation (what a review page draws), applying it, listing and undoing operations (the
same storage functions as `smati cleanse`, `fill-gaps`, `operations list`, `undo`).

Another tenant's usage or operation is 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from api.cleansing_schemas import OperationOut, OperationRequest, Operations, ReviewOut
from api.dependencies import Actor, Connection, Holder
from api.schemas import Problem
from storage import cleansing as stored

__all__ = ["router"]

_ID = r"^[^\x00]+$"  # PostgreSQL text holds no NUL
UsageId = Annotated[str, Path(min_length=1, max_length=200, pattern=_ID)]
OperationId = Annotated[str, Path(min_length=1, max_length=200, pattern=_ID)]

Responses = dict[int | str, dict[str, Any]]
_USAGE: Responses = {404: {"model": Problem, "description": "no such usage of the tenant"}}
_REFUSED: Responses = {
    400: {
        "model": Problem,
        "description": "the treatment cannot run on this usage or with these parameters",
    }
}
_NOTHING: Responses = {409: {"model": Problem, "description": "nothing to correct"}}

router = APIRouter(
    tags=["cleansing"],
    responses={401: {"model": Problem, "description": "no live bearer token"}},
)


def _proposal(
    conn: Connection, holder: Holder, usage_id: str, request: OperationRequest
) -> stored.Proposal:
    return stored.propose(
        conn,
        usage_id,
        request.treatment,
        request.parameters,
        tenant_id=holder.tenant_id,
        start=request.start,
        end=request.end,
    )


@router.post(
    "/usages/{usage_id}/review", summary="Review an operation", responses=_USAGE | _REFUSED
)
def review_operation(
    usage_id: UsageId, request: OperationRequest, holder: Holder, conn: Connection
) -> ReviewOut:
    """What the treatment finds in the usage's data and the data once corrected; nothing
    is stored."""
    return ReviewOut.of(_proposal(conn, holder, usage_id, request))


@router.post(
    "/usages/{usage_id}/operations",
    summary="Apply an operation",
    status_code=status.HTTP_201_CREATED,
    responses=_USAGE | _REFUSED | _NOTHING,
)
def apply_operation(
    usage_id: UsageId, request: OperationRequest, holder: Holder, by: Actor, conn: Connection
) -> OperationOut:
    """Store the corrections the treatment finds beside the readings, the person (`by`)
    and the token's name as who applied them."""
    proposal = _proposal(conn, holder, usage_id, request)
    return OperationOut.of(stored.apply_operation(conn, proposal, by))


@router.get("/usages/{usage_id}/operations", summary="List operations", responses=_USAGE)
def list_operations(usage_id: UsageId, holder: Holder, conn: Connection) -> Operations:
    """The usage's operations, the latest first, undone ones included."""
    stored.usage_facts(conn, usage_id, holder.tenant_id)
    found = stored.list_operations(conn, usage_id, holder.tenant_id)
    return Operations(operations=[OperationOut.of(operation) for operation in found])


@router.post(
    "/operations/{operation_id}/undo",
    summary="Undo an operation",
    responses={
        404: {"model": Problem, "description": "no such operation of the tenant"},
        409: {"model": Problem, "description": "undone already, or a later one is in force"},
    },
)
def undo_operation(
    operation_id: OperationId, holder: Holder, by: Actor, conn: Connection
) -> OperationOut:
    """Take the operation's corrections out of the corrected data (they stay recorded)."""
    operation = stored.undo_operation(conn, operation_id, by, holder.tenant_id)
    return OperationOut.of(operation)
