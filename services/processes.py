"""Running SMATI roles (worker, connector) as child processes, as in production.

Used by `smati demo`, the end-to-end tests and the pipeline benchmark, so all of them
exercise the real entry points. Children run in their own session (a Ctrl-C reaches
only the parent, which stops them in order) and die with the parent, even if it is killed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services import spawn, stop_process
from services.waiting import WaitTimeout, wait_until


def settings_env(overrides: dict[str, Any]) -> dict[str, str]:
    """`SMATI_*` environment variables giving a child these settings (lists and dicts as JSON)."""
    return {
        f"SMATI_{name.upper()}": json.dumps(value) if isinstance(value, list | dict) else str(value)
        for name, value in overrides.items()
    }


class RoleProcess:
    """`smati <role...>` in a child process, its output in `log_path`."""

    def __init__(self, role: list[str], env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        self.process = spawn([sys.executable, "-m", "smati.cli", *role], log_path, env=env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_line(self, text: str, timeout: float = 60.0) -> None:
        """Return once the log holds `text`; raise with the log's tail if not, or if it died."""

        def said() -> bool:
            self.raise_if_dead()
            return text in self.log()

        try:
            wait_until(said, timeout=timeout, what=f"{text!r} in its log", interval=0.2)
        except WaitTimeout:
            raise RuntimeError(
                f"smati {' '.join(self.role)} never said {text!r}:\n{self.log()[-4000:]}"
            ) from None

    def raise_if_dead(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise RuntimeError(
                f"smati {' '.join(self.role)} exited with {code}:\n{self.log()[-4000:]}"
            )

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (a graceful stop), SIGKILL after `timeout`; the exit code."""
        stop_process(self.process, timeout=timeout)
        return self.process.wait()
