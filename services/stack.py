"""All services of the pipeline at once: PostgreSQL, MQTT and a Kafka broker."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any, Literal, Self

from services._process import Service
from services.kafka import ApacheKafka, kafka_libs_dir
from services.mqtt import MqttBroker
from services.postgres import PostgresServer
from services.tansu import TansuBroker

__all__ = ["BrokerChoice", "ServiceStack"]

BrokerChoice = Literal["auto", "apache", "tansu"]
log = logging.getLogger("services.stack")


def _sigterm_to_exit(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so that ``with``/``finally`` blocks stop the children."""
    raise SystemExit(128 + signum)


class ServiceStack:
    """Start PostgreSQL, MQTT and Kafka in parallel; stop them in reverse order.

    ``broker``: ``"apache"`` (Apache Kafka), ``"tansu"`` (Tansu, no Java, memory only) or
    ``"auto"`` (Apache Kafka when ``java`` is on PATH and its jars are cached or ``mvn`` can
    fetch them, else Tansu). If ``SMATI_KAFKA_BOOTSTRAP`` is set, that cluster is used and no
    broker is started (``kafka_kind == "external"``); ``SMATI_DATABASE_URL`` and
    ``SMATI_MQTT_URL`` likewise replace the local PostgreSQL and Mosquitto.

    While running, and unless the caller installed its own handler, SIGTERM raises SystemExit
    in the main thread, so that ``kill PID`` stops the services as Ctrl-C does.
    """

    def __init__(self, broker: BrokerChoice = "auto", *, use_env: bool = True) -> None:
        self.postgres = PostgresServer(use_env=use_env)
        self.mqtt = MqttBroker(use_env=use_env)
        self.kafka: ApacheKafka | TansuBroker | None
        external = os.environ.get("SMATI_KAFKA_BOOTSTRAP") if use_env else None
        self._external_bootstrap = external
        if external:
            self.kafka_kind: str = "external"
            self.kafka = None
        else:
            if broker == "auto":
                has_jars = kafka_libs_dir().is_dir() or shutil.which("mvn") is not None
                broker = "apache" if shutil.which("java") and has_jars else "tansu"
            self.kafka_kind = broker
            self.kafka = ApacheKafka() if broker == "apache" else TansuBroker()
        #: Startup seconds of each started service, by service name.
        self.startup_s: dict[str, float] = {}
        self._previous_sigterm: Any = None
        self._sigterm_installed = False

    @property
    def services(self) -> list[Service]:
        """The managed services in start order."""
        return [s for s in (self.postgres, self.mqtt, self.kafka) if s is not None]

    @property
    def kafka_bootstrap(self) -> str:
        """``bootstrap.servers`` of the Kafka cluster."""
        if self.kafka is None:
            assert self._external_bootstrap is not None
            return self._external_bootstrap
        return self.kafka.bootstrap

    @property
    def database_url(self) -> str:
        """libpq URL of the ``smati`` database."""
        return self.postgres.url

    @property
    def mqtt_url(self) -> str:
        """``mqtt://host:port`` of the MQTT broker."""
        return self.mqtt.url

    def env(self) -> dict[str, str]:
        """Environment variables pointing child processes at these services."""
        return {
            "SMATI_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SMATI_DATABASE_URL": self.database_url,
            "SMATI_MQTT_URL": self.mqtt_url,
        }

    def start(self) -> Self:
        """Start every service (in parallel threads); on any failure stop them all and raise."""
        self._install_sigterm()
        began = time.monotonic()
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        self.startup_s = {s.name: s.startup_s or 0.0 for s in self.services}
        log.info(
            "stack ready in %.2f s (kafka: %s %s, %s)",
            time.monotonic() - began,
            self.kafka_kind,
            self.kafka_bootstrap,
            ", ".join(f"{name} {secs:.2f} s" for name, secs in self.startup_s.items()),
        )
        return self

    def _start_all(self) -> None:
        errors: list[BaseException] = []

        def run(service: Service) -> None:
            try:
                service.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(s,), name=f"start-{s.name}", daemon=True)
            for s in self.services
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:  # Ctrl-C or SIGTERM while waiting: abandon the other starts
            for service in self.services:
                service.cancel()
            for thread in threads:
                thread.join()
            raise
        if errors:
            for extra in errors[1:]:
                log.error("another service failed to start too: %s", extra)
            raise errors[0]

    def stop(self) -> None:
        """Stop all services in reverse start order, continuing past errors."""
        self._restore_sigterm()
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s failed", service.name)

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        current = signal.getsignal(signal.SIGTERM)
        if current in (signal.SIG_DFL, None):
            self._previous_sigterm = current
            signal.signal(signal.SIGTERM, _sigterm_to_exit)
            self._sigterm_installed = True

    def _restore_sigterm(self) -> None:
        if self._sigterm_installed and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm or signal.SIG_DFL)
            self._sigterm_installed = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
