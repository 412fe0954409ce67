"""Cleansing and gap filling of a token's tenant's usages: the review data of a proposed
operation (what a review page draws), applying it, listing and undoing operations (the
same storage functions as `smati cleanse`, `fill-gaps`, `operations list`, `undo`), on
one usage or every usage of an entity.

Another tenant's usage or operation is 404, as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, status

from api.cleansing_schemas import (
    EntityOperations,
    OperationOut,
    OperationRequest,
    Operations,
    ReviewOut,
)
from api.dependencies import Actor, Connection, Holder
from api.schemas import Problem
from storage import cleansing as stored

__all__ = ["router"]

Proposed = TypeVar("Proposed", stored.Proposal, stored.EntityProposal)

_ID = r"^[^\x00]+$"  # PostgreSQL text holds no NUL
UsageId = Annotated[str, Path(min_length=1, max_length=200, pattern=_ID)]
EntityId = Annotated[str, Path(min_length=1, max_length=200, pattern=_ID)]
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


def _proposed(
    propose: Callable[..., Proposed],
    conn: Connection,
    holder: Holder,
    target: str,
    request: OperationRequest,
) -> Proposed:
    """`propose` (on a usage, or an entity's usages) as the request asks, in the token's
    tenant."""
    return propose(
        conn,
        target,
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
    return ReviewOut.of(_proposed(stored.propose, conn, holder, usage_id, request))


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
    proposal = _proposed(stored.propose, conn, holder, usage_id, request)
    return OperationOut.of(stored.apply_operation(conn, proposal, by))


@router.post(
    "/entities/{entity_id}/operations",
    summary="Apply an operation to an entity's usages",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Problem, "description": "no such entity of the tenant"}}
    | _REFUSED
    | _NOTHING,
)
def apply_entity_operation(
    entity_id: EntityId, request: OperationRequest, holder: Holder, by: Actor, conn: Connection
) -> EntityOperations:
    """Apply the treatment to every usage of the entity of a type it accepts: one operation
    per usage with corrections (all stored or none), each undone alone; the other usages
    listed as unchanged or skipped, with why."""
    proposed = _proposed(stored.propose_for_entity, conn, holder, entity_id, request)
    return EntityOperations.of(proposed, stored.apply_entity(conn, proposed, by))


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
