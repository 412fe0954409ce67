"""Prometheus Alertmanager: built once with `go install` into the cache folder, then run on
a free loopback port with its own data folder.

Debian's package (0.25) lacks the Microsoft Teams Workflows receiver (`msteamsv2_configs`)
and the project's version is not served as a binary by any registry reached here: the Go
module proxy serves its source, which `go install` builds in about 2.5 minutes the first
time (v0.35.0 does not build from the module: its web assets are not in it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import yaml

from services._process import Service, ServiceNotInstalledError, ServiceStartError, spawn
from services.paths import cache_dir, filling_cache_folder
from services.ports import free_port

__all__ = [
    "ALERTMANAGER_VERSION",
    "Alertmanager",
    "alertmanager_bin_dir",
    "check_config",
    "ensure_alertmanager",
    "go_binary",
]

ALERTMANAGER_VERSION = "0.31.1"
_MODULE = "github.com/prometheus/alertmanager"
_COMMANDS = ("alertmanager", "amtool")
# Where Go's official archive puts it; a fresh machine of this project's kind has it there.
_GO_FALLBACKS = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")


def alertmanager_bin_dir() -> Path:
    """Folder holding `alertmanager` and `amtool` (exists only once the build completed)."""
    return cache_dir() / f"alertmanager-{ALERTMANAGER_VERSION}" / "bin"


def go_binary() -> str:
    """The `go` command: on PATH, else where Go's archive or Debian put it."""
    found = shutil.which("go") or next((p for p in _GO_FALLBACKS if Path(p).exists()), None)
    if found is None:
        raise ServiceNotInstalledError(
            f"Go is needed once to build Alertmanager {ALERTMANAGER_VERSION}: run `make setup`"
        )
    return found


def ensure_alertmanager(timeout: float = 900.0) -> Path:
    """Build `alertmanager` and `amtool` once with `go install`; return their folder.

    Go writes into a temporary folder renamed into place at the end, so an interrupted
    build is never taken for a complete one.
    """
    bin_dir = alertmanager_bin_dir()
    if (bin_dir / "alertmanager").exists():
        return bin_dir
    go = go_binary()
    with filling_cache_folder(bin_dir) as out:
        packages = [f"{_MODULE}/cmd/{cmd}@v{ALERTMANAGER_VERSION}" for cmd in _COMMANDS]
        env = {**os.environ, "GOBIN": str(out)}
        try:
            result = subprocess.run(
                [go, "install", *packages], capture_output=True, text=True, env=env, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise ServiceStartError(f"building Alertmanager took over {timeout:.0f} s") from None
        if result.returncode != 0 or not (out / "alertmanager").exists():
            raise ServiceStartError(
                f"building Alertmanager with `go install` failed ({result.returncode}):\n"
                + "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            )
    return bin_dir


class Alertmanager(Service):
    """Alertmanager on a free loopback port, clustering off, data in a temporary folder.

    `config` is Alertmanager's configuration as a dict (see `models.alerting.config`),
    written to `config_path`, which a POST to `/-/reload` makes it read again.
    """

    name = "alertmanager"
    log_name = "alertmanager.log"

    def __init__(self, config: dict[str, Any], *, startup_timeout: float = 60.0) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.config = config

    @property
    def url(self) -> str:
        """`http://host:port` of its API and UI."""
        return f"http://{self.host}:{self.started_port()}"

    @property
    def config_path(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("Alertmanager is not started")
        return self.base_dir / "alertmanager.yml"

    def describe(self) -> str:
        return f"{self.url}, dir {self.base_dir}"

    def _start(self, deadline: float) -> None:
        binary = ensure_alertmanager() / "alertmanager"
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-alertmanager-"))
        self.port = free_port(self.host)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        argv = [
            str(binary),
            f"--config.file={self.config_path}",
            f"--storage.path={self.base_dir / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            "--cluster.listen-address=",  # a single instance: no gossip port
        ]
        log_path = self.log_path
        assert log_path is not None
        self._proc = spawn(argv, log_path)
        self._wait_ready(self._answers, deadline=deadline, log_path=log_path)

    def _answers(self) -> bool:
        return httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200


def check_config(path: Path) -> str:
    """`amtool check-config` on a configuration file: its report, or raise with it."""
    amtool = ensure_alertmanager() / "amtool"
    result = subprocess.run(
        [str(amtool), "check-config", str(path)], capture_output=True, text=True, timeout=60
    )
    report = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise ServiceStartError(f"amtool check-config refused {path}:\n{report}")
    return report
