"""The one waiting helper: a condition retried until it holds, with a deadline and a reason."""

from __future__ import annotations

import itertools

import pytest
from conditions import wait_for

from models.errors import SmatiError
from services.waiting import WaitTimeout, wait_until


def test_returns_the_first_true_value() -> None:
    calls = itertools.count(1)
    assert wait_until(lambda: next(calls) >= 3 and "ready", timeout=5, what="x", interval=0) == (
        "ready"
    )
    assert next(calls) == 4


def test_ignored_errors_mean_not_yet_and_are_reported() -> None:
    attempts: list[BaseException | None] = []

    def refuses() -> bool:
        raise ConnectionRefusedError("port closed")

    with pytest.raises(WaitTimeout) as raised:
        wait_until(
            refuses,
            timeout=0.3,
            what="the database",
            interval=0.05,
            ignore=(OSError,),
            on_retry=attempts.append,
        )
    message = str(raised.value)
    assert message.startswith("gave up waiting for the database after 0 s")
    assert "last error: port closed" in message
    assert isinstance(raised.value.last_error, ConnectionRefusedError)
    assert len(attempts) >= 2
    assert all(isinstance(error, ConnectionRefusedError) for error in attempts)


def test_other_errors_and_expected_failures_end_the_wait_at_once() -> None:
    calls = itertools.count(1)

    def fails() -> bool:
        next(calls)
        raise SmatiError("wrong database name")

    with pytest.raises(SmatiError, match="wrong database name"):
        wait_until(fails, timeout=5, what="x", interval=0, ignore=(Exception,))
    assert next(calls) == 2

    settings: dict[str, str] = {}
    with pytest.raises(KeyError):
        wait_until(lambda: settings["missing"], timeout=5, what="x", interval=0, ignore=(OSError,))


def test_a_false_condition_times_out_naming_what() -> None:
    with pytest.raises(WaitTimeout, match=r"^gave up waiting for the flag after 0 s$"):
        wait_until(lambda: False, timeout=0.1, what="the flag", interval=0.02)


def test_the_tests_wait_returns_the_observation_that_held_or_fails_with_the_last() -> None:
    counts = itertools.count(1)
    assert wait_for(lambda: next(counts), lambda count: count >= 3, timeout=5, every=0) == 3
    with pytest.raises(AssertionError, match=r"within 0.1 s; last observed: \{'lag': 2\}"):
        wait_for(lambda: {"lag": 2}, lambda seen: seen["lag"] == 0, timeout=0.1, every=0.02)
