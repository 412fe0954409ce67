"""From a raw uplink to checked readings: device lookup, codec, units, value and time checks.

Pure: the registry index and the clock are passed in. Each bad value is rejected on its
own, so one NaN channel does not lose the good channels of the same uplink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from models.codecs import ChannelValue, DecodeError, codec_for
from models.dead_letter import RejectCode, Rejection
from models.reading import QualityFlag, Reading
from models.registry import Device, Registry, UsageRef
from models.units import UnitError, canonical, convert
from models.uplink import RawUplink


@dataclass(frozen=True)
class TimePolicy:
    """How far in the future or the past a reading's time may be, relative to reception."""

    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=400)


@dataclass(frozen=True)
class DeviceIndex:
    """The registry as the decoder needs it: device id -> device and its channels' usages."""

    devices: dict[str, tuple[Device, dict[str, UsageRef]]]

    @classmethod
    def of(cls, registry: Registry) -> DeviceIndex:
        usages = {ref.usage.id: ref for ref in registry.usage_refs()}
        return cls(
            {
                device.id: (device, {ch: usages[u] for ch, u in device.channels.items()})
                for device in registry.devices
            }
        )


@dataclass
class Decoded:
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def decode_uplink(
    uplink: RawUplink, origin: str, index: DeviceIndex, policy: TimePolicy = TimePolicy()
) -> Decoded:
    """Readings of every good channel value; a rejection for the uplink or each bad value."""
    entry = index.devices.get(uplink.device_id)
    if entry is None:
        reason = f"unknown device {uplink.device_id!r}: not in the registry"
        return Decoded(rejections=[Rejection(code=RejectCode.UNKNOWN_DEVICE, reason=reason)])
    device, channels = entry
    try:
        values = codec_for(device.model)(uplink.payload, uplink.received_at)
    except DecodeError as error:
        reason = f"{device.model} payload: {error}"
        return Decoded(rejections=[Rejection(code=RejectCode.MALFORMED_PAYLOAD, reason=reason)])
    decoded = Decoded()
    for value in values:
        ref = channels.get(value.channel)
        if ref is None:
            reason = f"device {device.id!r} has no channel {value.channel!r}"
            decoded.rejections.append(
                Rejection(code=RejectCode.UNKNOWN_CHANNEL, reason=reason, channel=value.channel)
            )
            continue
        try:
            decoded.readings.append(_reading(uplink, origin, ref, value, policy))
        except _Refused as refused:
            decoded.rejections.append(
                Rejection(
                    code=refused.code,
                    reason=str(refused),
                    channel=value.channel,
                    usage_id=ref.usage.id,
                )
            )
    return decoded


class _Refused(ValueError):
    def __init__(self, code: RejectCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def _reading(
    uplink: RawUplink, origin: str, ref: UsageRef, value: ChannelValue, policy: TimePolicy
) -> Reading:
    usage = ref.usage
    if not math.isfinite(value.value):
        raise _Refused(RejectCode.INVALID_VALUE, f"{usage.id}: value is {value.value}")
    number, flags = value.value, tuple[QualityFlag, ...]()
    if value.unit is not None and canonical(value.unit) != canonical(usage.unit):
        try:
            number = convert(value.value, value.unit, usage.unit)
        except UnitError as error:
            raise _Refused(RejectCode.WRONG_UNIT, f"{usage.id}: {error}") from None
        flags = (QualityFlag.CONVERTED_UNIT,)
    if value.ts > uplink.received_at + policy.max_future:
        raise _Refused(
            RejectCode.FUTURE_TIMESTAMP,
            f"{usage.id}: time {value.ts.isoformat()} is after reception "
            f"{uplink.received_at.isoformat()} by more than {policy.max_future}",
        )
    if value.ts < uplink.received_at - policy.max_age:
        raise _Refused(
            RejectCode.ANCIENT_TIMESTAMP,
            f"{usage.id}: time {value.ts.isoformat()} is older than {policy.max_age.days} days",
        )
    return Reading(
        tenant_id=ref.tenant_id,
        usage_id=usage.id,
        ts=value.ts,
        value=number,
        unit=usage.unit,
        usage_type=usage.type,
        source=uplink.source,
        device_id=uplink.device_id,
        origin=origin,
        flags=flags,
    )
