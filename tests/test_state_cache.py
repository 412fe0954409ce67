"""The states' cache tells each change it takes, with the version it stores (no database:
`take_changes` only encodes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from models.rules import UsageState
from storage.worker_state import USAGE_STATES
from stream.state_cache import StateCache

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


def test_each_change_taken_is_told_with_the_version_stored() -> None:
    told: list[tuple[str, UsageState, str]] = []
    cache = StateCache(
        cast(Any, None),
        USAGE_STATES,
        on_change=lambda key, state, version: told.append((key, state, version)),
    )
    state = UsageState(last_ts=T0, last_value=21.5)
    cache.put("u-a", state, raw_partition=1)

    (change,) = cache.take_changes()

    assert told == [("u-a", state, change[3])]
    assert cache.version("u-a") is told[0][2]  # the clock compares versions by identity
    assert UsageState.model_validate_json(told[0][2]) == state
    assert cache.take_changes() == [] and len(told) == 1  # nothing changed: nothing told
