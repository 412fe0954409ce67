"""From a raw uplink to checked readings: device lookup, codec, units, value and time checks.

Pure: the registry index and the clock are passed in. Each bad value is rejected on its
own, so one NaN channel does not lose the good channels of the same uplink.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from models.bindings import Bindings
from models.codecs import (
    ChannelValue,
    CodecError,
    CodecTimeout,
    DecodeError,
    WrongLength,
    WrongPort,
    codec_for,
)
from models.codecs.catalogue import JsCodec, channel_values
from models.codecs.javascript import CodecInput, JsEngine, Output, default_engine, outputs_or_errors
from models.dead_letter import RejectCode, Rejection
from models.identity import identify
from models.network_servers import FRAME_PARSERS
from models.radio import FrameFormatError, RadioFrame
from models.reading import QualityFlag, Reading
from models.registry import Device, Registry, Usage, UsageRef
from models.units import Bounds, UnitError, canonical, convert, physical_bounds
from models.uplink import RawUplink


@dataclass(frozen=True)
class TimePolicy:
    """How far in the future or the past a reading's time may be, relative to reception."""

    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=400)


DeviceEntry = tuple[Device, dict[str, UsageRef]]


@dataclass(frozen=True)
class DeviceIndex:
    """The registry as the decoder needs it: device id -> device and its channels' usages.

    A device is also found by the id of its transceiver (a LoRaWAN DevEUI, a Sigfox id;
    compared in upper case), which is how LoRaWAN and Sigfox networks name it.
    """

    devices: dict[str, DeviceEntry]
    by_radio_id: dict[str, str] = field(default_factory=dict)
    usages: dict[str, UsageRef] = field(default_factory=dict)
    """Every usage by its id: the same objects the devices' channels point to (a worker
    holds one copy of each, a hundred thousand of them)."""
    bindings: Bindings = field(default_factory=lambda: Bindings.of(()))
    """Which tenant each network server's application is bound to."""
    codecs: dict[str, JsCodec] = field(default_factory=dict)
    """The registry's JavaScript codecs, by the device model naming them."""

    @classmethod
    def of(cls, registry: Registry) -> DeviceIndex:
        usages = {ref.usage.id: ref for ref in registry.usage_refs()}
        return cls(
            {
                device.id: (device, {ch: usages[u] for ch, u in device.channels.items()})
                for device in registry.devices
            },
            {
                device.transceiver.upper(): device.id
                for device in registry.devices
                if device.transceiver is not None
            },
            usages,
            Bindings.of(registry.bindings),
            {codec.id: codec for codec in registry.codecs},
        )

    def find(self, *names: str | None) -> DeviceEntry | None:
        """The first device named (by its id, or its transceiver's) by one of `names`."""
        for name in names:
            if name is None:
                continue
            entry = self.devices.get(name)
            if entry is None and name.upper() in self.by_radio_id:
                entry = self.devices.get(self.by_radio_id[name.upper()])
            if entry is not None:
                return entry
        return None


@dataclass
class Decoded:
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    device: Device | None = None
    """The registered device, once found."""
    frame: RadioFrame | None = None
    """The network server's view of the uplink (LoRaWAN and Sigfox sources)."""

    @property
    def refused(self) -> bool:
        """The whole uplink was refused (not only some of its values)."""
        return not self.readings and any(r.channel is None for r in self.rejections)


_DECODE_CODES: dict[type[DecodeError], RejectCode] = {
    WrongPort: RejectCode.WRONG_PORT,
    WrongLength: RejectCode.WRONG_LENGTH,
    CodecError: RejectCode.CODEC_ERROR,
    CodecTimeout: RejectCode.CODEC_TIMEOUT,
}


@dataclass
class _Located:
    """An uplink of a registered device, with what its codec is given, and once decoded,
    its channel values or why it has none."""

    uplink: RawUplink
    origin: str
    decoded: Decoded
    channels: dict[str, UsageRef]
    given: CodecInput
    js_codec: JsCodec | None
    values: list[ChannelValue] | DecodeError | None = None


