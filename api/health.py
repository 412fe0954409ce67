"""/health: the server answers and reaches its database (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import Connection
from api.schemas import Health, Problem

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Health",
    responses={503: {"model": Problem, "description": "the database cannot be reached"}},
)
def health(conn: Connection) -> Health:
    conn.execute("SELECT 1")
    return Health(status="ok")
