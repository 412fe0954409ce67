"""The asset registry in PostgreSQL: saved from a registry file, loaded back by the stream.

Saving upserts: a file describes the assets it names, and never deletes those it does not
name (readings and events may still refer to them). The one exception is a device's
channel map, which the file replaces as a whole.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from models.codecs.catalogue import JsCodec
from models.errors import SmatiError
from models.reading import UsageType
from models.registry import (
    Device,
    Entity,
    Equipment,
    Gateway,
    Network,
    NetworkBinding,
    NetworkServer,
    Plausible,
    Registry,
    Tenant,
    Transceiver,
    Usage,
)

__all__ = ["StoredRegistryError", "load_registry", "save_registry"]

Row = dict[str, Any]
Values = tuple[Any, ...]

# Serialises concurrent saves, whose upserts of the same rows could otherwise deadlock.
_SAVE_LOCK_KEY = 0x5347_5245_4749

_UPSERT_TENANT = """
    INSERT INTO tenants (id, name, sort_order, alarm_rules, notifications)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sort_order = EXCLUDED.sort_order,
        alarm_rules = EXCLUDED.alarm_rules, notifications = EXCLUDED.notifications
"""
_UPSERT_ENTITY = """
    INSERT INTO entities (
        id, tenant_id, name, kind, timezone, surface_m2, occupants, rooms, sort_order
    )
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, name = EXCLUDED.name, kind = EXCLUDED.kind,
        timezone = EXCLUDED.timezone, surface_m2 = EXCLUDED.surface_m2,
        occupants = EXCLUDED.occupants, rooms = EXCLUDED.rooms, sort_order = EXCLUDED.sort_order
"""
_UPSERT_EQUIPMENT = """
    INSERT INTO equipment (id, entity_id, name, kind, sort_order) VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        entity_id = EXCLUDED.entity_id, name = EXCLUDED.name, kind = EXCLUDED.kind,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_USAGE = """
    INSERT INTO usages (
        id, tenant_id, entity_id, equipment_id, name, type, unit, period_s,
        min_value, max_value, index_max, plausible_min, plausible_max, tags, kwh_per_unit,
        sort_order
    )
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, entity_id = EXCLUDED.entity_id,
        equipment_id = EXCLUDED.equipment_id, name = EXCLUDED.name, type = EXCLUDED.type,
        unit = EXCLUDED.unit, period_s = EXCLUDED.period_s, min_value = EXCLUDED.min_value,
        max_value = EXCLUDED.max_value, index_max = EXCLUDED.index_max,
        plausible_min = EXCLUDED.plausible_min, plausible_max = EXCLUDED.plausible_max,
        tags = EXCLUDED.tags, kwh_per_unit = EXCLUDED.kwh_per_unit,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_GATEWAY = """
    INSERT INTO gateways (id, network, entity_id, sort_order) VALUES (%s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        network = EXCLUDED.network, entity_id = EXCLUDED.entity_id,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_TRANSCEIVER = """
    INSERT INTO transceivers (id, network, gateway_id, sort_order) VALUES (%s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        network = EXCLUDED.network, gateway_id = EXCLUDED.gateway_id,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_BINDING = """
    INSERT INTO network_bindings (id, tenant_id, server, application, network_tenant, sort_order)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, server = EXCLUDED.server,
        application = EXCLUDED.application, network_tenant = EXCLUDED.network_tenant,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_DEVICE = """
    INSERT INTO devices (
        id, tenant_id, model, transceiver_id, binding_id, network_id, sort_order
    )
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, model = EXCLUDED.model,
        transceiver_id = EXCLUDED.transceiver_id, binding_id = EXCLUDED.binding_id,
        network_id = EXCLUDED.network_id, sort_order = EXCLUDED.sort_order
"""
_UPSERT_CODEC = """
    INSERT INTO codecs (id, file, package, program, options, f_ports, channels, sort_order)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        file = EXCLUDED.file, package = EXCLUDED.package, program = EXCLUDED.program,
        options = EXCLUDED.options, f_ports = EXCLUDED.f_ports, channels = EXCLUDED.channels,
        sort_order = EXCLUDED.sort_order
"""
_UPSERT_CHANNEL = """
    INSERT INTO device_channels (device_id, channel, usage_id, sort_order)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (device_id, channel) DO UPDATE SET
        usage_id = EXCLUDED.usage_id, sort_order = EXCLUDED.sort_order
"""
_DELETE_STALE_CHANNELS = """
    DELETE FROM device_channels AS c
    USING unnest(%(devices)s::text[]) AS saved (device_id)
    WHERE c.device_id = saved.device_id
      AND NOT EXISTS (
          SELECT 1
          FROM unnest(%(kept_devices)s::text[], %(kept_channels)s::text[])
              AS kept (device_id, channel)
          WHERE kept.device_id = c.device_id AND kept.channel = c.channel
      )
"""


class StoredRegistryError(SmatiError, ValueError):
    """The registry tables, taken together, do not make a valid registry."""


def save_registry(conn: psycopg.Connection, registry: Registry) -> dict[str, int]:
    """Upsert every asset of `registry` in one transaction; return how many of each kind.

    The counts are keyed by table name, plus `removed_channels`: channels of the saved
    devices that the file no longer lists.
    """
    tenants, entities, equipment, usages = _asset_rows(registry)
    channels = _channel_rows(registry.devices)
    batches = [
        ("tenants", _UPSERT_TENANT, tenants),
        ("entities", _UPSERT_ENTITY, entities),
        ("equipment", _UPSERT_EQUIPMENT, equipment),
        ("usages", _UPSERT_USAGE, usages),
        ("gateways", _UPSERT_GATEWAY, _gateway_rows(registry.gateways)),
        ("transceivers", _UPSERT_TRANSCEIVER, _transceiver_rows(registry.transceivers)),
        ("network_bindings", _UPSERT_BINDING, _binding_rows(registry.bindings)),
        ("codecs", _UPSERT_CODEC, _codec_rows(registry.codecs)),
        ("devices", _UPSERT_DEVICE, _device_rows(registry.devices)),
        ("device_channels", _UPSERT_CHANNEL, channels),
    ]
    counts: dict[str, int] = {}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SAVE_LOCK_KEY,))
        for table, statement, rows in batches:
            if rows:
                cur.executemany(statement, rows)
            counts[table] = len(rows)
        counts["removed_channels"] = _delete_stale_channels(cur, registry.devices, channels)
        cur.execute("UPDATE registry_revision SET revision = revision + 1, saved_at = now()")
    return counts


