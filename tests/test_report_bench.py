"""`smati bench report` at a small size: the same report from the rollups and from pandas.

Its figures are not asserted (speed belongs to the benchmark): only that every phase ran
on a real PostgreSQL, and that the baseline computed the rollups' monthly figures (the
run raises otherwise).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from benchmarks.report import building
from benchmarks.report.run import run_benchmark

pytestmark = pytest.mark.integration


def test_bench_report_at_a_small_size() -> None:
    kinds = tuple((1, kind) for _, kind in building.KINDS)  # one meter of each kind
    end = building.START + timedelta(days=45)  # January, then half of February
    figures = run_benchmark(kinds, end).as_dict()
    assert figures["rows"] == 4 * 45 * 144
    assert figures["meters"] == 4
    for key in ("load_s", "rollup_s", "report_s", "baseline_s", "speedup", "render_s"):
        assert figures[key] > 0
