"""Devices publishing the fleet's readings over MQTT, QoS 1, as fast as the pipeline takes them.

Readings are published in time order, every usage once per step, so the expected set is
known from the count alone (`expected_readings`). The publisher holds back while more
than `max_backlog` readings are published but not yet committed by the workers: the
soak is about faults, not about how much Mosquitto or Kafka can queue.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.fleet import device_id, payload
from services.waiting import wait_until

CHUNK = 1000
"""Messages published before waiting for the broker to confirm them all."""


def fleet_readings(
    readings: int, usages: int, start: datetime, period_s: float
) -> Iterator[tuple[int, datetime, float]]:
    """(device number, time, value) of the soak's readings in publication order: step by
    step, every device once a step, `period_s` apart."""
    for k in range(readings):
        step, n = divmod(k, usages)
        yield n, start + timedelta(seconds=step * period_s), 20.0 + (n * 7 + step) % 10


def history_start(readings: int, usages: int, period_s: float) -> datetime:
    """When the soak's history begins, so that its last step is about now."""
    steps = -(-readings // usages)
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=steps * period_s)


class Publisher(threading.Thread):
    """Publishes the readings, each in its own message on its device's uplink topic."""

    def __init__(
        self,
        mqtt_url: str,
        topic_template: str,
        readings: Iterator[tuple[int, datetime, float]],
        in_flight: Callable[[int], int],
        max_backlog: int,
    ) -> None:
        super().__init__(name="soak-publisher", daemon=True)
        self._readings, self._in_flight, self._max_backlog = readings, in_flight, max_backlog
        self._topic_template = topic_template
        self.sent = 0
        self.error: BaseException | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"soak-devices-{uuid.uuid4().hex[:8]}"
        )
        self.client.max_inflight_messages_set(CHUNK)
        address = urlsplit(mqtt_url)
        self.client.connect(address.hostname or "127.0.0.1", address.port or 1883)

    def run(self) -> None:
        self.client.loop_start()
        try:
            self._publish_all()
        except BaseException as error:  # handed to the soak's loop, which raises it
            self.error = error
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    def _publish_all(self) -> None:
        infos: list[mqtt.MQTTMessageInfo] = []
        for n, at, value in self._readings:
            topic = self._topic_template.format(device_id=device_id(n))
            infos.append(self.client.publish(topic, payload(at, value), qos=1))
            if len(infos) == CHUNK:
                self._confirm(infos)
        self._confirm(infos)

    def _confirm(self, infos: list[mqtt.MQTTMessageInfo]) -> None:
        for info in infos:
            info.wait_for_publish(timeout=60)
            if not info.is_published():
                raise RuntimeError(f"Mosquitto did not confirm message {info.mid} within 60 s")
        self.sent += len(infos)
        infos.clear()
        wait_until(
            lambda: self._in_flight(self.sent) < self._max_backlog,
            timeout=900,
            what=f"the workers to commit all but {self._max_backlog} of the readings sent",
            interval=0.05,
        )
