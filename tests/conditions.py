"""Waiting for a condition with a deadline, never for a fixed time (tenacity polls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

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
