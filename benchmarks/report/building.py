"""A benchmark building: meters with two years of 10-minute readings, loaded by COPY.

Electricity, gas, water index meters and heating energy per interval, with a daily and a
seasonal rhythm; readings go straight into `readings` (the stream's own speed is another
benchmark's), and the statement trigger notes their ranges as it would the stream's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from models.reading import UsageType
from models.registry import Entity, Equipment, Registry, Tenant, Usage
from reporting.period import Period
from storage.registry_store import save_registry

TENANT, ENTITY = "bench", "bench-hotel"
STEP_S = 600
START = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)  # 2024-01-01 00:00 in Paris
END = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
FIRST_MONTH = "2024-01"
ZONE = "Europe/Paris"


def period(end: datetime) -> Period:
    """The whole local months from the first reading to `end`."""
    last = end.astimezone(ZoneInfo(ZONE)) - timedelta(days=1)
    return Period.of_months(FIRST_MONTH, f"{last:%Y-%m}")


@dataclass(frozen=True)
class MeterKind:
    prefix: str
    type: UsageType
    unit: str
    tags: tuple[str, ...]
    per_step: float
    """Mean consumption per 10 minutes."""
    winter: float
    """How much more in mid-winter than on average (0: no season)."""
    kwh_per_unit: float | None = None


KINDS = (
    (30, MeterKind("elec", UsageType.INDEX, "kWh", ("elec", "meter"), 2.0, 0.2)),
    (10, MeterKind("gas", UsageType.INDEX, "m3", ("naturalGas", "meter"), 1.5, 0.9, 10.5)),
    (5, MeterKind("heat", UsageType.CONSUMPTION, "kWh", ("heating", "energy"), 8.0, 0.9)),
    (5, MeterKind("water", UsageType.INDEX, "m3", ("water", "meter"), 0.05, 0.0)),
)


Kinds = tuple[tuple[int, MeterKind], ...]


def registry(kinds: Kinds) -> Registry:
    equipment = tuple(
        Equipment(
            id=f"{ENTITY}.{kind.prefix}-{n:02d}",
            name=f"{kind.prefix} meter {n:02d}",
            usages=(
                Usage(
                    id=f"{ENTITY}.{kind.prefix}-{n:02d}",
                    name=f"{kind.prefix.capitalize()} {n:02d}",
                    type=kind.type,
                    unit=kind.unit,
                    period_s=STEP_S,
                    tags=kind.tags,
                    kwh_per_unit=kind.kwh_per_unit,
                ),
            ),
        )
        for how_many, kind in kinds
        for n in range(how_many)
    )
    entity = Entity(
        id=ENTITY,
        timezone=ZONE, name="Benchmark Hotel", kind="hotel", surface_m2=12_000, occupants=400,
        rooms=220, equipment=equipment,
    )  # fmt: skip
    return Registry(tenants=(Tenant(id=TENANT, name="Benchmark", entities=(entity,)),))


def _values(kind: MeterKind, steps: np.ndarray, seed: int) -> np.ndarray:
    days = steps * STEP_S / 86400
    season = 1 + kind.winter * np.cos(2 * np.pi * days / 365.25)
    daily = 1 + 0.5 * np.sin(2 * np.pi * (days % 1) - np.pi / 2)
    noise = np.random.default_rng(seed).uniform(0.8, 1.2, len(steps))
    used = kind.per_step * season * daily * noise
    return np.cumsum(used) if kind.type is UsageType.INDEX else used


def _copy_text(usage_id: str, unit: str, times: np.ndarray, values: np.ndarray) -> str:
    """COPY's text format: usage, time, value, unit, tenant, source, device, origin."""
    stamps = np.char.add(f"{usage_id}\t", np.datetime_as_string(times, unit="s"))
    lines = np.char.add(np.char.add(stamps, "+00\t"), np.char.mod("%.4f", values))
    return "".join(np.char.add(lines, f"\t{unit}\t{TENANT}\tbench\tbench\tbench\n").tolist())


_COPY = """
    COPY readings (usage_id, ts, value, unit, tenant_id, source, device_id, origin) FROM STDIN
"""


def load(conn: psycopg.Connection, kinds: Kinds = KINDS, end: datetime = END) -> int:
    """The registry and every meter's readings from START to `end`, by one COPY; returns
    the rows loaded."""
    save_registry(conn, registry(kinds))
    count = int((end - START).total_seconds() // STEP_S)
    steps = np.arange(count)
    times = np.datetime64(START.replace(tzinfo=None), "s") + steps * np.timedelta64(STEP_S, "s")
    rows = 0
    with conn.cursor() as cur, cur.copy(_COPY) as copy:
        meters = [(n, kind) for how_many, kind in kinds for n in range(how_many)]
        for seed, (n, kind) in enumerate(meters):
            usage_id = f"{ENTITY}.{kind.prefix}-{n:02d}"
            copy.write(_copy_text(usage_id, kind.unit, times, _values(kind, steps, seed)))
            rows += count
    conn.commit()
    return rows
