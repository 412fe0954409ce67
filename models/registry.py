"""The asset registry: who owns what, and which device channel feeds which usage.

Tenant -> Entity (building) -> Equipment -> Usage (one measurement point)
Device (sensor) -> Transceiver -> Gateway -> network
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from models.alarms.rules import AlarmRule
from models.alerting.routing import Notifications
from models.codecs.catalogue import JsCodec
from models.errors import SmatiError
from models.reading import UsageType

Identifier = str
Path = tuple[str | int, ...]
"""Where a value is in the registry document: keys and list positions."""


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _share_fields_set(self) -> Self:
        """Pydantic keeps in every instance the set of the fields it was given: 728 bytes for
        a usage, its device and its registry entry each, two thirds of what a worker holds
        per usage. These models are frozen, so the set is never changed in place
        (`model_copy` copies its own): one set per distinct content serves them all, and
        each instance's own is freed as soon as it is made."""
        names = self.__pydantic_fields_set__
        object.__setattr__(
            self, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(frozenset(names), names)
        )
        return self


class Network(StrEnum):
    MQTT = "mqtt"
    LORAWAN = "lorawan"
    SIGFOX = "sigfox"


class Plausible(_Strict):
    """The values a usage can take, where its unit's physical bounds do not fit it
    (`models.units.physical_bounds`): a side left out keeps the unit's bound."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"plausible min ({self.min}) must be below max ({self.max})")
        return self


class Usage(_Strict):
    """One measurement point; its type decides which checks apply."""

    id: Identifier = Field(min_length=1)
    name: str = ""
    type: UsageType
    unit: str = Field(min_length=1)
    period_s: PositiveFloat = Field(description="theoretical transmission period, seconds")
    min: float | None = Field(default=None, description="low threshold")
    max: float | None = Field(default=None, description="high threshold")
    index_max: PositiveFloat | None = Field(
        default=None, description="value at which an index meter rolls over to zero"
    )
    plausible: Plausible | None = Field(
        default=None, description="values outside are refused as implausible, not checked"
    )
    tags: tuple[str, ...] = Field(default=(), description="Brick / Project Haystack tags")
    kwh_per_unit: PositiveFloat | None = Field(
        default=None, description="kWh per unit of the meter (gas: kWh per m3), for reports"
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.index_max is not None and self.type is not UsageType.INDEX:
            raise ValueError("index_max only applies to usages of type index")
        return self


class Equipment(_Strict):
    id: Identifier = Field(min_length=1)
    name: str = ""
    kind: str = Field(default="", description="boiler, meter, AHU ...")
    usages: tuple[Usage, ...] = ()


class Entity(_Strict):
    """A building: hotel, office, parking."""

    id: Identifier = Field(min_length=1)
    name: str = ""
    kind: str = ""
    timezone: str = "Europe/Paris"
    surface_m2: PositiveFloat | None = Field(default=None, description="floor area, for KPIs")
    occupants: PositiveInt | None = Field(default=None, description="for per-person KPIs")
    rooms: PositiveInt | None = Field(default=None, description="for per-room KPIs")
    equipment: tuple[Equipment, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class Tenant(_Strict):
    """A customer."""

    id: Identifier = Field(min_length=1)
    name: str = ""
    entities: tuple[Entity, ...] = ()
    alarm_rules: tuple[AlarmRule, ...] | None = Field(
        default=None, description="replaces the built-in alarm rules (models.alarms.rules)"
    )
    notifications: Notifications | None = Field(
        default=None, description="who hears of its alarms (models.alerting)"
    )


class Gateway(_Strict):
    id: Identifier = Field(min_length=1)
    network: Network
    entity: Identifier | None = None


class Transceiver(_Strict):
    """The radio module of a device (a LoRaWAN DevEUI, a Sigfox id, an MQTT client)."""

    id: Identifier = Field(min_length=1)
    network: Network
    gateway: Identifier | None = None


class NetworkServer(StrEnum):
    """A network server whose messages SMATI reads: the `source` of their raw uplinks."""

    TTS = "tts"
    CHIRPSTACK = "chirpstack"
    SIGFOX = "sigfox"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    NetworkServer.TTS: "The Things Stack application",
    NetworkServer.CHIRPSTACK: "ChirpStack application",
    NetworkServer.SIGFOX: "Sigfox device type",
}


class NetworkBinding(_Strict):
    """One network server's application bound to one SMATI tenant."""

    id: Identifier = Field(min_length=1, description="the binding's name in the registry")
    tenant: Identifier
    server: NetworkServer
    application: str = Field(
        min_length=1,
        description="TTS application id, ChirpStack application UUID, Sigfox device type id",
    )
    network_tenant: str | None = Field(
        default=None,
        description="The Things Stack's tenant id (`ttn` on The Things Network); none on an "
        "open-source deployment",
    )

    @property
    def key(self) -> tuple[NetworkServer, str, str | None]:
        return self.server, normal_application(self.server, self.application), self.network_tenant

    def describe(self) -> str:
        at = f"@{self.network_tenant}" if self.network_tenant else ""
        return f"{self.server.label} {self.application!r}{at}"


