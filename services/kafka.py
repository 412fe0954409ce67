"""Apache Kafka 4.1.1, single node in KRaft mode, run from jars fetched from Maven Central."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from services._process import (
    Service,
    ServiceNotInstalledError,
    ServiceStartError,
    run_step,
    spawn,
    stop_process,
)
from services.paths import cache_dir, filling_cache_folder
from services.ports import free_ports, port_is_open

__all__ = ["KAFKA_VERSION", "ApacheKafka", "ensure_kafka_jars", "kafka_libs_dir"]

KAFKA_VERSION = "4.1.1"
#: The log4j version Kafka 4.1.1 depends on; the SLF4J 1.7 binding must match it.
LOG4J_VERSION = "2.24.3"

_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>smati</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <!-- Kafka logs through SLF4J 1.7 and ships no binding: without this, no broker log. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
"""


def kafka_libs_dir() -> Path:
    """Folder holding the Kafka jars (exists only once the download completed)."""
    return cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_kafka_jars(timeout: float = 600.0) -> Path:
    """Download Kafka and its runtime dependencies with Maven once; return the jar folder.

    Maven writes into a temporary folder that is renamed into place at the end, so an
    interrupted download is never mistaken for a complete one.
    """
    libs = kafka_libs_dir()
    if libs.is_dir():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceNotInstalledError(
            f"Maven (mvn) is needed once to download Apache Kafka {KAFKA_VERSION} into "
            f"{libs}: run `make setup`"
        )
    with filling_cache_folder(libs) as out:
        pom = out.parent / "pom.xml"
        pom.write_text(_POM)
        argv = [
            mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={out}",
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0 or not any(out.glob("kafka_2.13-*.jar")):
            raise ServiceStartError(
                f"downloading Kafka jars with Maven failed ({result.returncode}):\n"
                + "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            )
    return libs


def _cluster_id() -> str:
    """A random cluster id like ``kafka-storage random-uuid`` (saves one JVM start)."""
    while True:
        value = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not value.startswith("-"):  # Kafka rejects ids that look like CLI options
            return value


class ApacheKafka(Service):
    """Apache Kafka single node (broker + KRaft controller) on free loopback ports.

    Data lives in a fresh temp dir removed by stop(); restart() keeps data and ports.
    ``properties`` adds to or overrides the server.properties written here.
    """

    name = "kafka"
    log_name = "kafka.log"

    def __init__(
        self,
        *,
        heap: str = "512m",
        properties: dict[str, str] | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.heap = heap
        self.extra_properties = dict(properties or {})
        self.controller_port: int | None = None
        self._java = "java"
        self._libs = kafka_libs_dir()

    @property
    def bootstrap(self) -> str:
        """``bootstrap.servers`` for clients, e.g. ``127.0.0.1:40123``."""
        return f"{self.host}:{self.started_port()}"

    def describe(self) -> str:
        return f"bootstrap {self.bootstrap}, data {self.base_dir}"

    def restart(self) -> None:
        """Stop the broker process (SIGTERM) and start it again on the same data and ports."""
        if self.base_dir is None or self._proc is None:
            raise RuntimeError("ApacheKafka is not started")
        stop_process(self._proc, logger=self.log)
        self._proc = None
        self._cancel.clear()
        began = time.monotonic()
        try:
            self._launch(began + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - began
        self.log.info("kafka restarted in %.2f s (%s)", self.startup_s, self.describe())

    def _start(self, deadline: float) -> None:
        libs = ensure_kafka_jars()
        java = shutil.which("java")
        if java is None:
            raise ServiceNotInstalledError("java is not on PATH (Java 17+): run `make setup`")
        self._java, self._libs = java, libs
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-kafka-"))
        self.port, self.controller_port = free_ports(2, self.host)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{self.host}:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.base_dir / "data"),
            "num.partitions": "4",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            "log.segment.bytes": str(16 * 1024 * 1024),
            "offsets.topic.replication.factor": "1",
            # Fewer partitions than the default 50: the group coordinator loads faster.
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            **self.extra_properties,
        }
        config = self.base_dir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.base_dir / "log4j2.properties").write_text(_LOG4J2)
        assert self.log_path is not None
        # --standalone makes this node the single voter; controller.quorum.voters must
        # then stay unset.
        run_step(
            [self._java, *self._java_args(), "kafka.tools.StorageTool", "format",
             "-t", _cluster_id(), "-c", str(config), "--standalone"],
            self.log_path, deadline=deadline, what="kafka storage format", cancel=self._cancel,
        )  # fmt: skip
        self._launch(deadline)

    def _java_args(self) -> list[str]:
        """Logging config and class path, shared by the storage tool and the broker."""
        assert self.base_dir is not None
        return [
            f"-Dlog4j2.configurationFile={self.base_dir / 'log4j2.properties'}",
            "-cp",
            f"{self._libs}/*",
        ]

    def _launch(self, deadline: float) -> None:
        assert self.base_dir is not None and self.log_path is not None
        argv = [
            self._java,
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            *self._java_args(),
            "kafka.Kafka",
            str(self.base_dir / "server.properties"),
        ]
        self._proc = spawn(argv, self.log_path, cwd=self.base_dir)
        admin: AdminClient | None = None

        def answers() -> bool:
            nonlocal admin
            # A TCP probe first: librdkafka logs every refused connection to stderr.
            if not port_is_open(self.host, self.port or 0):
                return False
            if admin is None:
                admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
            metadata: Any = admin.list_topics(timeout=2)
            return bool(metadata.brokers)

        self._wait_ready(answers, deadline=deadline, log_path=self.log_path)
