"""river's own anomaly detectors, run on NAB next to the stream's (`--alternatives`): the
measurements behind the choice of `models.anomaly`.

Both get the file's min and max where they need a scale, as NAB allows.
"""

from __future__ import annotations

from datetime import datetime

from river import anomaly

from benchmarks.nab.corpus import DataFile
from benchmarks.nab.runner import Score


def half_space_trees(data: DataFile) -> Score:
    """10 trees of height 8 over a 250-reading window: river's defaults."""
    low, high = min(data.values), max(data.values)
    model = anomaly.HalfSpaceTrees(limits={"value": (low, max(high, low + 1.0))}, seed=42)

    def score(ts: datetime, value: float) -> float:
        features = {"value": value}
        result = float(model.score_one(features))  # type: ignore[no-untyped-call, unused-ignore]
        model.learn_one(features)  # type: ignore[no-untyped-call, unused-ignore]
        return result

    return score


def standard_absolute_deviation(data: DataFile) -> Score:
    """|value - mean| / standard deviation, squashed to [0, 1) as z / (z + 3)."""
    model = anomaly.StandardAbsoluteDeviation()

    def score(ts: datetime, value: float) -> float:
        deviation = float(model.score_one({}, value))  # type: ignore[no-untyped-call, unused-ignore]
        model.learn_one({}, value)  # type: ignore[no-untyped-call, unused-ignore]
        return deviation / (deviation + 3.0)

    return score


ALTERNATIVES = {
    "river_half_space_trees": half_space_trees,
    "river_standard_absolute_deviation": standard_absolute_deviation,
}
