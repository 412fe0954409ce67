"""Whose device a raw uplink is: the one place that decides a message's tenant and device.

A device's own MQTT message is its topic's device (the broker's ACL decides who may
publish there: `models.mqtt_acl`). A network server's message names its device twice, in
its topic (or the webhook's body) and in its body, and its application, which the
registry binds to one tenant (`models.bindings`): both names must agree, the application
must be bound (to the tenant whose secret a webhook call carried, if any), and the device
must be that tenant's. Anything else is refused before a reading or a frame counter of
any device is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.dead_letter import RejectCode, Rejection
from models.lorawan import topic_application
from models.radio import RadioFrame
from models.registry import NetworkBinding, NetworkServer
from models.uplink import RawUplink

if TYPE_CHECKING:  # models.validation decodes what this module identifies
    from models.validation import DeviceEntry, DeviceIndex


def identify(
    uplink: RawUplink, frame: RadioFrame | None, index: DeviceIndex
) -> DeviceEntry | Rejection:
    """The registered device (and its channels' usages) the uplink may write to, or why not."""
    caller = uplink.metadata.get("tenant")
    if frame is None:
        return _owned(index.find(uplink.device_id), uplink.device_id, caller)
    topic = topic_application(uplink.source, str(uplink.metadata.get("topic", "")))
    mismatch = _mismatch(uplink.device_id, frame, topic)
    if mismatch is not None:
        return Rejection(code=RejectCode.DEVICE_MISMATCH, reason=mismatch)
    network_tenant = frame.network_tenant or (topic[1] if topic else None)
    binding = _binding(NetworkServer(uplink.source), frame, network_tenant, caller, index)
    if isinstance(binding, Rejection):
        return binding
    found = index.find_on_network(frame.dev_eui, frame.network_id, binding.id)
    return _owned(found, uplink.device_id, binding.tenant)


def _owned(entry: DeviceEntry | None, name: str, tenant: str | None) -> DeviceEntry | Rejection:
    if entry is None:
        reason = f"unknown device {name!r}: not in the registry"
        return Rejection(code=RejectCode.UNKNOWN_DEVICE, reason=reason)
    if tenant is not None and entry[0].tenant != tenant:
        reason = f"device {name!r} is not registered for tenant {tenant!r}"
        return Rejection(code=RejectCode.UNKNOWN_DEVICE, reason=reason)
    return entry


def _mismatch(
    device_id: str, frame: RadioFrame, topic: tuple[str, str | None] | None
) -> str | None:
    """Why the topic's device (a webhook's: the body's) or the topic's application and
    tenant are not the body's; None when they agree."""
    names = {frame.network_id.upper(), (frame.dev_eui or "").upper()}
    if device_id.upper() not in names:
        return f"the topic names device {device_id!r}, the message's body {frame.network_id!r}"
    if topic is None:
        return None
    application, network_tenant = topic
    if application.lower() != (frame.application or "").lower():
        return (
            f"the topic names application {application!r}, the message's body {frame.application!r}"
        )
    named_tenants = {network_tenant, frame.network_tenant}
    if None not in named_tenants and len(named_tenants) > 1:
        return (
            f"the topic names tenant {network_tenant!r}, the message's body "
            f"{frame.network_tenant!r}"
        )
    return None


def _binding(
    server: NetworkServer,
    frame: RadioFrame,
    network_tenant: str | None,
    caller: str | None,
    index: DeviceIndex,
) -> NetworkBinding | Rejection:
    """The binding of the frame's application; refused when there is none, or when it is
    another tenant's than the webhook caller's."""
    if frame.application is None:
        reason = f"the message names no {server.label}: the registry binds them to tenants"
        return Rejection(code=RejectCode.UNBOUND_APPLICATION, reason=reason)
    binding = index.bindings.find(server, frame.application, network_tenant, caller)
    at = f"@{network_tenant}" if network_tenant else ""
    what = f"{server.label} {frame.application!r}{at}"
    if binding is None:
        reason = f"{what} is bound to no tenant{f' {caller!r}' if caller else ''} in the registry"
        return Rejection(code=RejectCode.UNBOUND_APPLICATION, reason=reason)
    if caller is not None and binding.tenant != caller:
        reason = f"{what} is not bound to tenant {caller!r}"
        return Rejection(code=RejectCode.UNBOUND_APPLICATION, reason=reason)
    return binding
