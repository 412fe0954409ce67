"""npm packages the project pins (a package.json and its package-lock.json in a folder of
``services/``), installed with ``npm ci`` into the cache folder once.

The install folder is named after a hash of the pinned files: a change to any of them makes
a new folder, so an old install is never used. npm installs into a temporary folder that is
renamed into place at the end, so an interrupted install is never taken for a complete one.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from services._process import ServiceNotInstalledError, ServiceStartError, run_step
from services.paths import cache_dir, filling_cache_folder

__all__ = ["NpmPackages", "need_program"]


def need_program(program: str, why: str) -> str:
    """The path of `program`, or ServiceNotInstalledError saying what needs it."""
    path = shutil.which(program)
    if path is None:
        raise ServiceNotInstalledError(f"{program} is not on PATH: Node.js 20+ with npm {why}")
    return path


class NpmPackages:
    """The npm packages pinned by `files` (package.json, package-lock.json, and any file to
    install beside them) in `source_dir`; `what` names them in messages and the cache."""

    def __init__(self, source_dir: Path, files: tuple[str, ...], what: str, cache_name: str):
        self.source_dir, self.files, self.what, self.cache_name = (
            source_dir, files, what, cache_name,
        )  # fmt: skip

    def install_dir(self) -> Path:
        digest = hashlib.sha256()
        for name in self.files:
            digest.update((self.source_dir / name).read_bytes())
        return cache_dir() / f"{self.cache_name}-{digest.hexdigest()[:12]}"

    def ensure(self, *, deadline: float | None = None, log_path: Path | None = None) -> Path:
        """Install the packages with ``npm ci`` once; return the install folder."""
        target = self.install_dir()
        if target.is_dir():
            return target
        npm = need_program("npm", f"is needed for {self.what}")
        with filling_cache_folder(target) as work:
            for name in self.files:
                shutil.copy2(self.source_dir / name, work / name)
            log = log_path or work.parent / "npm.log"
            try:
                run_step(
                    [npm, "ci", "--prefix", str(work), "--ignore-scripts", "--no-audit",
                     "--no-fund", "--loglevel=error"],
                    log,
                    deadline=deadline if deadline is not None else time.monotonic() + 600.0,
                    what=f"npm ci ({self.what})",
                )  # fmt: skip
            except ServiceStartError as error:
                if log_path is None:  # the log goes away with the scratch folder: keep its text
                    raise ServiceStartError(str(error), log) from error
                raise
        return target
