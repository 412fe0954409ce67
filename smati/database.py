"""The CLI's connections to PostgreSQL: waited for at a worker's start, checked migrated."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from models.errors import SmatiError
from models.settings import Settings
from services.waiting import wait_until
from storage.migrate import require_schema

__all__ = ["DatabaseUnreachable", "database_location", "migrated_database", "wait_for_database"]

log = logging.getLogger(__name__)

_NOT_READY = {
    pq.Ping.NO_RESPONSE: "no answer",
    pq.Ping.REJECT: "starting, stopping or recovering",
}


class DatabaseUnreachable(SmatiError, ConnectionError):
    """The database URL cannot be used, or its server did not answer in time."""


def database_location(url: str) -> str:
    """host:port/database of a libpq URL, without its user or password (for messages)."""
    parts = conninfo_to_dict(url)
    return f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/{parts.get('dbname')}"


def wait_for_database(url: str, timeout_s: float) -> None:
    """Return once the database server accepts connections, logging one line per attempt,
    and the database is migrated (else SchemaNotMigrated).

    libpq's ping tells a server not (yet) answering, which waiting cures, from one that
    answers: a wrong database name or password is then the connection's own error.
    """
    where = database_location(url)
    status = pq.Ping.OK

    def answers() -> bool:
        nonlocal status
        status = pq.Ping(pq.PGconn.ping(url.encode()))
        if status == pq.Ping.NO_ATTEMPT:
            raise DatabaseUnreachable(f"the database URL of {where} is not valid")
        return status == pq.Ping.OK

    def waiting(_: BaseException | None) -> None:
        log.warning("database not reachable at %s (%s); waiting", where, _NOT_READY[status])

    wait_until(
        answers, timeout=timeout_s, what=f"the database at {where}", interval=2, on_retry=waiting
    )
    with psycopg.connect(url) as conn:
        require_schema(conn)


@contextmanager
def migrated_database(settings: Settings) -> Iterator[psycopg.Connection]:
    """A connection to the configured database, once it is known to be migrated."""
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        require_schema(conn)
        yield conn
