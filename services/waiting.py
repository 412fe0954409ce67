"""The one way to wait for something: retry a condition until it holds, or a deadline passes.

Services use it to wait until they answer, the CLI until the database does, tests until
the pipeline has done its work. Built on tenacity, so that no module keeps its own
`while time.monotonic() < deadline: ... time.sleep(...)` loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from models.errors import SmatiError

__all__ = ["WaitTimeout", "wait_until"]

T = TypeVar("T")


class WaitTimeout(SmatiError, TimeoutError):
    """A condition did not hold before its deadline; `last_error` is why, when known."""

    def __init__(self, message: str, last_error: BaseException | None) -> None:
        super().__init__(message)
        self.last_error = last_error


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    ignore: tuple[type[Exception], ...] = (),
    on_retry: Callable[[BaseException | None], None] | None = None,
) -> T:
    """Call `condition` until it returns a true value, and return that value.

    An exception of the `ignore` types counts as "not yet" (a service refusing connections
    while it starts), unless it is a `SmatiError`: an expected failure that waiting will
    not cure ends the wait at once, as does any other exception. `on_retry` is called
    before each pause with the exception of the attempt, if any (to say that we wait).
    Raises WaitTimeout ("gave up waiting for <what> after N s (last error: ...)") once
    `timeout` seconds have passed.
    """

    def not_yet(error: BaseException) -> bool:
        return isinstance(error, ignore) and not isinstance(error, SmatiError)

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            on_retry(state.outcome.exception())

    retrying = Retrying(
        stop=stop_after_delay(max(0.0, timeout)),
        wait=wait_fixed(interval),
        retry=retry_if_result(lambda value: not value) | retry_if_exception(not_yet),
        before_sleep=before_sleep,
    )
    try:
        return cast(T, retrying(condition))  # a true value: None is retried
    except RetryError as error:
        last = error.last_attempt.exception()
        detail = f" (last error: {last})" if last is not None else ""
        message = f"gave up waiting for {what} after {timeout:.0f} s{detail}"
        raise WaitTimeout(message, last) from None
