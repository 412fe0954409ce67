"""Process plumbing shared by the services.

Children are spawned in their own session (so a Ctrl-C in the terminal reaches only us, and
we stop them in order), with ``PR_SET_PDEATHSIG`` = SIGKILL so they die with us even when we
are killed with SIGKILL, and with stdout/stderr going to a log file whose tail is put into the
error raised when a service does not come up.
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import ctypes
import logging
import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar, cast

from models.errors import SmatiError
from services.waiting import WaitTimeout, wait_until

__all__ = [
    "Service",
    "ServiceError",
    "ServiceNotInstalledError",
    "ServiceStartError",
    "log_tail",
    "run_step",
    "spawn",
    "stop_process",
]

_T = TypeVar("_T")
_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: the preexec function runs between fork and exec, where
# loading a library is not safe.
_prctl: Callable[..., int] | None = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        _prctl = ctypes.CDLL(None, use_errno=True).prctl


class ServiceError(SmatiError, RuntimeError):
    """Base class of the errors raised by :mod:`services`."""


class ServiceNotInstalledError(ServiceError):
    """A program a service needs is not installed."""


class ServiceStartError(ServiceError):
    """A service failed, or did not become ready in time; the message ends with its log."""

    def __init__(self, message: str, log_path: Path | None = None) -> None:
        if log_path is not None:
            message = f"{message}\n--- last lines of {log_path} ---\n{log_tail(log_path)}"
        super().__init__(message)


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of ``path`` (or a note if it cannot be read)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(log unavailable: {exc})"
    return "\n".join(data.splitlines()[-lines:]) or "(log is empty)"


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """Build the ``preexec_fn`` that makes the child get SIGKILL when we die.

    It runs after ``Popen(user=...)`` has switched the uid, which matters: changing
    credentials clears the parent-death signal. If we died before the prctl, getppid()
    already differs and the child kills itself.
    """

    def preexec() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class _Spawner:
    """Runs every ``Popen`` on one thread that lives as long as the process.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that forked the child exits, not the process:
    a child spawned from a short-lived thread (ServiceStack starts services in parallel
    threads) would be killed as soon as that thread ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] | None = None
        self._pid = -1

    def run(self, fn: Callable[[], _T]) -> _T:
        with self._lock:
            if self._queue is None or self._pid != os.getpid():  # first use, or after fork
                self._queue = queue.SimpleQueue()
                self._pid = os.getpid()
                threading.Thread(
                    target=self._loop, args=(self._queue,), name="services-spawner", daemon=True
                ).start()
            requests = self._queue
        future: Future[Any] = Future()
        requests.put((fn, future))
        return cast(_T, future.result())

    @staticmethod
    def _loop(requests: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]]) -> None:
        while True:
            fn, future = requests.get()
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)


