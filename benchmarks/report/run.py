"""Energy report from the rollups against the pandas baseline, in one run.

Starts its own PostgreSQL, loads the benchmark building by COPY, brings the rollups up to
date (the cost the stream's writes leave to the reports, timed apart), then renders the
same energy report, HTML and PDF, twice: from the rollups, and from every raw reading
aggregated in pandas. Both must give the same monthly figures.

A first report is rendered untimed: WeasyPrint's import, Pango's fonts, matplotlib's
font cache, the templates' compilation and Babel's locale data are paid once per
process, and only by whichever timed path came first (the rollups' one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg

from benchmarks.report import building
from benchmarks.report.baseline import PandasMetersGate
from reporting.energy import EnergyRequest, MetersSource, energy_report
from reporting.gates import DataMerger, MetersGate
from reporting.locale import Formatter
from reporting.period import Period
from reporting.render import render_html, render_pdf
from services.postgres import PostgresServer
from storage.migrate import migrate
from storage.rollups import refresh_rollups

__all__ = ["Figures", "run_benchmark"]


@dataclass(frozen=True)
class Figures:
    rows: int
    meters: int
    load_s: float
    rollup_s: float
    report_s: float
    baseline_s: float
    speedup: float
    data_s: float
    """Of report_s: the figures, read from the rollups."""
    baseline_data_s: float
    """Of baseline_s: the same figures, from the raw rows in pandas."""
    render_s: float
    """Of report_s: HTML with its charts, then PDF (the same work in the baseline)."""

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _render(
    conn: psycopg.Connection, request: EnergyRequest, meters: MetersSource | None
) -> tuple[float, float]:
    """The energy report in HTML and PDF: seconds to gather its figures, to render it."""
    f = Formatter("fr")
    started = time.perf_counter()
    report, _ = energy_report(conn, request, f, datetime.now(UTC), meters)
    gathered = time.perf_counter()
    render_pdf(render_html(report, f))
    return gathered - started, time.perf_counter() - gathered


def _pandas(conn: psycopg.Connection, period: Period) -> MetersSource:
    return lambda entity: PandasMetersGate(conn, building.TENANT, period, entity.id)


def _timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _same_figures(conn: psycopg.Connection, period: Period) -> None:
    """The baseline computes what the rollups do, or the comparison means nothing."""
    ours = DataMerger(MetersGate(conn, building.TENANT, period, entity_ids=[building.ENTITY]))
    theirs = DataMerger(PandasMetersGate(conn, building.TENANT, period, building.ENTITY))
    for a, b in zip(ours.series(), theirs.series(), strict=True):
        for month in period.months:
            x, y = a.months[month], b.months[month]
            values = (x.value or 0.0, y.value or 0.0)
            same = (x.value is None) == (y.value is None) and math.isclose(*values, rel_tol=1e-9)
            if not same or not math.isclose(x.completeness, y.completeness):
                raise AssertionError(f"{a.label} {month}: rollups {x}, pandas {y}")


def run_benchmark(
    kinds: building.Kinds = building.KINDS,
    end: datetime = building.END,
    say: Callable[[str], None] = lambda _: None,
) -> Figures:
    with PostgresServer(use_env=False) as server:
        migrate(server.url)
        with psycopg.connect(server.url) as conn:
            say("loading the readings by COPY")
            load_s, rows = _timed(lambda: building.load(conn, kinds, end))
            say(f"{rows} rows in {load_s:.1f} s; bringing the rollups up to date")
            rollup_s, _ = _timed(lambda: refresh_rollups(conn))
            period = building.period(end)
            request = EnergyRequest(building.TENANT, [building.ENTITY], period)
            say("checking the baseline gives the same figures")
            _same_figures(conn, period)
            say("a first, untimed report: what either timed path would pay first")
            _render(conn, request, None)
            say("the report from the rollups")
            data_s, render_s = _render(conn, request, None)
            say("the report from pandas")
            baseline_data_s, baseline_render_s = _render(conn, request, _pandas(conn, period))
    report_s, baseline_s = data_s + render_s, baseline_data_s + baseline_render_s
    return Figures(
        rows=rows,
        meters=sum(n for n, _ in kinds),
        load_s=round(load_s, 2),
        rollup_s=round(rollup_s, 2),
        report_s=round(report_s, 2),
        baseline_s=round(baseline_s, 2),
        speedup=round(baseline_s / report_s, 1),
        data_s=round(data_s, 2),
        baseline_data_s=round(baseline_data_s, 2),
        render_s=round(render_s, 2),
    )
