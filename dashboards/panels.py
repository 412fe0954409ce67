"""Panel shapes the dashboards share: a time series, a stat, a table, each with what it
shows said in its description (the README's runbook says what to do about it)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import piechart, stat, table, timeseries
from grafana_foundation_sdk.cog import builder, variants
from grafana_foundation_sdk.models import dashboard
from grafana_foundation_sdk.models.dashboard import DataSourceRef

__all__ = ["PanelBuilder", "pie", "rows", "series", "single"]

Query = builder.Builder[variants.Dataquery]
PanelBuilder = builder.Builder[dashboard.Panel]


def series(
    title: str, description: str, unit: str, source: DataSourceRef, *queries: Query
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(source)
        .height(8)
        .span(12)
    )
    for query in queries:
        panel = panel.with_target(query)
    return panel


def single(
    title: str, description: str, unit: str, source: DataSourceRef, query: Query
) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(source)
        .height(6)
        .span(6)
        .with_target(query)
    )


def rows(title: str, description: str, source: DataSourceRef, query: Query) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(source)
        .height(8)
        .span(12)
        .with_target(query)
    )


def pie(title: str, description: str, source: DataSourceRef, query: Query) -> piechart.Panel:
    return (
        piechart.Panel()
        .title(title)
        .description(description)
        .datasource(source)
        .height(8)
        .span(12)
        .with_target(query)
    )