def normal_application(server: NetworkServer, application: str) -> str:
    """ChirpStack's UUIDs and Sigfox's hexadecimal ids compare in lower case; TTS ids are
    lower case by its own rules."""
    return application if server is NetworkServer.TTS else application.lower()


class Device(_Strict):
    """A sensor or meter; each of its channels feeds one usage."""

    id: Identifier = Field(min_length=1)
    tenant: Identifier
    model: str = Field(
        default="generic-json", description="payload codec: a native one or a codecs entry"
    )
    transceiver: Identifier | None = None
    channels: dict[str, Identifier] = Field(min_length=1, description="channel -> usage id")
    binding: Identifier | None = Field(
        default=None, description="the network binding (application) the device is in"
    )
    network_id: str | None = Field(
        default=None,
        description="its id on its network server, where neither its id nor its "
        "transceiver's (a The Things Stack device id)",
    )


class UsageRef(_Strict):
    """A usage with the tenant and entity it belongs to, as the stream needs it."""

    tenant_id: Identifier
    entity_id: Identifier
    equipment_id: Identifier
    usage: Usage
    timezone: str = "Europe/Paris"
    """The entity's: the anomaly detector's daily and weekly rhythm is in local time."""


class Registry(_Strict):
    """The whole registry, checked for dangling references and duplicate ids."""

    tenants: tuple[Tenant, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    transceivers: tuple[Transceiver, ...] = ()
    devices: tuple[Device, ...] = ()
    bindings: tuple[NetworkBinding, ...] = ()
    codecs: tuple[JsCodec, ...] = ()
    """JavaScript codecs, by the device model naming them."""

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        # Usage id -> tenant id, not `usage_refs()`: a registry entry per usage only to
        # check references would be a third of a large registry's memory, freed at once.
        owners = [
            (u.id, t.id)
            for t in self.tenants
            for e in t.entities
            for q in e.equipment
            for u in q.usages
        ]
        _no_duplicates("usage", [usage_id for usage_id, _ in owners], self._usage_paths)
        _no_duplicates("device", [d.id for d in self.devices], self._device_paths)
        _no_duplicates("codec", [c.id for c in self.codecs], self._codec_paths)
        entity_ids = [e.id for t in self.tenants for e in t.entities]
        _no_duplicates("entity", entity_ids, self._entity_paths)
        tenant_of = dict(owners)
        gateways = {gateway.id for gateway in self.gateways}
        transceivers = {transceiver.id for transceiver in self.transceivers}
        tenants = {tenant.id for tenant in self.tenants}
        for n, transceiver in enumerate(self.transceivers):
            if transceiver.gateway is not None and transceiver.gateway not in gateways:
                raise DanglingReference(
                    ("transceivers", n, "gateway"), f"unknown gateway {transceiver.gateway!r}"
                )
        for n, device in enumerate(self.devices):
            if device.tenant not in tenants:
                raise DanglingReference(
                    ("devices", n, "tenant"), f"unknown tenant {device.tenant!r}"
                )
            if device.transceiver is not None and device.transceiver not in transceivers:
                raise DanglingReference(
                    ("devices", n, "transceiver"), f"unknown transceiver {device.transceiver!r}"
                )
            for channel, usage_id in device.channels.items():
                owner = tenant_of.get(usage_id)
                where = ("devices", n, "channels", channel)
                if owner is None:
                    raise DanglingReference(where, f"unknown usage {usage_id!r}")
                if owner != device.tenant:
                    raise DanglingReference(
                        where,
                        f"usage {usage_id!r} belongs to tenant {owner!r}, not {device.tenant!r}",
                    )
        return self

    @model_validator(mode="after")
    def _bindings_resolve(self) -> Self:
        """Each binding to a known tenant, each application bound once, each device in a
        binding of its own tenant."""
        tenants = {tenant.id for tenant in self.tenants}
        _no_duplicates("binding", [b.id for b in self.bindings], self._binding_paths)
        bound: dict[tuple[NetworkServer, str, str | None], str] = {}
        for n, binding in enumerate(self.bindings):
            if binding.tenant not in tenants:
                raise DanglingReference(
                    ("bindings", n, "tenant"), f"unknown tenant {binding.tenant!r}"
                )
            if binding.key in bound:
                raise DuplicateId(
                    ("bindings", n, "application"),
                    f"{binding.describe()} is already bound by {bound[binding.key]!r}",
                )
            bound[binding.key] = binding.id
        owners = {binding.id: binding.tenant for binding in self.bindings}
        for n, device in enumerate(self.devices):
            if device.binding is None:
                continue
            where = ("devices", n, "binding")
            if device.binding not in owners:
                raise DanglingReference(where, f"unknown binding {device.binding!r}")
            if owners[device.binding] != device.tenant:
                raise DanglingReference(
                    where,
                    f"binding {device.binding!r} belongs to tenant {owners[device.binding]!r}, "
                    f"not {device.tenant!r}",
                )
        return self

    def _binding_paths(self) -> Iterator[Path]:
        return (("bindings", n, "id") for n in range(len(self.bindings)))

    def _usage_paths(self) -> Iterator[Path]:
        for t, tenant in enumerate(self.tenants):
            for e, entity in enumerate(tenant.entities):
                for q, item in enumerate(entity.equipment):
                    for u in range(len(item.usages)):
                        yield ("tenants", t, "entities", e, "equipment", q, "usages", u, "id")

    def _device_paths(self) -> Iterator[Path]:
        return (("devices", n, "id") for n in range(len(self.devices)))

    def _codec_paths(self) -> Iterator[Path]:
        return (("codecs", n, "id") for n in range(len(self.codecs)))

    def _entity_paths(self) -> Iterator[Path]:
        for t, tenant in enumerate(self.tenants):
            for e in range(len(tenant.entities)):
                yield ("tenants", t, "entities", e, "id")

    def usage_refs(self) -> list[UsageRef]:
        return [
            UsageRef(
                tenant_id=t.id, entity_id=e.id, equipment_id=q.id, usage=u, timezone=e.timezone
            )
            for t in self.tenants
            for e in t.entities
            for q in e.equipment
            for u in q.usages
        ]


class LocatedError(SmatiError, ValueError):
    """A registry problem at one place of the document: `path` locates it (a file's
    reader turns it into the line at fault)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{'.'.join(map(str, path))}: {message}")
        self.path = path


class DanglingReference(LocatedError):
    """A reference to an id the registry does not hold."""


class DuplicateId(LocatedError):
    """An id given a second time; located at the second."""


def _no_duplicates(what: str, ids: list[str], paths: Callable[[], Iterator[Path]]) -> None:
    """Raise DuplicateId at the first id that repeats one before it; `paths` gives the
    place of each id, in the same order, walked only when an id repeats."""
    if len(set(ids)) == len(ids):
        return
    seen: set[str] = set()
    for identifier, path in zip(ids, paths(), strict=True):
        if identifier in seen:
            raise DuplicateId(path, f"duplicate {what} id {identifier!r}")
        seen.add(identifier)
