"""Where downloaded artefacts (e.g. the Apache Kafka jars) are cached between runs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """Return ``$SMATI_CACHE_DIR`` or ``~/.cache/smati`` (not created here)."""
    env = os.environ.get("SMATI_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "smati"
