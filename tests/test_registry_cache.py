"""The worker's registry cache on a real PostgreSQL, which stops for a moment."""

from __future__ import annotations

import asyncio
import logging

import psycopg
import pytest

from benchmarks.fleet import fleet_registry
from services import PostgresServer
from storage.registry_store import save_registry
from stream.registry_cache import RegistryCache


def test_a_reload_while_the_database_is_down_keeps_the_registry_and_ends_nothing(
    postgres: PostgresServer, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The reload timer ran into a PostgreSQL outage and its error crashed the worker."""
    with psycopg.connect(database) as conn:
        save_registry(conn, fleet_registry(3, 60.0))
    cache = RegistryCache(database)
    asyncio.run(cache.reload())
    loaded = set(cache.usages)
    postgres.interrupt()
    try:
        with caplog.at_level(logging.WARNING, logger="stream.registry_cache"):
            asyncio.run(cache.reload())
    finally:
        postgres.resume()
    assert len(loaded) == 3 and set(cache.usages) == loaded and cache.ready.is_set()
    [warning] = [
        r.getMessage()
        for r in caplog.records
        if r.name == "stream.registry_cache" and r.levelno >= logging.WARNING
    ]
    assert warning.startswith("registry not reloaded, database unreachable (connection failed")
    assert "\n" not in warning
