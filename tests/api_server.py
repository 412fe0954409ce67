"""The HTTP API served by uvicorn in a thread, on a free loopback port, for the tests that
talk to it over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from api.app import build_app
from services import free_port
from services.waiting import wait_until


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
