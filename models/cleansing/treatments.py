"""The cleansing treatments: each finds the defects of a usage's signal and the
correction of each (excluded, or replaced for the Hampel filter), given its parameters.

Treatments judge the measured values only: an estimate is never a defect of the meter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.cleansing.signal import Action, Correction, Signal, UsageFacts
from models.detection import DetectionKind
from models.errors import SmatiError
from models.reading import UsageType
from models.rules.index import IndexPolicy, classify_decrease

MAD_TO_SIGMA = 1.4826
"""The median absolute deviation of a normal distribution times this is its sigma."""


class CleansingError(SmatiError, ValueError):
    """A treatment that cannot run: unknown, wrong parameters, or not for this usage."""


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class NoParams(Params):
    pass


class DecreasingIndexParams(Params):
    tolerance: float = Field(default=0.0, ge=0.0)
    """A decrease of at most this much is meter jitter, not a defect."""
    reset_fraction: float = Field(default=IndexPolicy.reset_fraction, gt=0.0, lt=1.0)
    rollover_margin: float = Field(default=IndexPolicy.rollover_margin, gt=0.0, lt=0.5)
    rebaseline_after: int = Field(default=IndexPolicy.rebaseline_after, ge=1)
    """Lower values this many in a row are the meter's new level, as the stream decides."""


class ThresholdParams(Params):
    min: float | None = None
    """Default: the usage's registered `min`."""
    max: float | None = None
    """Default: the usage's registered `max`."""


class IqrParams(Params):
    k: float = Field(default=1.5, gt=0.0)
    """Outside [Q1 - k IQR, Q3 + k IQR] is an outlier (Tukey's fences)."""


class MadParams(Params):
    threshold: float = Field(default=3.5, gt=0.0)
    """A robust z-score |x - median| / (1.4826 MAD) above this is an outlier."""


class HampelParams(Params):
    window: int = Field(default=3, ge=1)
    """Readings on each side of the one judged; the first and last `window` are not."""
    sigmas: float = Field(default=3.0, gt=0.0)


Finder = Callable[[Signal, UsageFacts, Any, frozenset[datetime]], list[Correction]]


@dataclass(frozen=True)
class Treatment:
    name: str
    summary: str
    params: type[Params]
    types: frozenset[UsageType]
    find: Finder


def run_treatment(
    name: str,
    signal: Signal,
    usage: UsageFacts,
    params: Mapping[str, Any],
    anomalies: frozenset[datetime] = frozenset(),
) -> tuple[Params, list[Correction]]:
    """The treatment `name` on `signal` with `params` (validated): its parameters as
    understood, and the corrections it finds. `anomalies`: the stream's anomaly events."""
    treatment = treatment_named(name)
    if usage.type not in treatment.types:
        kinds = ", ".join(sorted(treatment.types))
        raise CleansingError(
            f"treatment {name} applies to usages of type {kinds}; {usage.usage_id} is {usage.type}"
        )
    try:
        chosen = treatment.params.model_validate(dict(params))
    except ValidationError as error:
        raise CleansingError(f"treatment {name}: {problems_of(error)}") from None
    return chosen, treatment.find(signal, usage, chosen, anomalies)


