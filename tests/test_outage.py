"""Backpressure bookkeeping (stream.outage), without services: the end-to-end outage is in
test_restart (PostgreSQL stopped for 20 s under a running worker)."""

from __future__ import annotations

import asyncio

import pytest

from stream.outage import Outage


def recorded() -> tuple[Outage, list[str]]:
    calls: list[str] = []
    outage = Outage(pause=lambda: calls.append("pause"), resume=lambda: calls.append("resume"))
    return outage, calls


def test_partitions_pause_at_the_first_outage_and_resume_once_everything_is_back() -> None:
    outage, calls = recorded()
    outage.report_down("database", "connection refused")
    outage.report_down("kafka", "messages not taken")
    outage.report_down("database", "still refused")
    assert calls == ["pause"] and outage.down == {
        "database": "still refused",
        "kafka": "messages not taken",
    }
    outage.report_up("database")
    assert calls == ["pause"] and not outage.ok
    outage.report_up("kafka")
    outage.report_up("kafka")
    assert calls == ["pause", "resume"] and outage.ok


def test_retrying_waits_out_the_outage_then_reports_the_service_back() -> None:
    outage, calls = recorded()
    failures = [ConnectionError("refused"), ConnectionError("refused")]

    async def attempt() -> str:
        if failures:
            raise failures.pop()
        return "written"

    result = asyncio.run(outage.retrying("database", attempt, (ConnectionError,)))
    assert result == "written" and failures == []
    assert calls == ["pause", "resume"] and outage.ok


def test_retrying_raises_what_is_no_outage_without_pausing() -> None:
    outage, calls = recorded()

    async def attempt() -> str:
        raise ValueError("a bad row")

    with pytest.raises(ValueError, match="a bad row"):
        asyncio.run(outage.retrying("database", attempt, (ConnectionError,)))
    assert calls == [] and outage.ok
