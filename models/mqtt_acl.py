"""Mosquitto's access control list, generated from the registry: MQTT tenants kept apart.

Each tenant connects with a user of its own, named after it, and may publish only the
uplink topics of its own devices (the topic templates, `{device_id}` filled in); the
connector's user reads every uplink topic. A tenant's credentials therefore cannot write
into another tenant's devices, nor read anyone's. LoRaWAN and Sigfox devices reach SMATI
through their network server, not as MQTT publishers: they get no topic.
"""

from __future__ import annotations

from collections.abc import Callable

from models.errors import SmatiError
from models.registry import Device, Network, Registry


class NotATopicLevel(SmatiError, ValueError):
    """A device or tenant id that cannot stand in an MQTT topic or an ACL line."""


def acl_file(
    registry: Registry,
    connector_user: str,
    read_filters: list[str],
    uplink_topics: Callable[[str], list[str]],
) -> str:
    """The ACL file's text (Mosquitto's `acl_file` format): the connector reads
    `read_filters`, each tenant writes the `uplink_topics` of its devices' ids."""
    lines = [
        "# Generated from the SMATI registry (smati mqtt credentials): do not edit.",
        f"user {_level(connector_user, 'user')}",
        *(f"topic read {topic_filter}" for topic_filter in read_filters),
    ]
    publishers = _mqtt_publishers(registry)
    for tenant in registry.tenants:
        lines += ["", f"user {_level(tenant.id, 'tenant id')}"]
        lines += [
            f"topic write {topic}"
            for device in publishers
            if device.tenant == tenant.id
            for topic in uplink_topics(_level(device.id, "device id"))
        ]
    return "\n".join(lines) + "\n"


def _mqtt_publishers(registry: Registry) -> list[Device]:
    """Devices that publish over MQTT themselves: no transceiver, or an MQTT one."""
    radios = {t.id for t in registry.transceivers if t.network is not Network.MQTT}
    return [device for device in registry.devices if device.transceiver not in radios]


def _level(identifier: str, what: str) -> str:
    """`identifier`, if it can be one topic level (and one word of an ACL line)."""
    if not identifier or any(char in identifier for char in "/+#\0 \t\n"):
        raise NotATopicLevel(
            f"{what} {identifier!r} cannot be an MQTT topic level: no '/', '+', '#' or space"
        )
    return identifier
