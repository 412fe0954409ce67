"""MQTT topic templates: `smati/devices/{device_id}/up` -> the filter to subscribe and the id."""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = "{device_id}"


@dataclass(frozen=True)
class TopicTemplate:
    """One topic template with `{device_id}` standing for a whole topic level."""

    template: str

    def __post_init__(self) -> None:
        levels = self.template.split("/")
        if levels.count(PLACEHOLDER) != 1:
            raise ValueError(f"topic template {self.template!r} needs one level '{PLACEHOLDER}'")
        if any(level in ("#",) for level in levels[:-1]):
            raise ValueError(f"topic template {self.template!r}: '#' only as the last level")

    @property
    def subscription(self) -> str:
        return self.template.replace(PLACEHOLDER, "+")

    @property
    def catch_all(self) -> str:
        """The filter of every topic below the levels before `{device_id}`: subscribed
        instead of `subscription`, so that a topic whose device id holds a `/` reaches the
        connector (and becomes a dead letter) rather than no subscriber."""
        levels = self.template.split("/")
        return "/".join([*levels[: levels.index(PLACEHOLDER)], "#"])

    def topic(self, device_id: str) -> str:
        """The topic a device of that id publishes to."""
        return self.template.replace(PLACEHOLDER, device_id)

    def device_id(self, topic: str) -> str | None:
        """The device id in `topic`, or None when the topic does not match the template."""
        match = re.match(self._pattern("[^/]+"), topic)
        return match.group("device_id") if match else None

    def misplaced(self, topic: str) -> bool:
        """Whether `topic` would match but for its device id level, empty or holding a `/`
        (a device named `a/b` publishing to `smati/devices/a/b/up`)."""
        return self.device_id(topic) is None and re.match(self._pattern(".*"), topic) is not None

    def _pattern(self, device_id: str) -> str:
        levels = self.template.split("/")
        pattern = "/".join(_level_pattern(level, device_id) for level in levels if level != "#")
        if levels[-1] == "#":  # '#' also matches the parent level itself
            pattern += "(/.*)?"
        return f"^{pattern}$"


def _level_pattern(level: str, device_id: str) -> str:
    if level == PLACEHOLDER:
        return f"(?P<device_id>{device_id})"
    if level == "+":
        return "[^/]+"
    return re.escape(level)


DEFAULT_TEMPLATES = {
    "mqtt": "smati/devices/{device_id}/up",
    "tts": "v3/+/devices/{device_id}/up",
    "chirpstack": "application/+/device/{device_id}/event/up",
}
"""The topic of each source's uplinks: The Things Stack publishes
`v3/{application id}@{tenant id}/devices/{device id}/up`, ChirpStack v4
`application/{application id}/device/{dev eui}/event/up`."""
