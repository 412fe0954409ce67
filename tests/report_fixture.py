"""A small building whose report figures are computed by hand in the tests' comments.

Tenant `t1`, entity `hotel` (Europe/Paris, 1,000 m2, 20 occupants, 40 rooms), readings
every 6 hours from 2026-02-01 00:00 local (2026-01-31T23:00Z) to 2026-05-01 00:00 local,
k = 0..355, at 23:00, 05:00, 11:00 and 17:00 UTC. Local February holds k = 0..111 (112
readings), March k = 112..235 (124: March 2026 is 743 hours long, DST on the 29th, and its
last local day starts at 22:00Z), April k = 236..355 (120).

- `hotel.elec` (index, kWh): 1000 + 10 k, until a meter reset at k = 150 (March): from
  there 5 + 10 (k - 150). Readings k = 270..278 are missing (an April gap).
- `hotel.gas` (index, m3, rolls over at 1000, 10.5 kWh/m3): (900 + 2 k) mod 1000; the
  rollover at k = 50 (February).
- `hotel.heat` (consumption, kWh): 3 per reading, but -4 at k = 300 (a defect).
- `hotel.outdoor` (instant, degC, tags outside + temp): 4 then 10, alternately: a daily
  mean of 7 C, 11 degree days a day (base 18).
- `other.elec` of tenant `t2`: must never show in `t1`'s reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from conftest import fresh_database

from models.detection import DetectionEvent, DetectionKind, Severity
from models.registry_file import parse_registry
from storage.migrate import migrate
from storage.registry_store import save_registry
from storage.writer import write_events

TENANT = "t1"
ENTITY = "hotel"
T0 = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
STEP = timedelta(hours=6)
READINGS = 356
RESET_AT = 150
ROLLOVER_AT = 50
GAP = range(270, 279)
NEGATIVE_AT = 300

REGISTRY = """
tenants:
  - id: t1
    name: Tenant One
    entities:
      - id: hotel
        name: Hotel Test
        kind: hotel
        timezone: Europe/Paris
        surface_m2: 1000
        occupants: 20
        rooms: 40
        equipment:
          - id: hotel.meters
            name: Meters
            usages:
              - {id: hotel.elec, name: Electricity, type: index, unit: kWh, period_s: 21600,
                 tags: [elec, meter]}
              - {id: hotel.gas, name: Gas, type: index, unit: m3, period_s: 21600,
                 index_max: 1000, kwh_per_unit: 10.5, tags: [naturalGas, meter]}
              - {id: hotel.heat, name: Heating, type: consumption, unit: kWh,
                 period_s: 21600, tags: [heating, energy]}
              - {id: hotel.outdoor, name: Outdoor temperature, type: instant, unit: °C,
                 period_s: 21600, tags: [outside, air, temp, sensor]}
  - id: t2
    name: Tenant Two
    entities:
      - id: other
        name: Other building
        equipment:
          - id: other.meters
            usages:
              - {id: other.elec, type: index, unit: kWh, period_s: 21600, tags: [elec]}
devices:
  - {id: d1, tenant: t1, channels: {elec: hotel.elec, gas: hotel.gas, heat: hotel.heat,
     outdoor: hotel.outdoor}}
  - {id: d2, tenant: t2, channels: {elec: other.elec}}
