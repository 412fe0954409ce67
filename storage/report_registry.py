"""What the reports need of the registry: entities with their KPI attributes, usages with
their equipment and devices. Always within one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row

__all__ = ["EntityInfo", "UsageInfo", "entities_of", "usages_of"]


@dataclass(frozen=True)
class EntityInfo:
    id: str
    name: str
    kind: str
    timezone: str
    surface_m2: float | None
    occupants: int | None
    rooms: int | None
    tenant_id: str
    tenant_name: str


@dataclass(frozen=True)
class UsageInfo:
    id: str
    name: str
    type: str
    unit: str
    period_s: float
    index_max: float | None
    kwh_per_unit: float | None
    tags: list[str]
    entity_id: str
    entity_name: str
    timezone: str
    equipment_name: str
    devices: list[str]


def entities_of(
    conn: psycopg.Connection, tenant_id: str, entity_ids: Sequence[str] | None = None
) -> list[EntityInfo]:
    """The tenant's entities (those of `entity_ids` only, when given), in registry order."""
    with conn.cursor(row_factory=class_row(EntityInfo)) as cur:
        return cur.execute(
            """
            SELECT e.id, e.name, e.kind, e.timezone, e.surface_m2, e.occupants, e.rooms,
                   t.id AS tenant_id, t.name AS tenant_name
            FROM entities e JOIN tenants t ON t.id = e.tenant_id
            WHERE e.tenant_id = %(tenant)s
              AND (%(entities)s::text[] IS NULL OR e.id = ANY(%(entities)s))
            ORDER BY e.sort_order, e.id
            """,
            {"tenant": tenant_id, "entities": None if entity_ids is None else list(entity_ids)},
        ).fetchall()


def usages_of(
    conn: psycopg.Connection,
    tenant_id: str,
    entity_ids: Sequence[str] | None = None,
    usage_ids: Sequence[str] | None = None,
) -> list[UsageInfo]:
    """The tenant's usages, of some entities or some ids when given, in registry order."""
    with conn.cursor(row_factory=class_row(UsageInfo)) as cur:
        return cur.execute(
            """
            SELECT u.id, u.name, u.type, u.unit, u.period_s, u.index_max, u.kwh_per_unit,
                   u.tags, u.entity_id, e.name AS entity_name, e.timezone,
                   q.name AS equipment_name,
                   array(SELECT c.device_id FROM device_channels c
                         WHERE c.usage_id = u.id ORDER BY c.device_id) AS devices
            FROM usages u
            JOIN entities e ON e.id = u.entity_id
            JOIN equipment q ON q.id = u.equipment_id
            WHERE u.tenant_id = %(tenant)s
              AND (%(entities)s::text[] IS NULL OR u.entity_id = ANY(%(entities)s))
              AND (%(usages)s::text[] IS NULL OR u.id = ANY(%(usages)s))
            ORDER BY e.sort_order, q.sort_order, u.sort_order, u.id
            """,
            {
                "tenant": tenant_id,
                "entities": None if entity_ids is None else list(entity_ids),
                "usages": None if usage_ids is None else list(usage_ids),
            },
        ).fetchall()
