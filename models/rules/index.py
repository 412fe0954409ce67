"""Index usages: a cumulative counter must not go backwards.

A lower index is one of three things, told apart by where it lands:
- a rollover: the meter was near its maximum (`index_max`) and restarted near zero;
- a reset: the meter restarted near zero (replaced, or its counter cleared);
- a glitch: anything else. The glitch does not become the new baseline, so the next
  good reading is compared with the last trusted index; only when the lower values
  persist (`rebaseline_after` readings in a row) does the baseline follow them.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import Reading
from models.registry import Usage
from models.rules.state import UsageState


@dataclass(frozen=True)
class IndexPolicy:
    reset_fraction: float = 0.01
    """A new index at most this fraction of the previous one counts as a reset."""
    rollover_margin: float = 0.1
    """Near the maximum / near zero, as a fraction of `index_max`."""
    rebaseline_after: int = 3


def check_index(
    state: UsageState, usage: Usage, reading: Reading, policy: IndexPolicy = IndexPolicy()
) -> tuple[UsageState, list[DetectionEvent]]:
    baseline, value = state.index_baseline, reading.value
    if baseline is None or value >= baseline:
        return state.model_copy(update={"index_baseline": value, "readings_below_baseline": 0}), []
    kind, severity, details = classify_decrease(baseline, value, usage.index_max, policy)
    below = state.readings_below_baseline + 1
    if kind is DetectionKind.DECREASING_INDEX and below < policy.rebaseline_after:
        new_state = state.model_copy(update={"readings_below_baseline": below})
    else:
        new_state = state.model_copy(update={"index_baseline": value, "readings_below_baseline": 0})
        if kind is DetectionKind.DECREASING_INDEX:
            details["rebaselined"] = True
    event = DetectionEvent.of(
        kind, reading.tenant_id, reading.usage_id, reading.ts, severity, **details
    )
    return new_state, [event]


def classify_decrease(
    baseline: float, value: float, top: float | None, policy: IndexPolicy = IndexPolicy()
) -> tuple[DetectionKind, Severity, dict[str, float | bool]]:
    """What an index `value` below the trusted `baseline` is, `top` being the meter's
    `index_max`: a rollover, a reset, or else a decreasing index (a glitch)."""
    details: dict[str, float | bool] = {"previous_index": baseline, "index": value}
    near_top = top is not None and baseline >= top * (1 - policy.rollover_margin)
    if top is not None and near_top and value <= top * policy.rollover_margin:
        details["consumption"] = top - baseline + value
        return DetectionKind.INDEX_ROLLOVER, Severity.INFO, details
    if value <= baseline * policy.reset_fraction:
        return DetectionKind.METER_RESET, Severity.WARNING, details
    details["drop"] = baseline - value
    return DetectionKind.DECREASING_INDEX, Severity.MAJOR, details
