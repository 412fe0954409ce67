"""Synchronising end-to-end tests on conditions, never on fixed sleeps."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

from models.settings import Settings
from stream.transmission import PipelineOffsets


def wait_until(
    condition: Callable[[], bool],
    timeout: float = 90.0,
    state: Callable[[], object] = lambda: None,
) -> None:
    """Poll `condition`; on timeout, fail showing `state()`, what was observed instead."""

    def fail(_: RetryCallState) -> None:
        raise AssertionError(f"condition not met in {timeout} s; observed: {state()!r}")

    Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.5),
        retry=retry_if_result(lambda met: not met),
        retry_error_callback=fail,
    )(condition)


def wait_until_all_committed(settings: Settings, timeout: float = 60.0) -> None:
    """Until the worker group's committed offsets reach the end of the raw topic: every
    uplink published so far is handled, so a row it would add is there now."""
    offsets = PipelineOffsets(settings)

    def behind() -> dict[int, int]:
        snapshot = offsets.snapshot()
        committed = snapshot.committed
        return {p: end - committed.get(p, 0) for p, end in snapshot.ends.items()}

    wait_until(lambda: not any(behind().values()), timeout, behind)
