"""/metrics (Prometheus text, models.metrics) and /live of the API, and the count of the
requests it answered, by route template (not by path: an alarm id is not a label)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.metrics import API_REQUESTS

__all__ = ["count_requests", "router"]

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/live")
def live() -> dict[str, bool]:
    """200 while the server answers, whatever its database (that is /health's)."""
    return {"live": True}


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """HTTP middleware: each answer counted by method, route template and status."""
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    API_REQUESTS.labels(
        method=request.method, route=template, status=str(response.status_code)
    ).inc()
    return response