"""


def at(k: int) -> datetime:
    return T0 + k * STEP


def _values(k: int) -> dict[str, float]:
    elec = 1000.0 + 10 * k if k < RESET_AT else 5.0 + 10 * (k - RESET_AT)
    return {
        "hotel.elec": elec,
        "hotel.gas": float((900 + 2 * k) % 1000),
        "hotel.heat": -4.0 if k == NEGATIVE_AT else 3.0,
        "hotel.outdoor": 4.0 if k % 2 == 0 else 10.0,
        "other.elec": 1_000_000.0 + k,
    }


def rows(ks: range) -> list[tuple[str, datetime, float, str]]:
    """(usage, time, value, tenant) of the readings k in `ks`, the gap left out."""
    return [
        (usage, at(k), value, "t2" if usage.startswith("other") else TENANT)
        for k in ks
        for usage, value in _values(k).items()
        if not (usage == "hotel.elec" and k in GAP)
    ]


def insert_readings(conn: psycopg.Connection, ks: range) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY readings (usage_id, ts, value, unit, tenant_id, source, device_id, origin)"
            " FROM STDIN"
        ) as copy,
    ):
        for usage, ts, value, tenant in rows(ks):
            copy.write_row((usage, ts, value, "x", tenant, "test", "d1", f"o-{usage}-{ts}"))


def events() -> list[DetectionEvent]:
    """The stream's events for the reset and the rollover, as models.rules writes them."""
    reset = DetectionEvent.of(
        DetectionKind.METER_RESET,
        TENANT,
        "hotel.elec",
        at(RESET_AT),
        Severity.WARNING,
        previous_index=1000.0 + 10 * (RESET_AT - 1),
        index=5.0,
    )
    rollover = DetectionEvent.of(
        DetectionKind.INDEX_ROLLOVER,
        TENANT,
        "hotel.gas",
        at(ROLLOVER_AT),
        Severity.INFO,
        previous_index=998.0,
        index=0.0,
        consumption=2.0,
    )
    return [reset, rollover]


HOURS = timedelta(hours=1)
GAP_START, GAP_END = at(GAP.start - 1), at(GAP.stop)
"""The elec gap: from the last reading before the silence to the first after (60 h)."""
ORANGE_AT, RED_AT = GAP_START + 9 * HOURS, GAP_START + 30 * HOURS
"""Silent for 1.5 and 5 periods of 6 h."""


def status_event(usage: str, ts: datetime, status: str, previous: str | None) -> DetectionEvent:
    return DetectionEvent.of(
        DetectionKind.TRANSMISSION_STATUS,
        TENANT,
        usage,
        ts,
        Severity.INFO,
        discriminator=status,
        status=status,
        previous=previous,
    )


def transmission_events() -> list[DetectionEvent]:
    """Every usage green from its first reading; the elec gap turns it orange, red, green."""
    greens = [status_event(u, at(0), "green", None) for u in _values(0) if u.startswith("hotel")]
    gap = DetectionEvent.of(
        DetectionKind.GAP_CLOSED,
        TENANT,
        "hotel.elec",
        GAP_END,
        Severity.WARNING,
        start=GAP_START,
        end=GAP_END,
        duration_s=60 * 3600.0,
    )
    return [
        *greens,
        status_event("hotel.elec", ORANGE_AT, "orange", "green"),
        status_event("hotel.elec", RED_AT, "red", "orange"),
        status_event("hotel.elec", GAP_END, "green", "red"),
        gap,
    ]


def insert_states(conn: psycopg.Connection) -> None:
    """The stream's current transmission of the four usages (its `usage_states` rows)."""
    conn.cursor().executemany(
        """
        INSERT INTO usage_states (usage_id, raw_partition, last_reading_at, status,
                                  status_since, period_estimated_s, state)
        VALUES (%s, 0, %s, 'green', %s, %s, '{}')
        """,
        [(u, at(READINGS - 1), at(0), 21000.0) for u in _values(0) if u.startswith("hotel")],
    )


def load(conn: psycopg.Connection, ks: range = range(READINGS)) -> None:
    """The registry, the readings k in `ks`, the events and the states, committed."""
    save_registry(conn, parse_registry(REGISTRY))
    insert_readings(conn, ks)
    write_events(conn, events() + transmission_events())
    insert_states(conn)
    conn.commit()


@contextmanager
def loaded_database(server_url: str) -> Iterator[str]:
    """A new migrated database on the server, holding the whole fixture; its URL."""
    with fresh_database(server_url) as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            load(conn)
        yield url
