"""The two data sources the dashboards read, by the uids the provisioning gives them, and
the raw SQL query the SDK lacks a builder for (Grafana's PostgreSQL data source)."""

from __future__ import annotations

from typing import Any, Self

from grafana_foundation_sdk.builders.prometheus import Dataquery as PromQuery
from grafana_foundation_sdk.cog import builder, variants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

__all__ = ["POSTGRES", "PROMETHEUS", "SqlQuery", "promql", "sql"]

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="smati-prometheus")
POSTGRES = DataSourceRef(type_val="grafana-postgresql-datasource", uid="smati-postgres")


class SqlTarget(variants.Dataquery):
    """A raw SQL query of Grafana's PostgreSQL data source, as its query editor saves it
    in code mode: `rawSql` with Grafana's macros ($__timeFilter...) and variables."""

    def __init__(self, raw_sql: str, table: bool, ref_id: str = "A") -> None:
        self.raw_sql, self.table, self.ref_id = raw_sql, table, ref_id

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": POSTGRES.to_json(),
            "editorMode": "code",
            "format": "table" if self.table else "time_series",
            "rawQuery": True,
            "rawSql": self.raw_sql,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data["rawSql"], data.get("format") == "table", data.get("refId", "A"))


class SqlQuery(builder.Builder[variants.Dataquery]):
    def __init__(self, raw_sql: str, *, table: bool = False) -> None:
        self._internal = SqlTarget(raw_sql, table)

    def build(self) -> variants.Dataquery:
        return self._internal


def promql(expr: str, legend: str = "") -> PromQuery:
    query = PromQuery().expr(expr).datasource(PROMETHEUS).range()
    return query.legend_format(legend) if legend else query


def sql(raw_sql: str, *, table: bool = False) -> SqlQuery:
    return SqlQuery(" ".join(raw_sql.split()), table=table)
