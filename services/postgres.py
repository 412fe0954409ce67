"""PostgreSQL: an existing server from ``SMATI_DATABASE_URL``, or a throwaway local one."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from services._process import Service, ServiceNotInstalledError, run_step, spawn, stop_process
from services.ports import free_port

__all__ = ["PostgresServer", "find_postgres_bin"]


def find_postgres_bin() -> Path:
    """Folder with ``initdb`` and ``postgres``: Debian's newest, else the ones on PATH."""
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    if candidates:

        def version(bin_dir: Path) -> tuple[int, ...]:
            return tuple(int(n) for n in re.findall(r"\d+", bin_dir.parent.name))

        return max(candidates, key=version)
    initdb = shutil.which("initdb")
    if initdb is not None and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    raise ServiceNotInstalledError(
        "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): run `make setup`"
    )


class PostgresServer(Service):
    """PostgreSQL for tests and the demo, database ``smati``.

    With ``use_env`` and ``SMATI_DATABASE_URL`` set, that server is used as is and
    start()/stop() do nothing. Otherwise a new cluster is created in a temp dir and served on
    a free loopback port. It runs with ``fsync=off``, ``synchronous_commit=off`` and
    ``full_page_writes=off``: fast, and unsafe on a crash, which is fine for data that is
    thrown away on stop(). As root, the server runs as the ``postgres`` user (PostgreSQL
    refuses to run as root).
    """

    name = "postgres"
    log_name = "postgres.log"
    #: PostgreSQL's "fast" shutdown; SIGTERM would wait for clients to leave.
    stop_signal = signal.SIGINT

    def __init__(
        self, *, database: str = "smati", use_env: bool = True, startup_timeout: float = 60.0
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.database = database
        self.external_url = os.environ.get("SMATI_DATABASE_URL") if use_env else None
        self._serve: Callable[[], subprocess.Popen[bytes]] | None = None
        """Starts the server process on the cluster and port of the last start."""

    @property
    def url(self) -> str:
        """libpq URL of the database, e.g. ``postgresql://postgres@127.0.0.1:40123/smati``."""
        if self.external_url:
            return self.external_url
        return f"postgresql://postgres@{self.host}:{self.started_port()}/{self.database}"

    def describe(self) -> str:
        return f"external {self.url}" if self.external_url else f"{self.url}, dir {self.base_dir}"

    def _start(self, deadline: float) -> None:
        if self.external_url:
            return
        bin_dir = find_postgres_bin()
        user = "postgres" if os.geteuid() == 0 else None
        # 0755 so that the postgres user can reach its data folder inside.
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-pg-"))
        self.base_dir.chmod(0o755)
        data, sockets = self.base_dir / "data", self.base_dir / "sock"
        data.mkdir(mode=0o700)
        sockets.mkdir(mode=0o700)
        if user is not None:
            account = pwd.getpwnam(user)
            for path in (data, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        log_path = self.log_path
        assert log_path is not None
        run_step(
            [str(bin_dir / "initdb"), "-D", str(data), "--no-sync", "-A", "trust",
             "-U", "postgres", "-E", "UTF8", "--no-locale"],
            log_path, deadline=deadline, what="initdb", cancel=self._cancel, user=user,
        )  # fmt: skip
        self.port = free_port(self.host)
        # The postmaster is our own child rather than started by `pg_ctl`, which would
        # detach it from us: this way it gets the parent-death signal like the others.
        argv = [
            str(bin_dir / "postgres"), "-D", str(data),
            "-h", self.host, "-p", str(self.port), "-k", str(sockets), "-F",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ]  # fmt: skip
        self._serve = lambda: spawn(argv, log_path, user=user)
        self._proc = self._serve()

        def answers() -> bool:
            with psycopg.connect(self._admin_url, connect_timeout=2, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            return True

        self._wait_ready(answers, deadline=deadline, log_path=log_path)

    @property
    def _admin_url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def interrupt(self) -> None:
        """Stop the server as an outage would, keeping its data and port (`resume` it)."""
        if self._proc is not None:
            stop_process(self._proc, self.stop_signal, logger=self.log)
            self._proc = None

    def resume(self) -> None:
        """Start again the server `interrupt` stopped; return once it answers."""
        if self._proc is not None or self._serve is None or self.log_path is None:
            return
        self._proc = self._serve()

        def answers() -> bool:
            with psycopg.connect(self._admin_url, connect_timeout=2, autocommit=True):
                return True

        deadline = time.monotonic() + self.startup_timeout
        self._wait_ready(answers, deadline=deadline, log_path=self.log_path)
