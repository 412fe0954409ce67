"""The three rows an analyst reviews before applying a cleansing or a gap filling, as a
PNG: the signal as stored, the defects found (in red; estimates in orange), the signal
once corrected. Drawn from `models.cleansing.review`'s output, which a review page can
serve as it is."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from models.cleansing import Action, Correction, Review, Signal
from reporting.charts import day_numbers

__all__ = ["review_png"]

_LINE = "#1f5f8b"
_DEFECT = "#c62828"
_ESTIMATE = "#e0892b"
_FADED = "#b0b0b0"


def review_png(review: Review, title: str, unit: str, zone: ZoneInfo) -> bytes:
    figure = Figure(figsize=(11, 7), layout="constrained")
    stored, defects, corrected = figure.subplots(3, 1, sharex=True)
    figure.suptitle(title)
    _signal(stored, review.stored, zone, _LINE)
    stored.set_title("As stored", loc="left")
    _signal(defects, review.stored, zone, _FADED)
    _defects(defects, review.defects, zone)
    defects.set_title(_found(review.defects), loc="left")
    _signal(corrected, review.corrected, zone, _LINE)
    _estimates(corrected, review.corrected, zone)
    corrected.set_title("Corrected", loc="left")
    for axes in (stored, defects, corrected):
        axes.set_ylabel(unit)
        axes.grid(alpha=0.3)
    corrected.xaxis_date()
    corrected.set_xlabel(f"time ({zone.key})")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _found(corrections: Sequence[Correction]) -> str:
    estimates = sum(c.action is Action.ESTIMATE for c in corrections)
    defects = len(corrections) - estimates
    found = [f"{defects} defects found"] if defects or not estimates else []
    found += [f"{estimates} values estimated"] if estimates else []
    return ", ".join(found)


def _local(times: Sequence[datetime], zone: ZoneInfo) -> NDArray[np.float64]:
    """matplotlib's numbers of the naive local times (it would otherwise draw UTC)."""
    return np.array(
        day_numbers([t.astimezone(zone).replace(tzinfo=None) for t in times]), dtype=np.float64
    )


def _values(values: Sequence[float | None]) -> NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _signal(axes: Axes, signal: Signal, zone: ZoneInfo, colour: str) -> None:
    axes.plot(_local(signal.times, zone), _values(signal.values), color=colour, linewidth=0.8)


def _defects(axes: Axes, defects: Sequence[Correction], zone: ZoneInfo) -> None:
    found = [d for d in defects if d.original is not None]
    _dots(axes, [(d.ts, d.original) for d in found], zone, _DEFECT, 18)
    estimates = [d for d in defects if d.action is Action.ESTIMATE]
    _dots(axes, [(d.ts, d.value) for d in estimates], zone, _ESTIMATE, 8)


def _estimates(axes: Axes, signal: Signal, zone: ZoneInfo) -> None:
    points = [
        (ts, value)
        for ts, value, estimated in zip(signal.times, signal.values, signal.estimated, strict=True)
        if estimated
    ]
    _dots(axes, points, zone, _ESTIMATE, 8)


def _dots(
    axes: Axes,
    points: Sequence[tuple[datetime, float | None]],
    zone: ZoneInfo,
    colour: str,
    size: float,
) -> None:
    times = _local([ts for ts, _ in points], zone)
    axes.scatter(times, _values([v for _, v in points]), color=colour, s=size, zorder=3)
