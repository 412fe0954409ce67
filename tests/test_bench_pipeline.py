"""`smati bench pipeline` end to end at a small size: every figure is measured and printed.

The figures themselves are not asserted (speed belongs to the benchmark, not the tests),
only that each phase ran on real Apache Kafka and PostgreSQL and reported coherently.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration
KEYS = {
    "bare_faust_rps",
    "bare_faust_runs_rps",
    "pipeline_rps",
    "ratio",
    "usages",
    "uplinks",
    "workers",
    "peak_rss_mb",
    "peak_rss_total_mb",
    "latency_p50_ms",
    "latency_p99_ms",
    "recovery_s",
    "state_load_s",
    "steal_pct_bare",
    "steal_pct_pipeline",
}


def test_bench_pipeline_prints_every_figure_as_json() -> None:
    args = ["bench", "pipeline", "--usages", "200", "--uplinks", "8000", "--probes", "20"]
    args += ["--workers", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "smati.cli", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert set(figures) == KEYS
    assert (figures["usages"], figures["uplinks"], figures["workers"]) == (200, 8000, 2)
    assert figures["bare_faust_rps"] > 0 and figures["pipeline_rps"] > 0
    assert figures["bare_faust_rps"] == pytest.approx(
        sum(figures["bare_faust_runs_rps"]) / 2, abs=0.1
    )
    ratio = figures["pipeline_rps"] / figures["bare_faust_rps"]
    assert figures["ratio"] == pytest.approx(ratio, abs=0.002)
    assert 0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"]
    assert figures["peak_rss_mb"] > 50  # a Python worker with Faust loaded
    assert figures["peak_rss_total_mb"] > figures["peak_rss_mb"]  # two workers' together
    assert 0 <= figures["steal_pct_bare"] < 100 and 0 <= figures["steal_pct_pipeline"] < 100
    assert figures["recovery_s"] > 0 and figures["state_load_s"] is not None
