"""The HTTP API as one ASGI app: its routers, the database pool they share, the mapping of
expected failures to HTTP statuses, the OpenAPI spec (/openapi.json) and its pages (/docs,
/redoc, served without a CDN), and the cleansing review page (/review)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from psycopg_pool import ConnectionPool

from api import alarms, cleansing, health, review
from models.cleansing import CleansingError
from storage.alarms import AlarmConflict, AlarmNotFound
from storage.cleansing import NothingToApply, OperationConflict, OperationNotFound, UnknownUsage

__all__ = ["build_app"]

_STATUS_OF: dict[type[Exception], int] = {
    AlarmNotFound: status.HTTP_404_NOT_FOUND,
    AlarmConflict: status.HTTP_409_CONFLICT,
    UnknownUsage: status.HTTP_404_NOT_FOUND,
    OperationNotFound: status.HTTP_404_NOT_FOUND,
    OperationConflict: status.HTTP_409_CONFLICT,
    NothingToApply: status.HTTP_409_CONFLICT,
    CleansingError: status.HTTP_400_BAD_REQUEST,
}


def build_app(
    database_url: str, *, pool_size: int = 4, chart_folder: Path | None = None
) -> FastAPI:
    """The API on the database at `database_url`; its pool opens and closes with the app.
    With the charting library's `chart_folder` (services.chart_packages), the review page
    too."""
    # In autocommit, a change commits where the storage function ends its transaction,
    # before the answer is sent: a dependency's exit (the pool's commit) would run after.
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=pool_size,
        open=False,
        timeout=5,
        kwargs={"autocommit": True},
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.open()
        try:
            yield
        finally:
            pool.close()

    app = FastAPIOffline(
        title="SMATI stream",
        summary="Alarms of smart buildings, per tenant: list, show, acknowledge, clear; "
        "cleansing and gap filling of their data: review, apply, undo.",
        description="Send `Authorization: Bearer TOKEN`, a token of your tenant "
        "(`smati tokens create`). Times are UTC.",
        version="1",
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.include_router(health.router)
    app.include_router(alarms.router)
    app.include_router(cleansing.router)
    app.include_router(review.router)
    if chart_folder is not None:
        review.mount_page(app, chart_folder)
    for error, code in _STATUS_OF.items():
        app.add_exception_handler(error, _answer(code))
    app.add_exception_handler(psycopg.OperationalError, _unavailable)
    return app


def _answer(code: int) -> Callable[[Request, Exception], JSONResponse]:
    def answer(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return answer


def _unavailable(_: Request, error: Exception) -> JSONResponse:
    """The database is down or out of connections: the request may be retried."""
    detail = f"database: {str(error).strip().splitlines()[0]}"
    return JSONResponse({"detail": detail}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