def registry_revision(conn: psycopg.Connection) -> int:
    """Bumped by every save: a registry loaded at this revision is still current."""
    row = conn.execute("SELECT revision FROM registry_revision").fetchone()
    return int(row[0]) if row else 0


def _asset_rows(
    registry: Registry,
) -> tuple[list[Values], list[Values], list[Values], list[Values]]:
    """Rows of the tenant -> entity -> equipment -> usage tree, each with its position."""
    tenants: list[Values] = []
    entities: list[Values] = []
    equipment: list[Values] = []
    usages: list[Values] = []
    for t_pos, tenant in enumerate(registry.tenants):
        tenants.append(
            (tenant.id, tenant.name, t_pos, _alarm_rules(tenant), _notifications_json(tenant))
        )
        for e_pos, entity in enumerate(tenant.entities):
            entities.append(
                (
                    entity.id,
                    tenant.id,
                    entity.name,
                    entity.kind,
                    entity.timezone,
                    entity.surface_m2,
                    entity.occupants,
                    entity.rooms,
                    e_pos,
                )
            )
            for q_pos, item in enumerate(entity.equipment):
                equipment.append((item.id, entity.id, item.name, item.kind, q_pos))
                usages.extend(
                    _usage_row(usage, tenant.id, entity.id, item.id, u_pos)
                    for u_pos, usage in enumerate(item.usages)
                )
    return tenants, entities, equipment, usages


def _alarm_rules(tenant: Tenant) -> Jsonb | None:
    rules = tenant.alarm_rules
    return None if rules is None else Jsonb([rule.model_dump(mode="json") for rule in rules])


def _notifications_json(tenant: Tenant) -> Jsonb | None:
    if tenant.notifications is None:
        return None
    return Jsonb(tenant.notifications.model_dump(mode="json"))


def _usage_row(
    usage: Usage, tenant_id: str, entity_id: str, equipment_id: str, position: int
) -> Values:
    return (
        usage.id,
        tenant_id,
        entity_id,
        equipment_id,
        usage.name,
        usage.type.value,
        usage.unit,
        usage.period_s,
        usage.min,
        usage.max,
        usage.index_max,
        usage.plausible.min if usage.plausible else None,
        usage.plausible.max if usage.plausible else None,
        list(usage.tags),
        usage.kwh_per_unit,
        position,
    )


