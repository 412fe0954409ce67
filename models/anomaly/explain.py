"""An anomaly in a maintenance team's words: what was seen, what was expected instead."""

from __future__ import annotations

from models.anomaly.detector import AnomalyScore, Cause, Finding
from models.anomaly.seasonal import slot_name

SECONDS_PER_HOUR = 3600.0
RATIO_WORTH_SAYING = 2.0
"""A value at least this many times the usual one (or at most its inverse) is said so."""


def _quantity(value: float, unit: str | None) -> str:
    return f"{value:.4g} {unit}" if unit else f"{value:.4g}"


def explain(result: AnomalyScore, unit: str | None = None) -> str:
    """One sentence; empty while the detector warms up."""
    finding = result.finding
    if finding is None:
        return ""
    value = _quantity(result.observed, unit)
    low, high = _quantity(finding.expected_low, unit), _quantity(finding.expected_high, unit)
    match finding.cause:
        case Cause.RANGE:
            above = result.observed > finding.expected_high
            side = f"above the highest ({high})" if above else f"below the lowest ({low})"
            return f"value {value}, {side} seen so far"
        case Cause.SEASONAL:
            usual = _against_usual(result.observed, finding, unit)
            return f"value {value}, {usual}; expected {low} to {high}"
        case Cause.LEVEL:
            level = _quantity(finding.measured, unit)
            return f"level shifted to {level}, outside the levels seen so far ({low} to {high})"
        case Cause.RATE:
            rate, fastest = (
                _quantity(SECONDS_PER_HOUR * rate, unit)
                for rate in (finding.measured, finding.expected_high)
            )
            return f"value {value}, changing by {rate} per hour, faster than ever ({fastest})"
        case Cause.STUCK:
            run, longest = f"{finding.measured:.0f}", f"{finding.expected_high:.0f}"
            return (
                f"the same value {value} {run} readings in a row, never more than {longest} before"
            )


def _against_usual(observed: float, finding: Finding, unit: str | None) -> str:
    """ "3 times the usual weekday 10:00 level (15 kWh)", or the difference when a ratio
    would not mean much (a level near zero, of another sign)."""
    usual = finding.usual if finding.usual is not None else 0.0
    when = "" if finding.hour_slot is None else f" {slot_name(finding.hour_slot)}"
    reference = f"the usual{when} level ({_quantity(usual, unit)})"
    ratio = observed / usual if usual > 0 and observed > 0 else None
    if ratio is not None and ratio >= RATIO_WORTH_SAYING:
        return f"{ratio:.1f} times {reference}"
    if ratio is not None and ratio <= 1 / RATIO_WORTH_SAYING:
        return f"{100 * ratio:.0f}% of {reference}"
    difference = _quantity(abs(observed - usual), unit)
    return f"{difference} {'above' if observed > usual else 'below'} {reference}"
