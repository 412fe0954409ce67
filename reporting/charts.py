"""matplotlib charts as inline SVG (Agg-free: `Figure` alone, never pyplot's global state).

Text stays text in the SVG (`svg.fonttype: none`): searchable in the PDF, and the page's
DejaVu font draws it.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = ["bar_chart", "day_numbers", "histogram", "pie_chart", "time_series"]

_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "smati",
}
PALETTE = ("#1f5f8b", "#e0892b", "#4c9a5f", "#b8433c", "#7a5ea8", "#8a6d3b", "#3a9bb0", "#c55a9c")


def _svg(figure: Figure) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return Markup(text[text.index("<svg") :])


_EPOCH = datetime(1970, 1, 1)


def day_numbers(times: Sequence[datetime]) -> list[float]:
    """matplotlib's date numbers (days since its 1970 epoch) of naive local times."""
    return [(t - _EPOCH).total_seconds() / 86400 for t in times]


def _figure(width: float = 7.0, height: float = 2.6) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def bar_chart(
    labels: Sequence[str],
    groups: Mapping[str, Sequence[float | None]],
    hatched: Mapping[str, Sequence[bool]],
    unit: str,
    number: Callable[[float], str],
) -> Markup:
    """Bars per label (month), one colour per group (year); hatched bars are incomplete.

    `number` writes the axis' figures the report's way."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure()
        axes = figure.add_subplot()
        width = 0.8 / max(1, len(groups))
        for n, (name, values) in enumerate(groups.items()):
            xs = [i + n * width - 0.4 + width / 2 for i in range(len(labels))]
            bars = axes.bar(xs, [v or 0 for v in values], width, label=name, color=PALETTE[n % 8])
            for bar, marked in zip(bars, hatched[name], strict=True):
                if marked:
                    bar.set_hatch("///")
                    bar.set_edgecolor("white")
        axes.set_xticks(range(len(labels)), labels)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: number(y)))
        axes.set_ylabel(unit)
        axes.legend(
            frameon=False, ncols=min(6, len(groups)), loc="lower center", bbox_to_anchor=(0.5, 1.0)
        )
        return _svg(figure)


def pie_chart(shares: dict[str, float], percent: Sequence[str]) -> Markup:
    """Each part's share, labelled with its (localised) percentage."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(6.0, 2.6)
        axes = figure.add_subplot()
        wedges, _ = axes.pie(
            list(shares.values()),
            colors=PALETTE[: len(shares)],
            startangle=90,
            counterclock=False,
            wedgeprops={"linewidth": 1, "edgecolor": "white"},
        )
        labels = [f"{name} ({share})" for name, share in zip(shares, percent, strict=True)]
        axes.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        axes.set_aspect("equal")
        return _svg(figure)


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    xlabel: str,
    ylabel: str,
    markers: dict[str, float] | None = None,
) -> Markup:
    """Counts per bin, with vertical lines at named values (the periods)."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.0, 2.3)
        axes = figure.add_subplot()
        widths = [b - a for a, b in itertools.pairwise(edges)]
        axes.bar(edges[:-1], counts, widths, align="edge", color=PALETTE[0], edgecolor="white")
        for n, (name, x) in enumerate((markers or {}).items()):
            axes.axvline(x, color=PALETTE[n + 1], linestyle="--", label=name)
        if markers:
            axes.legend(frameon=False)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        return _svg(figure)


def time_series(
    times: Sequence[datetime],
    means: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    marks: Mapping[str, tuple[Sequence[datetime], Sequence[float]]],
    unit: str,
) -> Markup:
    """The mean per time bucket within its low-high band, and marked points per kind.

    Times are naive, in the building's zone."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.0, 2.8)
        axes = figure.add_subplot()
        xs = day_numbers(times)
        axes.fill_between(xs, lows, highs, color=PALETTE[0], alpha=0.2, linewidth=0)
        axes.plot(xs, means, color=PALETTE[0], linewidth=0.8)
        for n, (name, (when, ys)) in enumerate(marks.items()):
            color = PALETTE[(n + 1) % 8]
            axes.scatter(day_numbers(when), ys, s=14, color=color, label=name, zorder=3)
        if marks:
            axes.legend(frameon=False, ncols=3)
        axes.set_ylabel(unit)
        axes.xaxis_date()
        axes.tick_params(axis="x", labelrotation=25)
        return _svg(figure)