def decode_uplink(
    uplink: RawUplink,
    origin: str,
    index: DeviceIndex,
    policy: TimePolicy = TimePolicy(),
    trusted_sources: frozenset[str] = frozenset(),
    engine: JsEngine | None = None,
) -> Decoded:
    """Readings of every good channel value; a rejection for the uplink or each bad value.

    For a network server's message, its own decoded payload is used when present and its
    source is in `trusted_sources`; otherwise the device model's codec decodes the bytes.
    """
    return decode_uplinks([(uplink, origin)], index, policy, trusted_sources, engine)[0]


def decode_uplinks(
    uplinks: Sequence[tuple[RawUplink, str]],
    index: DeviceIndex,
    policy: TimePolicy = TimePolicy(),
    trusted_sources: frozenset[str] = frozenset(),
    engine: JsEngine | None = None,
) -> list[Decoded]:
    """`decode_uplink` of each (uplink, origin), the payloads of each JavaScript codec
    decoded in one call into `engine` (the process's default one if None)."""
    found = [_locate(uplink, origin, index, trusted_sources) for uplink, origin in uplinks]
    located = [item for item in found if isinstance(item, _Located)]
    _decode_javascript(located, engine or default_engine())
    return [_read(item, policy) if isinstance(item, _Located) else item for item in found]


def _locate(
    uplink: RawUplink, origin: str, index: DeviceIndex, trusted: frozenset[str]
) -> _Located | Decoded:
    """The uplink's device and codec input, its native codec's values already; or the
    uplink refused, or a LoRaWAN frame on port 0 (MAC commands only: no reading, no error)."""
    decoded = Decoded()
    parse = FRAME_PARSERS.get(uplink.source)
    if parse is not None:
        try:
            decoded.frame = parse(uplink.payload, uplink.received_at)
        except FrameFormatError as error:
            return _refused(decoded, RejectCode.MALFORMED_PAYLOAD, str(error))
    frame = decoded.frame
    entry = identify(uplink, frame, index)
    if isinstance(entry, Rejection):
        decoded.rejections.append(entry)
        return decoded
    device, channels = entry
    decoded.device = device
    if frame is not None and frame.f_port == 0:
        return decoded
    given = (
        CodecInput(frame.payload, frame.f_port, frame.time, device.id)
        if frame is not None
        else CodecInput(uplink.payload, None, uplink.received_at, device.id)
    )
    located = _Located(uplink, origin, decoded, channels, given, index.codecs.get(device.model))
    if frame is not None and frame.decoded is not None and uplink.source in trusted:
        located.values = _server_decoded(frame)
    elif located.js_codec is None:
        try:
            located.values = codec_for(device.model)(given.payload, given.received_at, given.f_port)
        except DecodeError as error:
            located.values = error
    return located


def _decode_javascript(located: list[_Located], engine: JsEngine) -> None:
    """The values of the uplinks left to a JavaScript codec: one call per codec."""
    by_codec: dict[str, list[_Located]] = {}
    for item in located:
        if item.values is None and item.js_codec is not None:
            by_codec.setdefault(item.js_codec.id, []).append(item)
    for items in by_codec.values():
        codec = items[0].js_codec
        assert codec is not None
        outputs = outputs_or_errors(engine, codec, [item.given for item in items])
        for item, output in zip(items, outputs, strict=True):
            item.values = _values(codec, item.given, output)


def _values(
    codec: JsCodec, given: CodecInput, output: Output | DecodeError
) -> list[ChannelValue] | DecodeError:
    if isinstance(output, DecodeError):
        return output
    try:
        return channel_values(codec, output, given.received_at)
    except DecodeError as error:
        return error


