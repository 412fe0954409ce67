"""The HTTP API served by uvicorn in a thread, on a free loopback port, for the tests that
talk to it over real HTTP; the report tests' building served with a token of each tenant."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import report_fixture as fx
import uvicorn

from api.app import build_app
from services import free_port
from services.waiting import wait_until
from storage.tokens import create_token


@contextmanager
def serving(database_url: str, chart_folder: Path | None = None) -> Iterator[str]:
    """The API on `database_url` (and the review page, given the charting library's
    folder), served until the block ends; yields its base URL."""
    port = free_port()
    app = build_app(database_url, chart_folder=chart_folder)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-server", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, what="the API server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass(frozen=True)
class ServedBuilding:
    url: str
    database: str
    analyst: str
    """A token of tenant t1 (the building's), named analyst."""
    stranger: str
    """A token of tenant t2."""


@contextmanager
def serving_the_building(
    server_url: str, chart_folder: Path | None = None
) -> Iterator[ServedBuilding]:
    """The report tests' building in a database of its own on `server_url`, served."""
    with fx.loaded_database(server_url) as database:
        with psycopg.connect(database, autocommit=True) as conn:
            _, analyst = create_token(conn, fx.TENANT, "analyst", "test")
            _, stranger = create_token(conn, "t2", "stranger", "test")
        with serving(database, chart_folder) as url:
            yield ServedBuilding(url, database, analyst.text, stranger.text)