def problems_of(error: ValidationError) -> str:
    """Parameters' problems in one line: `window: Input should be ...; k: ...`."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())


def treatment_named(name: str) -> Treatment:
    try:
        return TREATMENTS[name]
    except KeyError:
        raise CleansingError(
            f"unknown treatment {name!r}; known: {', '.join(TREATMENTS)}"
        ) from None


def _measured(signal: Signal) -> Iterator[tuple[datetime, float]]:
    return (
        (ts, value)
        for ts, value, estimated in zip(signal.times, signal.values, signal.estimated, strict=True)
        if not estimated
    )


def _excluded(ts: datetime, value: float, reason: str) -> Correction:
    return Correction(ts, Action.EXCLUDE, None, value, reason)


def _decreasing_index(
    signal: Signal,
    usage: UsageFacts,
    params: DecreasingIndexParams,
    _anomalies: frozenset[datetime],
) -> list[Correction]:
    """Values below the trusted index that are neither a reset nor a rollover, and that
    the index climbs back over (or the signal ends on) before `rebaseline_after` of them
    in a row: glitches, as the stream tells them apart."""
    policy = IndexPolicy(params.reset_fraction, params.rollover_margin, params.rebaseline_after)
    found: list[Correction] = []
    baseline: float | None = None
    below: list[tuple[datetime, float]] = []
    for ts, value in _measured(signal):
        if baseline is None or value >= baseline - params.tolerance:
            found += [_excluded(t, v, f"below the index {baseline:g}") for t, v in below]
            below, baseline = [], value if baseline is None else max(baseline, value)
            continue
        kind = classify_decrease(baseline, value, usage.index_max, policy)[0]
        if kind is not DetectionKind.DECREASING_INDEX:
            found += [_excluded(t, v, f"below the index {baseline:g}") for t, v in below]
            below, baseline = [], value
            continue
        below.append((ts, value))
        if len(below) >= policy.rebaseline_after:
            below, baseline = [], value
    return found + [_excluded(t, v, f"below the index {baseline:g}") for t, v in below]


def _negative(
    signal: Signal, _usage: UsageFacts, _params: NoParams, _anomalies: frozenset[datetime]
) -> list[Correction]:
    return [_excluded(ts, v, "negative consumption") for ts, v in _measured(signal) if v < 0]


def _thresholds(
    signal: Signal, usage: UsageFacts, params: ThresholdParams, _: frozenset[datetime]
) -> list[Correction]:
    low = usage.min if params.min is None else params.min
    high = usage.max if params.max is None else params.max
    if low is None and high is None:
        raise CleansingError(
            f"{usage.usage_id} has no registered min or max: give -p min=... and/or -p max=..."
        )
    found = []
    for ts, value in _measured(signal):
        if low is not None and value < low:
            found.append(_excluded(ts, value, f"below the minimum {low:g}"))
        elif high is not None and value > high:
            found.append(_excluded(ts, value, f"above the maximum {high:g}"))
    return found


def _arrays(signal: Signal) -> tuple[list[datetime], NDArray[np.float64]]:
    measured = list(_measured(signal))
    return [ts for ts, _ in measured], np.array([v for _, v in measured], dtype=np.float64)


def _iqr(
    signal: Signal, _usage: UsageFacts, params: IqrParams, _: frozenset[datetime]
) -> list[Correction]:
    times, values = _arrays(signal)
    if values.size == 0:
        return []
    q1, q3 = np.percentile(values, [25, 75])
    low, high = q1 - params.k * (q3 - q1), q3 + params.k * (q3 - q1)
    reason = f"outside the fences [{low:.4g}, {high:.4g}]"
    return [
        _excluded(ts, float(v), reason)
        for ts, v in zip(times, values, strict=True)
        if v < low or v > high
    ]


def _robust_z(deviation: NDArray[np.float64], mad: NDArray[np.float64]) -> NDArray[np.float64]:
    """|x - median| / (1.4826 MAD); a deviation where the MAD is 0 is infinitely far."""
    sigma = MAD_TO_SIGMA * mad
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, deviation / sigma, np.where(deviation > 0, np.inf, 0.0))
    return np.asarray(z, dtype=np.float64)


def _mad(
    signal: Signal, _usage: UsageFacts, params: MadParams, _: frozenset[datetime]
) -> list[Correction]:
    times, values = _arrays(signal)
    if values.size == 0:
        return []
    median = np.median(values)
    deviation = np.abs(values - median)
    z = _robust_z(deviation, np.full_like(values, np.median(deviation)))
    return [
        _excluded(ts, float(v), f"robust z-score {score:.3g} > {params.threshold:g}")
        for ts, v, score in zip(times, values, z, strict=True)
        if score > params.threshold
    ]


def _hampel(
    signal: Signal, _usage: UsageFacts, params: HampelParams, _: frozenset[datetime]
) -> list[Correction]:
    """Each value against the median and MAD of the `window` readings on each side and
    itself; an outlier is replaced by that median."""
    times, values = _arrays(signal)
    half = params.window
    if values.size < 2 * half + 1:
        return []
    windows = sliding_window_view(values, 2 * half + 1)
    medians = np.median(windows, axis=1)
    mads = np.median(np.abs(windows - medians[:, None]), axis=1)
    judged = values[half : values.size - half]
    z = _robust_z(np.abs(judged - medians), mads)
    return [
        Correction(
            times[half + n],
            Action.REPLACE,
            float(medians[n]),
            float(judged[n]),
            f"{z[n]:.3g} sigmas from the rolling median",
        )
        for n in np.flatnonzero(z > params.sigmas)
    ]


def _anomaly_events(
    signal: Signal, _usage: UsageFacts, _params: NoParams, anomalies: frozenset[datetime]
) -> list[Correction]:
    return [
        _excluded(ts, value, "anomaly found by the stream")
        for ts, value in _measured(signal)
        if ts in anomalies
    ]


_LEVELS = frozenset({UsageType.CONSUMPTION, UsageType.INSTANT})

TREATMENTS: dict[str, Treatment] = {
    t.name: t
    for t in (
        Treatment(
            "decreasing-index",
            "index values below the trusted index (not a reset nor a rollover): excluded",
            DecreasingIndexParams,
            frozenset({UsageType.INDEX}),
            _decreasing_index,
        ),
        Treatment(
            "negative-consumption",
            "negative consumptions: excluded",
            NoParams,
            frozenset({UsageType.CONSUMPTION}),
            _negative,
        ),
        Treatment(
            "thresholds",
            "values below min or above max (default: the registered ones): excluded",
            ThresholdParams,
            frozenset(UsageType),
            _thresholds,
        ),
        Treatment(
            "iqr",
            "outliers outside Tukey's fences Q1 - k IQR, Q3 + k IQR: excluded",
            IqrParams,
            _LEVELS,
            _iqr,
        ),
        Treatment(
            "mad",
            "outliers by robust z-score (median, MAD) above threshold: excluded",
            MadParams,
            _LEVELS,
            _mad,
        ),
        Treatment(
            "hampel",
            "Hampel filter: outliers of a rolling window, replaced by its median",
            HampelParams,
            _LEVELS,
            _hampel,
        ),
        Treatment(
            "anomaly-events",
            "readings the stream's anomaly detector reported: excluded",
            NoParams,
            _LEVELS,
            _anomaly_events,
        ),
    )
}
