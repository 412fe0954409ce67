"""Backpressure: while the database or Kafka cannot be reached, the worker stops taking
uplinks, says it is not ready, and tries again with back-off; once they are back it
resumes where it stopped (nothing past the batch that failed was acknowledged)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

log = logging.getLogger(__name__)
Result = TypeVar("Result")


class Outage:
    """What the worker cannot reach now; `pause` and `resume` stop and restart fetching
    from its raw partitions (Faust's consumer), called as the first thing goes down and
    as the last comes back."""

    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._pause, self._resume = pause, resume
        self.down: dict[str, str] = {}
        """Each service unreachable, with the last error it gave."""

    @property
    def ok(self) -> bool:
        return not self.down

    def report_down(self, service: str, error: object) -> None:
        if not self.down:
            self._pause()
        if service not in self.down:
            log.warning(
                "%s unreachable (%s): raw partitions paused, trying again with back-off",
                service,
                error,
                extra={"service": service},
            )
        self.down[service] = str(error)

    def report_up(self, service: str) -> None:
        if self.down.pop(service, None) is None:
            return
        log.info("%s reachable again", service, extra={"service": service})
        if not self.down:
            self._resume()

    async def retrying(
        self,
        service: str,
        attempt: Callable[[], Awaitable[Result]],
        outage: tuple[type[BaseException], ...],
    ) -> Result:
        """`attempt` until it succeeds; its `outage` errors are waited out with back-off
        (the event loop runs on meanwhile), any other error is raised."""

        def down(retry: RetryCallState) -> None:
            error = retry.outcome.exception() if retry.outcome else None
            self.report_down(service, error)

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(outage),
            wait=wait_exponential(multiplier=0.5, max=10),
            before_sleep=down,
            reraise=True,
        )
        result: Result = await retrying(attempt)
        self.report_up(service)
        return result
