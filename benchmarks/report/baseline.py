"""The baseline: the raw readings loaded into pandas and aggregated there.

A `DataGate` like the rollups' `MetersGate`, so that the same report is rendered from
either: the benchmark compares the two sources, everything else being equal.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg

from models.energy import energy_of
from reporting.gates import MonthValue, Series, meter_series
from reporting.period import Period
from storage.report_registry import UsageInfo, usages_of

_RAW = """
    SELECT usage_id, ts, value FROM readings
    WHERE tenant_id = %s AND usage_id = ANY(%s) AND ts >= %s AND ts < %s
    ORDER BY usage_id, ts
"""


class PandasMetersGate:
    """An entity's meters per local month, aggregated in pandas from every raw reading."""

    def __init__(
        self, conn: psycopg.Connection, tenant_id: str, period: Period, entity_id: str
    ) -> None:
        self._conn, self._tenant, self._period, self._entity = conn, tenant_id, period, entity_id

    def series(self) -> list[Series]:
        usages = usages_of(self._conn, self._tenant, [self._entity])
        meters = {u.id: u for u in usages if energy_of(u.type, u.tags) is not None}
        if not meters:
            return []
        zone = next(iter(meters.values())).timezone
        monthly = self._monthly(list(meters), zone)
        return [self._meter(meters[usage_id], monthly) for usage_id in meters]

    def _monthly(self, usage_ids: list[str], zone: str) -> pd.DataFrame:
        start = pd.Timestamp(self._period.start, tz=zone)
        end = pd.Timestamp(self._period.end, tz=zone)
        rows = self._conn.execute(_RAW, (self._tenant, usage_ids, start, end)).fetchall()
        raw = pd.DataFrame(rows, columns=["usage_id", "ts", "value"])
        local = pd.to_datetime(raw["ts"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
        raw["month"] = local.dt.to_period("M")
        step = raw.groupby("usage_id")["value"].diff().fillna(0.0)
        raw["index_step"] = step.where(step >= 0, raw["value"])  # a decrease: a reset
        raw["positive"] = raw["value"].clip(lower=0)
        return raw.groupby(["usage_id", "month"]).agg(
            index_step=("index_step", "sum"),
            positive=("positive", "sum"),
            readings=("value", "size"),
        )

    def _meter(self, usage: UsageInfo, monthly: pd.DataFrame) -> Series:
        energy = energy_of(usage.type, usage.tags)
        assert energy is not None
        column = "index_step" if usage.type == "index" else "positive"
        found: dict[date, MonthValue] = {}
        for month in self._period.months:
            key = (usage.id, pd.Period(month, "M"))
            if key in monthly.index:
                row = monthly.loc[key]
                expected = _month_seconds(month, usage.timezone) / usage.period_s
                completeness = min(1.0, float(row["readings"]) / expected)
                found[month] = MonthValue(float(row[column]), completeness)
        return meter_series(usage, energy, self._period, found)


def _month_seconds(month: date, zone: str) -> float:
    start = pd.Timestamp(month, tz=zone)
    return float((start + pd.offsets.MonthBegin(1) - start).total_seconds())
