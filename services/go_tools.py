"""Command-line tools built once from the Go module proxy with `go install` into the cache.

No registry reached here serves these tools as binaries; the module proxy serves their
source, which `go install` builds.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from services._process import ServiceNotInstalledError, run_step
from services.paths import cache_dir, filling_cache_folder

__all__ = ["KUSTOMIZE", "GoTool"]

# Where Go's official archive puts it; a fresh machine of this project's kind has it there.
_GO_FALLBACKS = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")


class GoTool:
    """The command `name` of the Go package `package` at `version`, built into the cache."""

    def __init__(self, name: str, package: str, version: str) -> None:
        self.name, self.package, self.version = name, package, version

    def binary(self) -> Path:
        """Where the built command is (exists only once a build completed)."""
        return cache_dir() / f"{self.name}-{self.version}" / "bin" / self.name

    def ensure(self, timeout_s: float = 600.0) -> Path:
        """Build the command once; its path. Go writes into a temporary folder renamed into
        place at the end, so an interrupted build is never taken for a complete one."""
        binary = self.binary()
        if binary.exists():
            return binary
        go = _go()
        with filling_cache_folder(binary.parent) as out:
            run_step(
                [go, "install", f"{self.package}@v{self.version}"],
                binary.parent.parent / "go-install.log",
                deadline=time.monotonic() + timeout_s,
                what=f"go install {self.name} v{self.version}",
                env={**os.environ, "GOBIN": str(out), "GOFLAGS": "-mod=mod"},
            )
        return binary


def _go() -> str:
    found = shutil.which("go") or next((p for p in _GO_FALLBACKS if Path(p).exists()), None)
    if found is None:
        raise ServiceNotInstalledError("Go is needed once to build the k8s tools: see README")
    return found


#: Later versions need Go 1.27 and a dependency the module proxy does not serve.
KUSTOMIZE = GoTool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "5.8.2")

if __name__ == "__main__":
    print(KUSTOMIZE.ensure())
