"""Item 6 of issue 20: `smati serve` as an operator runs it: on loopback by default, until
SIGTERM; one-line errors when it cannot serve."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import httpx
from commands import smati
from conditions import wait_for
from test_cli_errors import one_line_error

from services import free_port
from storage.migrate import migrations


def health(port: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code
    except httpx.TransportError:
        return None


def test_serves_on_loopback_until_terminated(database: str) -> None:
    port = free_port()
    command = [sys.executable, "-m", "smati.cli", "--database-url", database, "serve"]
    with subprocess.Popen(
        [*command, "--port", str(port)], stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            wait_for(lambda: health(port), lambda status: status == 200, timeout=60)
            charts = httpx.get(f"http://127.0.0.1:{port}/review/charts/uPlot.iife.min.js")
            assert charts.status_code == 200  # the review page's library, handed by the CLI
        finally:
            server.terminate()
            _, logs = server.communicate(timeout=30)
    # uvicorn shuts down cleanly, then ends by the signal it caught, as systemd expects
    assert server.returncode == -signal.SIGTERM, logs
    messages = [json.loads(line)["message"] for line in logs.splitlines()]
    assert f"Uvicorn running on http://127.0.0.1:{port} (Press CTRL+C to quit)" in messages
    assert messages[-2:] == [
        "Application shutdown complete.",
        f"Finished server process [{server.pid}]",
    ]


def test_a_taken_port_is_a_one_line_error(database: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        error = one_line_error(smati("--database-url", database, "serve", "--port", str(port)))
    assert error == (
        f"port {port} on 127.0.0.1 is taken: give SMATI_API_PORT or --port another "
        "(0 picks a free one)"
    )


def test_a_database_not_migrated_is_a_one_line_error(empty_database: str) -> None:
    error = one_line_error(smati("--database-url", empty_database, "serve"))
    # Every migration, named (the branches that add one need not edit this test).
    names = ", ".join(migration.name for migration in migrations())
    assert names.startswith("0001_initial, 0002_transmission, 0003_radio, ")
    assert error.endswith(f"lacks migrations {names}: run `smati db migrate`")
