"""Where downloaded artefacts (e.g. the Apache Kafka jars) are cached between runs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["cache_dir", "filling_cache_folder"]


def cache_dir() -> Path:
    """Return ``$SMATI_CACHE_DIR`` or ``~/.cache/smati`` (not created here)."""
    env = os.environ.get("SMATI_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "smati"


@contextmanager
def filling_cache_folder(target: Path) -> Iterator[Path]:
    """An empty folder to fill; renamed to `target` only if the block completes.

    So an interrupted download or install is never taken for a complete one. The folder's
    parent is a scratch folder for what must not be kept (a pom, a log). If another process
    filled `target` meanwhile, theirs is kept.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        work = Path(tmp) / target.name
        work.mkdir()
        yield work
        try:
            work.rename(target)
        except OSError:
            if not target.is_dir():
                raise
