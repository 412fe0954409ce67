"""The asset registry: who owns what, and which device channel feeds which usage.

Tenant -> Entity (building) -> Equipment -> Usage (one measurement point)
Device (sensor) -> Transceiver -> Gateway -> network
"""

from __future__ import annotations

from collections import Counter
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

from models.errors import SmatiError
from models.reading import UsageType

Identifier = str


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


class Gateway(_Strict):
    id: Identifier = Field(min_length=1)
    network: Network
    entity: Identifier | None = None


class Transceiver(_Strict):
    """The radio module of a device (a LoRaWAN DevEUI, a Sigfox id, an MQTT client)."""

    id: Identifier = Field(min_length=1)
    network: Network
    gateway: Identifier | None = None


class Device(_Strict):
    """A sensor or meter; each of its channels feeds one usage."""

    id: Identifier = Field(min_length=1)
    tenant: Identifier
    model: str = Field(default="generic-json", description="payload codec")
    transceiver: Identifier | None = None
    channels: dict[str, Identifier] = Field(min_length=1, description="channel -> usage id")


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
        _no_duplicates("usage", [usage_id for usage_id, _ in owners])
        _no_duplicates("device", [device.id for device in self.devices])
        _no_duplicates("entity", [e.id for t in self.tenants for e in t.entities])
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


class DanglingReference(SmatiError, ValueError):
    """A reference to an id the registry does not hold; `path` locates it in the document."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{'.'.join(map(str, path))}: {message}")
        self.path = path


def _no_duplicates(what: str, ids: list[str]) -> None:
    repeated = sorted(i for i, count in Counter(ids).items() if count > 1)
    if repeated:
        raise ValueError(f"duplicate {what} id(s): {', '.join(repeated)}")
