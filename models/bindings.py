"""Network bindings: which SMATI tenant owns each network server's application.

The Things Stack names an application by its id and its tenant id (`app@tenant` in its
MQTT topics), ChirpStack v4 by the application's UUID, the Sigfox backend by the device
type id. The registry binds each to one SMATI tenant: a network server's message is taken
only for a device of the tenant its application is bound to, and a downlink goes to the
application the device is registered in (`device_binding`).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import SmatiError
from models.registry import Device, NetworkBinding, NetworkServer, normal_application


@dataclass(frozen=True)
class DeviceBinding:
    """Where a device is on its network: what a downlink needs to reach it."""

    server: NetworkServer
    application: str
    network_tenant: str | None
    network_device_id: str
    """TTS device id, ChirpStack DevEUI, Sigfox device id."""


class NoBinding(SmatiError, LookupError):
    """A device that no network binding of the registry reaches."""


@dataclass(frozen=True)
class Bindings:
    """The registry's bindings, looked up by what a network server's message names."""

    by_key: dict[tuple[NetworkServer, str, str | None], NetworkBinding]
    by_id: dict[str, NetworkBinding]

    @classmethod
    def of(cls, bindings: tuple[NetworkBinding, ...]) -> Bindings:
        return cls({b.key: b for b in bindings}, {b.id: b for b in bindings})

    def find(
        self,
        server: NetworkServer,
        application: str,
        network_tenant: str | None = None,
        tenant: str | None = None,
    ) -> NetworkBinding | None:
        """The binding of a message's application. Without the network tenant (a TTS
        webhook's body has none), the binding of that application to `tenant`, the SMATI
        tenant that authenticated the call, or without one, its binding to whichever
        tenant, if only one tenant binds it."""
        application = normal_application(server, application)
        found = self.by_key.get((server, application, network_tenant))
        if found is not None or network_tenant is not None:
            return found
        candidates = [
            binding
            for (s, a, _), binding in self.by_key.items()
            if s is server and a == application and tenant in (None, binding.tenant)
        ]
        if len({binding.tenant for binding in candidates}) != 1:
            return None
        return candidates[0]

    def of_device(self, device: Device) -> DeviceBinding:
        """Where `device` is on its network; NoBinding when the registry does not say."""
        binding = self.by_id.get(device.binding) if device.binding else None
        if binding is None:
            raise NoBinding(f"device {device.id!r} names no network binding in the registry")
        if binding.server is NetworkServer.TTS:
            network_device_id = device.network_id or device.id
        else:
            radio_id = device.network_id or device.transceiver
            if radio_id is None:
                raise NoBinding(
                    f"device {device.id!r} has no transceiver: its {binding.server.label} "
                    "knows it by its DevEUI or Sigfox id"
                )
            network_device_id = radio_id
        return DeviceBinding(
            binding.server, binding.application, binding.network_tenant, network_device_id
        )
