"""Applies the numbered SQL files of `storage/migrations` that a database has not seen yet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from models.errors import SmatiError

__all__ = [
    "Migration",
    "MigrationError",
    "SchemaNotMigrated",
    "migrate",
    "migrations",
    "require_schema",
]

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# An arbitrary constant shared by every migrate() call: holding it serialises runners.
_LOCK_KEY = 0x5347_4154_4D49

_CREATE_LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
    )
"""


class MigrationError(SmatiError, RuntimeError):
    """The migrations shipped with the package are inconsistent, or one of them failed."""


class SchemaNotMigrated(MigrationError):
    """The database lacks migrations this version of SMATI needs."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found: dict[int, Migration] = {}
    for item in resources.files("storage").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(item.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}")
        name = item.name.removesuffix(".sql")
        found[version] = Migration(version, name, item.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


def migrate(conninfo: str) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    A session advisory lock is held for the whole run, so that two processes starting
    at once (the stream and the CLI, say) apply each migration exactly once: the
    second waits, then finds nothing left to do.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # Released when the connection closes, on success or failure alike.
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        conn.execute(_CREATE_LEDGER)
        return [_apply(conn, migration) for migration in _pending(conn)]


def require_schema(conn: psycopg.Connection) -> None:
    """Raise SchemaNotMigrated, naming what is missing, unless every migration is applied."""
    with conn.transaction():  # the caller's connection is left as it was found
        ledger = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
        has_ledger = ledger is not None and ledger[0] is not None
        missing = _pending(conn) if has_ledger else migrations()
    if missing:
        names = ", ".join(migration.name for migration in missing)
        raise SchemaNotMigrated(
            f"database {conn.info.dbname!r} on {conn.info.host}:{conn.info.port} lacks "
            f"migrations {names}: run `smati db migrate`"
        )


def _pending(conn: psycopg.Connection) -> list[Migration]:
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return [migration for migration in migrations() if migration.version not in applied]


def _apply(conn: psycopg.Connection, migration: Migration) -> str:
    try:
        with conn.transaction():
            # No parameters: psycopg sends the file as one simple query, many statements.
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    except psycopg.Error as error:
        raise MigrationError(f"migration {migration.name} failed: {error}") from error
    return migration.name
