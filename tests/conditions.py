"""Waiting for a condition with a deadline, never for a fixed time: the tests' face of
the product's one waiting helper (services.waiting.wait_until)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from models.settings import Settings
from services.waiting import WaitTimeout, wait_until
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
    last: list[Observed] = []  # the last observation, for the failure's message

    def held() -> tuple[Observed] | None:
        last[:] = [observe()]
        return (last[0],) if holds(last[0]) else None

    try:
        return wait_until(held, timeout=timeout, what="the condition", interval=every)[0]
    except WaitTimeout:
        seen = last[0] if last else None
        raise AssertionError(
            f"condition not met within {timeout} s; last observed: {seen!r}"
        ) from None


def wait_until_caught_up(settings: Settings, timeout: float = 60.0) -> None:
    """Until the worker's group has committed every raw uplink published so far: all of them
    are handled, so a row one of them would add is there now."""

    def behind() -> dict[int, int]:
        snapshot = offsets.snapshot()
        return {p: end - snapshot.committed.get(p, 0) for p, end in snapshot.ends.items()}

    offsets = PipelineOffsets(settings)
    wait_for(behind, lambda lags: not any(lags.values()), timeout)
