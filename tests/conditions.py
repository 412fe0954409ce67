"""Waiting for a condition with a deadline, never for a fixed time (tenacity polls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

from models.settings import Settings
from stream.transmission import PipelineOffsets

Observed = TypeVar("Observed")


def wait_for(
    observe: Callable[[], Observed],
    holds: Callable[[Observed], bool],
    timeout: float = 60.0,
    every: float = 0.5,
) -> Observed:
    """Observe every `every` s until `holds(observed)`; the observation that held.

    AssertionError with the last observation if none held within `timeout` s.
    """

    def give_up(state: RetryCallState) -> Observed:
        last = state.outcome.result() if state.outcome else None
        raise AssertionError(f"condition not met within {timeout} s; last observed: {last!r}")

    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(every),
        retry=retry_if_result(lambda observed: not holds(observed)),
        retry_error_callback=give_up,
    )
    return retrying(observe)


def wait_until_caught_up(settings: Settings, timeout: float = 60.0) -> None:
    """Until the worker's group has committed every raw uplink published so far: all of them
    are handled, so a row one of them would add is there now."""

    def behind() -> dict[int, int]:
        snapshot = offsets.snapshot()
        return {p: end - snapshot.committed.get(p, 0) for p, end in snapshot.ends.items()}

    offsets = PipelineOffsets(settings)
    wait_for(behind, lambda lags: not any(lags.values()), timeout)