def _read(item: _Located, policy: TimePolicy) -> Decoded:
    decoded, device, channels = item.decoded, item.decoded.device, item.channels
    assert device is not None and item.values is not None
    if isinstance(item.values, DecodeError):
        code = _DECODE_CODES.get(type(item.values), RejectCode.MALFORMED_PAYLOAD)
        return _refused(decoded, code, f"{device.model} payload: {item.values}")
    values = item.values
    if decoded.frame is not None or item.js_codec is not None:
        # A radio sensor or a maker's codec reports more than a building needs (battery,
        # light, status...): only the channels the registry maps are read, and an uplink
        # with none of them is refused.
        values = [value for value in values if value.channel in channels]
        if not values:
            reason = f"device {device.id!r} maps none of the channels its payload holds"
            return _refused(decoded, RejectCode.UNKNOWN_CHANNEL, reason)
    for value in values:
        ref = channels.get(value.channel)
        if ref is None:
            reason = f"device {device.id!r} has no channel {value.channel!r}"
            decoded.rejections.append(
                Rejection(code=RejectCode.UNKNOWN_CHANNEL, reason=reason, channel=value.channel)
            )
            continue
        try:
            decoded.readings.append(
                _reading(item.uplink, device.id, item.origin, ref, value, policy)
            )
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


def _refused(decoded: Decoded, code: RejectCode, reason: str) -> Decoded:
    decoded.rejections.append(Rejection(code=code, reason=reason))
    return decoded


def _server_decoded(frame: RadioFrame) -> list[ChannelValue]:
    """The numbers of the network server's decoded payload; its other fields are ignored."""
    assert frame.decoded is not None
    return [
        ChannelValue(channel, frame.time, float(value), None)
        for channel, value in frame.decoded.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


class _Refused(ValueError):
    def __init__(self, code: RejectCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def _reading(
    uplink: RawUplink,
    device_id: str,
    origin: str,
    ref: UsageRef,
    value: ChannelValue,
    policy: TimePolicy,
) -> Reading:
    usage = ref.usage
    if not math.isfinite(value.value):
        raise _Refused(RejectCode.INVALID_VALUE, f"{usage.id}: value is {value.value}")
    number, flags = float(value.value), tuple[QualityFlag, ...]()
    if value.unit is not None and canonical(value.unit) != canonical(usage.unit):
        try:
            number = convert(value.value, value.unit, usage.unit)
        except UnitError as error:
            raise _Refused(RejectCode.WRONG_UNIT, f"{usage.id}: {error}") from None
        flags = (QualityFlag.CONVERTED_UNIT,)
    refusal = implausible(usage, number)
    if refusal is not None:
        raise _Refused(RejectCode.IMPLAUSIBLE_VALUE, f"{usage.id}: {refusal}")
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
        device_id=device_id,
        origin=origin,
        flags=flags,
    )


def implausible(usage: Usage, value: float) -> str | None:
    """Why `value`, in the usage's unit, cannot be a measurement of it; None if it can.

    An index meter's register holds 0 to `index_max`; any value lies within its unit's
    physical bounds, or the usage's own `plausible` range where the registry gives one.
    """
    if usage.index_max is not None and not 0 <= value <= usage.index_max:
        return f"index {value:g} is outside the meter's register 0..{usage.index_max:g}"
    bounds = _plausible_bounds(usage)
    if bounds is None or value in bounds:
        return None
    return (
        f"{value:g} {usage.unit} is implausible: outside {bounds.low:g}..{bounds.high:g} "
        f"{usage.unit} ({bounds.why})"
    )


def _plausible_bounds(usage: Usage) -> Bounds | None:
    physical = physical_bounds(usage.unit)
    override = usage.plausible
    if override is None:
        return physical
    low = override.min if override.min is not None else physical.low if physical else -math.inf
    high = override.max if override.max is not None else physical.high if physical else math.inf
    return Bounds(low, high, "the usage's plausible range in the registry")
