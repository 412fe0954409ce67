"""The queries of the generated dashboards, as Grafana would send them: PromQL with its
interval variables, SQL with its PostgreSQL macros and dashboard variables expanded."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

GRAFANA = Path(__file__).parent.parent / "grafana"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    text: str
    """PromQL (`expr`) or SQL (`rawSql`), as the dashboard holds it."""


def dashboard(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA / "dashboards" / f"{name}.json").read_text())
    return loaded


def panel_queries(name: str, key: str) -> list[PanelQuery]:
    """Every target's `key` (expr or rawSql) in the dashboard `name`."""
    board = dashboard(name)
    return [
        PanelQuery(name, panel["title"], target[key])
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if key in target
    ]


def variable_queries(name: str) -> list[str]:
    return [variable["query"] for variable in dashboard(name)["templating"]["list"]]


def promql(expr: str, rate_interval: str) -> str:
    """Grafana's interval variables in `expr` replaced (its range is the test's own)."""
    return expr.replace("$__rate_interval", rate_interval).replace("$__interval", rate_interval)


def sql(query: str, start: datetime, end: datetime, variables: Mapping[str, str]) -> str:
    """Grafana's PostgreSQL macros expanded as its data source does, then the dashboard's
    variables (single-valued: Grafana puts their value as is, the query quotes it)."""

    def time_filter(found: re.Match[str]) -> str:
        column = found.group(1).strip()
        return f"{column} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"

    def time_group(found: re.Match[str], alias: bool) -> str:
        column, interval = (part.strip() for part in found.group(1).split(","))
        seconds = _seconds(interval.strip("'"))
        bucket = f"floor(extract(epoch from {column})/{seconds})*{seconds}"
        return f'{bucket} AS "time"' if alias else bucket

    expanded = re.sub(r"\$__timeFilter\(([^)]*)\)", time_filter, query)
    expanded = re.sub(r"\$__timeGroupAlias\(([^)]*)\)", lambda m: time_group(m, True), expanded)
    expanded = re.sub(r"\$__timeGroup\(([^)]*)\)", lambda m: time_group(m, False), expanded)
    for name, value in variables.items():
        expanded = expanded.replace(f"${name}", value)
    left = re.findall(r"\$\w+", expanded)
    assert not left, f"not expanded: {left} in {query}"
    return expanded


def _seconds(interval: str) -> int:
    return int(interval[:-1]) * _UNITS[interval[-1]]
