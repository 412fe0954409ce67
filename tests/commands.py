"""`smati` run as an operator runs it: a subprocess, its output captured."""

from __future__ import annotations

import os
import subprocess
import sys


def smati(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`smati ARGS` with these environment variables on top of the tests' own."""
    return subprocess.run(
        [sys.executable, "-m", "smati.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