def _gateway_rows(gateways: Sequence[Gateway]) -> list[Values]:
    return [(g.id, g.network.value, g.entity, pos) for pos, g in enumerate(gateways)]


def _transceiver_rows(transceivers: Sequence[Transceiver]) -> list[Values]:
    return [(t.id, t.network.value, t.gateway, pos) for pos, t in enumerate(transceivers)]


def _binding_rows(bindings: Sequence[NetworkBinding]) -> list[Values]:
    return [
        (b.id, b.tenant, b.server.value, b.application, b.network_tenant, pos)
        for pos, b in enumerate(bindings)
    ]


def _device_rows(devices: Sequence[Device]) -> list[Values]:
    return [
        (d.id, d.tenant, d.model, d.transceiver, d.binding, d.network_id, pos)
        for pos, d in enumerate(devices)
    ]


def _codec_rows(codecs: Sequence[JsCodec]) -> list[Values]:
    return [
        (
            c.id,
            c.file,
            c.package,
            c.program,
            Jsonb(c.options),
            list(c.f_ports) if c.f_ports is not None else None,
            Jsonb({name: channel.model_dump() for name, channel in c.channels.items()}),
            pos,
        )
        for pos, c in enumerate(codecs)
    ]


def _channel_rows(devices: Sequence[Device]) -> list[Values]:
    return [
        (device.id, channel, usage_id, pos)
        for device in devices
        for pos, (channel, usage_id) in enumerate(device.channels.items())
    ]


def _delete_stale_channels(
    cur: psycopg.Cursor[Any], devices: Sequence[Device], channels: list[Values]
) -> int:
    if not devices:
        return 0
    cur.execute(
        _DELETE_STALE_CHANNELS,
        {
            "devices": [device.id for device in devices],
            "kept_devices": [row[0] for row in channels],
            "kept_channels": [row[1] for row in channels],
        },
    )
    return cur.rowcount


def load_registry(conn: psycopg.Connection) -> Registry:
    """Rebuild the registry from the tables, in the order of the files that were saved.

    Raises StoredRegistryError when the tables, which accumulate every file ever saved,
    no longer make a consistent registry (a device still mapped to a usage that a later
    file moved to another tenant, for instance).
    """
    device_ids: list[str] = []
    with _snapshot(conn), conn.cursor(row_factory=dict_row) as cur:
        try:
            tenants = _load_tenants(cur)
            gateways = [_gateway(row) for row in _select(cur, "gateways")]
            transceivers = [_transceiver(row) for row in _select(cur, "transceivers")]
            bindings = [_binding(row) for row in _select(cur, "network_bindings")]
            devices = _load_devices(cur)
            device_ids = [device.id for device in devices]
            return Registry(
                tenants=tuple(tenants),
                gateways=tuple(gateways),
                transceivers=tuple(transceivers),
                devices=tuple(devices),
                bindings=tuple(bindings),
                codecs=tuple(JsCodec.model_validate(row) for row in _select(cur, "codecs")),
            )
        except ValidationError as error:
            raise StoredRegistryError(_describe(error, device_ids)) from None


@contextmanager
def _snapshot(conn: psycopg.Connection) -> Iterator[None]:
    """One consistent view of all the tables, even while another process saves a file.

    Inside a transaction the caller opened, its isolation level is kept.
    """
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        yield
        return
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


_SELECTS = {
    "tenants": """
        SELECT id, name, alarm_rules, notifications FROM tenants ORDER BY sort_order, id
    """,
    "entities": """
        SELECT id, tenant_id, name, kind, timezone, surface_m2, occupants, rooms
        FROM entities ORDER BY sort_order, id
    """,
    "equipment": "SELECT id, entity_id, name, kind FROM equipment ORDER BY sort_order, id",
    "usages": """
        SELECT id, equipment_id, name, type, unit, period_s, min_value, max_value, index_max,
               plausible_min, plausible_max, tags, kwh_per_unit
        FROM usages ORDER BY sort_order, id
    """,
    "gateways": "SELECT id, network, entity_id FROM gateways ORDER BY sort_order, id",
    "transceivers": """
        SELECT id, network, gateway_id FROM transceivers ORDER BY sort_order, id
    """,
    "network_bindings": """
        SELECT id, tenant_id, server, application, network_tenant
        FROM network_bindings ORDER BY sort_order, id
    """,
    "devices": """
        SELECT id, tenant_id, model, transceiver_id, binding_id, network_id
        FROM devices ORDER BY sort_order, id
    """,
    "codecs": """
        SELECT id, file, package, program, options, f_ports, channels
        FROM codecs ORDER BY sort_order, id
    """,
    "device_channels": """
        SELECT device_id, channel, usage_id FROM device_channels
        ORDER BY device_id, sort_order, channel
    """,
}


