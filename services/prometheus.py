"""Prometheus (Debian's `prometheus` package) scraping SMATI's processes, with the
platform's rules loaded: the tests query every dashboard panel through its HTTP API."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from services._process import Service, ServiceError, ServiceNotInstalledError, spawn
from services.ports import free_port

__all__ = ["PrometheusServer"]


class PrometheusServer(Service):
    """Prometheus on a free loopback port, scraping `targets` (job -> `host:port` list)
    every `scrape_interval_s`, evaluating `rule_files` as often."""

    name = "prometheus"
    log_name = "prometheus.log"

    def __init__(
        self,
        targets: Mapping[str, Sequence[str]],
        rule_files: Sequence[Path] = (),
        scrape_interval_s: float = 1.0,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.targets, self.rule_files = targets, rule_files
        self.scrape_interval_s = scrape_interval_s

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.started_port()}"

    def describe(self) -> str:
        return f"{self.url}, dir {self.base_dir}"

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The samples (`metric`, `value`: [time, text]) `promql` gives now; a scalar as
        one sample without labels."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise ServiceError(f"Prometheus refused {promql!r}: {error.read().decode()}") from None
        data = answer["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def _start(self, deadline: float) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise ServiceNotInstalledError("prometheus not found: run `make setup`")
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-prometheus-"))
        self.port = free_port(self.host)
        config = self.base_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self._config()))
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.base_dir / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
        ]
        assert self.log_path is not None
        self._proc = spawn(argv, self.log_path)
        self._wait_ready(self._ready, deadline=deadline, log_path=self.log_path, interval=0.2)

    def _config(self) -> dict[str, Any]:
        interval = f"{self.scrape_interval_s:g}s"
        return {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(path.resolve()) for path in self.rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(addresses)}]}
                for job, addresses in self.targets.items()
            ],
        }

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False
