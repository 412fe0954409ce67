"""Panel shapes the dashboards share: a time series, a stat, a table, a pie, each with what
it shows said in its description (the README's runbook says what to do about it)."""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import piechart, stat, table, timeseries
from grafana_foundation_sdk.cog import builder, variants
from grafana_foundation_sdk.models import dashboard
from grafana_foundation_sdk.models.dashboard import DataSourceRef

__all__ = ["PanelBuilder", "pie", "rows", "series", "single"]

Query = builder.Builder[variants.Dataquery]
PanelBuilder = builder.Builder[dashboard.Panel]


class _Panel(Protocol):
    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: DataSourceRef) -> Self: ...
    def height(self, h: int) -> Self: ...
    def span(self, w: int) -> Self: ...
    def with_target(self, target: Query) -> Self: ...


P = TypeVar("P", bound=_Panel)


def _framed(
    panel: P, title: str, description: str, source: DataSourceRef, queries: tuple[Query, ...]
) -> P:
    """`panel` titled, described, on `source`, half the width (a stat a quarter)."""
    small = isinstance(panel, stat.Panel)
    framed = (
        panel.title(title)
        .description(description)
        .datasource(source)
        .height(6 if small else 8)
        .span(6 if small else 12)
    )
    for query in queries:
        framed = framed.with_target(query)
    return framed


def series(
    title: str, description: str, unit: str, source: DataSourceRef, *queries: Query
) -> timeseries.Panel:
    return _framed(timeseries.Panel().unit(unit), title, description, source, queries)


def single(
    title: str, description: str, unit: str, source: DataSourceRef, query: Query
) -> stat.Panel:
    return _framed(stat.Panel().unit(unit), title, description, source, (query,))


def rows(title: str, description: str, source: DataSourceRef, query: Query) -> table.Panel:
    return _framed(table.Panel(), title, description, source, (query,))


def pie(title: str, description: str, source: DataSourceRef, query: Query) -> piechart.Panel:
    return _framed(piechart.Panel(), title, description, source, (query,))
