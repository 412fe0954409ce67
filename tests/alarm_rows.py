"""Alarms of two tenants stored as the stream writes them (rows of `alarms` and their
`raised` history), for the tests of the alarm commands and the HTTP API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from models.registry_file import parse_registry
from storage.registry_store import save_registry

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

SITE = """
tenants:
  - id: acme
    entities:
      - id: hotel
        timezone: Europe/Paris
        equipment:
          - id: hotel.boiler
            usages:
              - {id: hotel.gas, type: index, unit: m3, period_s: 3600}
              - {id: hotel.boiler-temperature, type: instant, unit: °C, period_s: 600}
          - id: hotel.lobby
            usages:
              - {id: hotel.lobby-co2, type: instant, unit: ppm, period_s: 600}
  - id: globex
    entities:
      - id: plant
        timezone: America/New_York
        equipment:
          - id: plant.room
            usages:
              - {id: plant.temperature, type: instant, unit: °C, period_s: 600}
"""

_INSERT_ALARM = """
    INSERT INTO alarms (id, tenant_id, entity_id, equipment_id, usage_id, device_id, type,
                        severity, start_ts, last_seen_ts, end_ts, cleared, occurrences, details)
    VALUES (%(id)s, %(tenant_id)s, %(entity_id)s, %(equipment_id)s, %(usage_id)s,
            %(device_id)s, %(type)s, %(severity)s, %(start_ts)s, %(last_seen_ts)s, %(end_ts)s,
            %(end_ts)s::timestamptz IS NOT NULL, %(occurrences)s, %(details)s)
"""
_INSERT_RAISED = """
    INSERT INTO alarm_history (alarm_id, ts, transition, severity, actor)
    VALUES (%(id)s, %(start_ts)s, 'raised', %(severity)s, 'stream')
"""


def save_site(conn: psycopg.Connection) -> None:
    save_registry(conn, parse_registry(SITE, "alarm site"))


def insert_alarm(
    conn: psycopg.Connection,
    alarm_id: str,
    usage_id: str,
    *,
    alarm_type: str = "transmission_cut",
    severity: str = "major",
    start_minutes: int = 0,
    ended_minutes: int | None = None,
) -> None:
    """An alarm raised `start_minutes` after T0 on a usage of the site, by the data, and
    cleared by the data `ended_minutes` after T0 if given."""
    row = conn.execute(
        "SELECT tenant_id, entity_id, equipment_id FROM usages WHERE id = %s", (usage_id,)
    ).fetchone()
    assert row is not None, f"{usage_id} is a usage of the site"
    start = T0 + timedelta(minutes=start_minutes)
    end = None if ended_minutes is None else T0 + timedelta(minutes=ended_minutes)
    values: dict[str, Any] = {
        "id": alarm_id,
        "tenant_id": row[0],
        "entity_id": row[1],
        "equipment_id": row[2],
        "usage_id": usage_id,
        "device_id": f"{usage_id}-device",
        "type": alarm_type,
        "severity": severity,
        "start_ts": start,
        "last_seen_ts": end or start,
        "end_ts": end,
        "occurrences": 1,
        "details": json.dumps({"kind": alarm_type}),
    }
    conn.execute(_INSERT_ALARM, values)
    conn.execute(_INSERT_RAISED, values)


def save_site_with_alarms(conn: psycopg.Connection) -> None:
    """The site and four alarms: of acme, `gas-cut` (critical, raised at T0), `co2-high`
    (warning, an hour later) and `co2-old` (minor, raised two hours before T0, cleared by
    the data an hour later), on equipment hotel.boiler and hotel.lobby; of globex,
    `plant-cut` (major, half an hour after T0)."""
    save_site(conn)
    insert_alarm(conn, "gas-cut", "hotel.gas", severity="critical")
    insert_alarm(
        conn, "co2-high", "hotel.lobby-co2", alarm_type="threshold_high", severity="warning",
        start_minutes=60,
    )  # fmt: skip
    insert_alarm(
        conn, "co2-old", "hotel.lobby-co2", alarm_type="threshold_high", severity="minor",
        start_minutes=-120, ended_minutes=-60,
    )  # fmt: skip
    insert_alarm(conn, "plant-cut", "plant.temperature", start_minutes=30)