def _select(cur: psycopg.Cursor[Row], table: str) -> list[Row]:
    """The rows, each text once in memory: a unit, a tenant, an entity, a time zone repeat
    for every usage (a worker holds a hundred thousand)."""
    cur.execute(_SELECTS[table])
    return [
        {
            name: sys.intern(value) if isinstance(value, str) else value
            for name, value in row.items()
        }
        for row in cur
    ]


def _grouped(rows: list[Row], key: str) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


def _load_tenants(cur: psycopg.Cursor[Row]) -> list[Tenant]:
    entities = _grouped(_select(cur, "entities"), "tenant_id")
    equipment = _grouped(_select(cur, "equipment"), "entity_id")
    usages = _grouped(_select(cur, "usages"), "equipment_id")
    return [
        Tenant(
            id=tenant["id"],
            name=tenant["name"],
            alarm_rules=tenant["alarm_rules"],
            entities=tuple(_entity(entity, equipment, usages) for entity in entities[tenant["id"]]),
            notifications=tenant["notifications"],
        )
        for tenant in _select(cur, "tenants")
    ]


def _entity(row: Row, equipment: dict[str, list[Row]], usages: dict[str, list[Row]]) -> Entity:
    return Entity(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        timezone=row["timezone"],
        surface_m2=row["surface_m2"],
        occupants=row["occupants"],
        rooms=row["rooms"],
        equipment=tuple(
            Equipment(
                id=item["id"],
                name=item["name"],
                kind=item["kind"],
                usages=tuple(_usage(usage) for usage in usages[item["id"]]),
            )
            for item in equipment[row["id"]]
        ),
    )


def _usage(row: Row) -> Usage:
    return Usage(
        id=row["id"],
        name=row["name"],
        type=UsageType(row["type"]),
        unit=row["unit"],
        period_s=row["period_s"],
        min=row["min_value"],
        max=row["max_value"],
        index_max=row["index_max"],
        plausible=_plausible(row["plausible_min"], row["plausible_max"]),
        tags=tuple(row["tags"]),
        kwh_per_unit=row["kwh_per_unit"],
    )


def _plausible(low: float | None, high: float | None) -> Plausible | None:
    return None if low is None and high is None else Plausible(min=low, max=high)


def _gateway(row: Row) -> Gateway:
    return Gateway(id=row["id"], network=Network(row["network"]), entity=row["entity_id"])


def _transceiver(row: Row) -> Transceiver:
    return Transceiver(id=row["id"], network=Network(row["network"]), gateway=row["gateway_id"])


def _binding(row: Row) -> NetworkBinding:
    return NetworkBinding(
        id=row["id"],
        tenant=row["tenant_id"],
        server=NetworkServer(row["server"]),
        application=row["application"],
        network_tenant=row["network_tenant"],
    )


def _load_devices(cur: psycopg.Cursor[Row]) -> list[Device]:
    channels = _grouped(_select(cur, "device_channels"), "device_id")
    return [
        Device(
            id=row["id"],
            tenant=row["tenant_id"],
            model=row["model"],
            transceiver=row["transceiver_id"],
            binding=row["binding_id"],
            network_id=row["network_id"],
            channels={c["channel"]: c["usage_id"] for c in channels[row["id"]]},
        )
        for row in _select(cur, "devices")
    ]


def _describe(error: ValidationError, device_ids: list[str]) -> str:
    """The validation problems, with device positions replaced by device ids."""
    problems = []
    for detail in error.errors():
        cause = detail.get("ctx", {}).get("error")
        message = str(cause) if cause is not None else detail["msg"]
        path: tuple[str | int, ...] = getattr(cause, "path", ())
        if len(path) > 1 and path[0] == "devices" and isinstance(path[1], int):
            message = f"device {device_ids[path[1]]!r}: {message}"
        problems.append(message)
    return "the stored registry is inconsistent:\n" + "\n".join(problems)
