"""`smati bench codecs` measures both codecs of the same frame in one run (small run)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from smati.cli import main


def test_bench_codecs_prints_both_costs_and_their_ratios() -> None:
    result = CliRunner().invoke(main, ["bench", "codecs", "--json", "--uplinks", "20",
                                       "--batch", "10"])  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["engine"].startswith("V8 ")
    for name in ("native_us", "js_per_call_us", "js_batched_us", "decode_native_us",
                 "decode_js_us", "adeunis_temp_batched_us"):  # fmt: skip
        assert figures[name] > 0
    assert figures["ratio_batched"] > 0 and figures["ratio_decode"] > 0
