"""Running SMATI roles (worker, connector) as child processes, as in production.

Used by `smati demo` and by the end-to-end tests, so both exercise the real entry points.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


class RoleProcess:
    """`smati <role...>` in a child process, its output in `log_path`."""

    def __init__(self, role: list[str], env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smati.cli", *role],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_line(self, text: str, timeout: float = 60.0) -> None:
        """Return once the log holds `text`; raise with the log's tail if not, or if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            self.raise_if_dead()
            time.sleep(0.2)
        raise RuntimeError(
            f"smati {' '.join(self.role)} never said {text!r}:\n{self.log()[-4000:]}"
        )

    def raise_if_dead(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise RuntimeError(
                f"smati {' '.join(self.role)} exited with {code}:\n{self.log()[-4000:]}"
            )

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
