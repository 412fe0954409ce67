"""MQTT broker: an existing one from ``SMATI_MQTT_URL``, or a private Mosquitto."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services._process import Service, ServiceNotInstalledError, spawn, stop_process
from services.ports import free_port, port_is_open
from services.waiting import WaitTimeout, wait_until

__all__ = ["MOSQUITTO_CONF", "MqttAccess", "MqttBroker", "mqtt_answers", "write_password_file"]

PASSWORD_FILE, ACL_FILE = "passwords", "acl"
#: The broker settings SMATI needs, shared with the compose stack's Mosquitto.
MOSQUITTO_CONF = Path(__file__).with_name("mosquitto.conf")


@dataclass(frozen=True)
class MqttAccess:
    """Mosquitto's access control: the password file and ACL in `folder` (written by
    `smati mqtt credentials`), and a user of theirs to probe the broker with."""

    folder: Path
    user: str
    password: str

    def config_lines(self) -> list[str]:
        return [
            "allow_anonymous false",
            f"password_file {self.folder / PASSWORD_FILE}",
            f"acl_file {self.folder / ACL_FILE}",
        ]


def write_password_file(path: Path, passwords: dict[str, str]) -> None:
    """Mosquitto's password file for these users, hashed by Mosquitto's own
    `mosquitto_passwd` (the plain text exists only until it has hashed it, readable by
    its owner alone)."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise ServiceNotInstalledError("mosquitto_passwd not found: install mosquitto")
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{user}:{password}\n" for user, password in passwords.items()))
    subprocess.run([tool, "-U", str(path)], check=True, capture_output=True)


def mqtt_answers(
    host: str, port: int, timeout: float = 2.0, access: MqttAccess | None = None
) -> bool:
    """Whether an MQTT CONNECT to ``host:port`` is accepted (CONNACK success)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"smati-probe-{uuid.uuid4().hex[:8]}"
    )
    if access is not None:
        client.username_pw_set(access.user, access.password)
    try:
        client.connect(host, port, keepalive=10)

        def connected() -> bool:
            client.loop(timeout=0.05)  # reads the CONNACK, if it came
            return client.is_connected()

        try:
            return wait_until(connected, timeout=timeout, what="MQTT CONNACK", interval=0)
        except WaitTimeout:
            return False
    finally:
        client.disconnect()


class MqttBroker(Service):
    """MQTT broker for tests and the demo.

    With ``use_env`` and ``SMATI_MQTT_URL`` (``mqtt://host:port``) set, that broker is used
    and start()/stop() do nothing. Otherwise Mosquitto runs on a free loopback port,
    without persistence: anonymous, or with ``access``'s users and ACL.
    """

    name = "mqtt"
    log_name = "mosquitto.log"

    def __init__(
        self,
        *,
        use_env: bool = True,
        startup_timeout: float = 30.0,
        access: MqttAccess | None = None,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.access = access
        self._argv: list[str] = []
        self.external_url = os.environ.get("SMATI_MQTT_URL") if use_env else None
        if self.external_url:
            parts = urlsplit(self.external_url)
            self.host = parts.hostname or "127.0.0.1"
            self.port = parts.port or 1883

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.started_port()}"

    def describe(self) -> str:
        return f"external {self.url}" if self.external_url else f"{self.url}, dir {self.base_dir}"

    def _start(self, deadline: float) -> None:
        if self.external_url:
            return
        mosquitto = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
            None,
        )
        if mosquitto is None:
            raise ServiceNotInstalledError("mosquitto not found: run `make setup`")
        self.base_dir = Path(tempfile.mkdtemp(prefix="smati-mqtt-"))
        self.port = free_port(self.host)
        lines = [
            f"listener {self.port} {self.host}",
            *(self.access.config_lines() if self.access else ["allow_anonymous true"]),
            "persistence false",
            MOSQUITTO_CONF.read_text(),
        ]
        if os.geteuid() == 0:
            # Otherwise Mosquitto switches to the `mosquitto` user, and changing uid clears
            # the parent-death signal: it would survive us if we were killed.
            lines.append("user root")
        config = self.base_dir / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        self._argv = [mosquitto, "-c", str(config)]
        self._launch(deadline)

    def restart(self) -> None:
        """Stop Mosquitto and start it again on the same port: clients see the broker go away
        and come back, with every session lost (persistence is off)."""
        if self._proc is None:
            raise RuntimeError("MqttBroker is not started (or is external)")
        stop_process(self._proc, signal.SIGTERM, logger=self.log)
        began = time.monotonic()
        self._launch(began + self.startup_timeout)
        self.log.info("mqtt restarted in %.2f s", time.monotonic() - began)

    def _launch(self, deadline: float) -> None:
        log_path, port = self.log_path, self.port
        assert log_path is not None and port is not None
        self._proc = spawn(self._argv, log_path)

        def answers() -> bool:
            return port_is_open(self.host, port) and mqtt_answers(
                self.host, port, access=self.access
            )

        self._wait_ready(answers, deadline=deadline, log_path=log_path, interval=0.05)