_spawner = _Spawner()


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session, output appended to ``log_path``, dying with us.

    ``user`` runs the child as that user (we must be root), e.g. PostgreSQL refuses root.
    """
    group: int | None = None
    extra_groups: list[int] | None = None
    if user is not None:
        group = pwd.getpwnam(user).pw_gid
        extra_groups = []
    child_env = dict(os.environ if env is None else env)
    with log_path.open("ab") as log:

        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=cwd,
                start_new_session=True,
                user=user,
                group=group,
                extra_groups=extra_groups,
                preexec_fn=_die_with_parent(os.getpid()),
            )

        try:
            return _spawner.run(popen)
        except FileNotFoundError as exc:
            raise ServiceNotInstalledError(f"cannot run {argv[0]!r}: {exc}") from exc


def stop_process(
    proc: subprocess.Popen[bytes],
    sig: int = signal.SIGTERM,
    timeout: float = 10.0,
    logger: logging.Logger | None = None,
) -> None:
    """Send ``sig`` to the process group, wait up to ``timeout`` s, then SIGKILL it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            if logger is not None:
                logger.warning(
                    "pid %d ignored signal %d for %.0f s: SIGKILL", proc.pid, sig, timeout
                )
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Leftover members of the group (e.g. PostgreSQL backends of a postmaster that died).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_step(
    argv: Sequence[str],
    log_path: Path,
    *,
    deadline: float,
    what: str,
    cancel: threading.Event | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> None:
    """Run a short preparation command (initdb, storage format) to completion or fail."""
    proc = spawn(argv, log_path, env=env, user=user)

    def finished() -> bool:
        if cancel is not None and cancel.is_set():
            raise ServiceStartError(f"{what} cancelled")
        return proc.poll() is not None

    try:
        wait_until(finished, timeout=deadline - time.monotonic(), what=what, interval=0.05)
    except WaitTimeout:
        raise ServiceStartError(f"{what} timed out", log_path) from None
    finally:
        stop_process(proc, signal.SIGKILL, timeout=5.0)
    if proc.returncode != 0:
        raise ServiceStartError(f"{what} failed with exit code {proc.returncode}", log_path)


_live: set[Service] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_live_services() -> None:
    """Last resort at interpreter exit for services that nobody stopped."""
    with _live_lock:
        leftovers = list(_live)
    for service in leftovers:
        with contextlib.suppress(Exception):
            service.stop()


class Service(abc.ABC):
    """A service run for the tests, the demo and the benchmarks.

    ``start()`` returns once the service answers requests and sets :attr:`startup_s`;
    ``stop()`` is idempotent. Also a context manager.
    """

    #: Short name, used for the logger ``services.<name>``.
    name: ClassVar[str]
    #: File name of the service's log in its work folder.
    log_name: ClassVar[str]
    #: The signal that stops the service cleanly.
    stop_signal: ClassVar[int] = signal.SIGTERM

    def __init__(self, *, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port: int | None = None
        #: The temporary work folder (data, config, log); None when not started or external.
        self.base_dir: Path | None = None
        #: Seconds the last start took until ready (None before the first start).
        self.startup_s: float | None = None
        self.log = logging.getLogger(f"services.{self.name}")
        self._cancel = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._running = False

    @property
    def log_path(self) -> Path | None:
        """The service's log (None when not started or external)."""
        return self.base_dir / self.log_name if self.base_dir else None

    def started_port(self) -> int:
        """The port it listens on; raises when the service is not started."""
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self.port

    @property
    def running(self) -> bool:
        """Whether start() succeeded and stop() was not called since."""
        return self._running

    @property
    def pid(self) -> int | None:
        """PID of the service process we started (None if external or stopped)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> Self:
        """Start the service; return when it is ready, raise :class:`ServiceError` if not."""
        if self._running:
            return self
        self._cancel.clear()
        began = time.monotonic()
        try:
            self._start(began + self.startup_timeout)
        except BaseException:
            try:
                self._stop()
            except Exception:
                self.log.exception("cleanup after failed start of %s failed", self.name)
            raise
        self.startup_s = time.monotonic() - began
        self._running = True
        with _live_lock:
            _live.add(self)
        self.log.info("%s ready in %.2f s (%s)", self.name, self.startup_s, self.describe())
        return self

    def stop(self) -> None:
        """Stop the service and remove its runtime data; safe to call more than once."""
        self._cancel.set()
        self._running = False
        with _live_lock:
            _live.discard(self)
        self._stop()

    def cancel(self) -> None:
        """Make a start() running in another thread give up at its next readiness check."""
        self._cancel.set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def describe(self) -> str:
        """Where the service can be reached, for log messages."""
        return ""

    @abc.abstractmethod
    def _start(self, deadline: float) -> None:
        """Start and wait until ready (monotonic ``deadline``); may leave partial state."""

    def _stop(self) -> None:
        """Undo whatever ``_start`` did so far: stop the process, remove the work folder."""
        if self._proc is not None:
            stop_process(self._proc, self.stop_signal, logger=self.log)
            self._proc = None
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
            self.port = None

    def _wait_ready(
        self,
        check: Callable[[], bool],
        *,
        deadline: float,
        log_path: Path,
        interval: float = 0.1,
    ) -> None:
        """Poll ``check`` until it returns True; fail if the process exits or time runs out.

        Exceptions from ``check`` count as "not ready yet"; the last one is reported.
        """

        def ready() -> bool:
            if self._cancel.is_set():
                raise ServiceStartError(f"{self.name}: startup cancelled")
            if self._proc is not None and self._proc.poll() is not None:
                raise ServiceStartError(
                    f"{self.name} exited with code {self._proc.returncode} during startup",
                    log_path,
                )
            return check()

        try:
            wait_until(
                ready,
                timeout=deadline - time.monotonic(),
                what=f"{self.name} to answer",
                interval=interval,
                ignore=(Exception,),
            )
        except WaitTimeout as timeout:
            last = timeout.last_error
            detail = f" (last error: {last})" if last else ""
            raise ServiceStartError(
                f"{self.name} not ready after {self.startup_timeout:.0f} s{detail}", log_path
            ) from None
