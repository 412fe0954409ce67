"""The commit chain's order and acknowledgements, on in-memory batches (no Kafka).

The writes themselves are covered on the real services (test_pipeline, test_restart);
here a batch's commit is replaced to observe when it runs, and Faust's message to observe
its reference count and acknowledgement.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from faust.types import EventT

from stream.commit import BatchOutcome, CommitChain


@dataclass
class Message:
    refcount: int = 1

    def incref(self) -> None:
        self.refcount += 1


@dataclass
class Event:
    message: Message = field(default_factory=Message)
    acked: int = 0

    def ack(self) -> None:
        self.message.refcount -= 1
        self.acked += 1


@dataclass
class Recorded(BatchOutcome):
    name: str = ""
    log: list[str] = field(default_factory=list)
    fail: bool = False

    async def commit(self, sink: Any, outputs: Any) -> None:
        self.log.append(f"{self.name} starts")
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("Kafka refused the batch")
        self.log.append(f"{self.name} done")
        for event in self.messages:
            event.ack()


def chain(crashes: list[BaseException]) -> CommitChain:
    async def crash(error: BaseException) -> None:
        crashes.append(error)

    return CommitChain(cast(Any, None), cast(Any, None), crash)


def test_batches_commit_in_order_one_at_a_time_and_hold_their_messages() -> None:
    log: list[str] = []
    events = [Event(), Event()]

    async def scenario() -> None:
        commits = chain([])
        first = Recorded(name="first", log=log, messages=cast(list[EventT], events))
        await commits.submit(first)
        # Faust's own acknowledgement after the batch is handed over must not release it.
        for event in events:
            event.message.refcount -= 1
        assert all(event.message.refcount == 1 for event in events)
        await commits.submit(
            Recorded(name="second", log=log, messages=cast(list[EventT], [Event()]))
        )
        log.append("second submitted")
        await commits.idle()

    asyncio.run(scenario())
    # The second waited for the first; its own commit runs after `submit` returned.
    assert log == ["first starts", "first done", "second submitted", "second starts", "second done"]
    assert all(event.message.refcount == 0 and event.acked == 1 for event in events)


def test_a_failed_commit_stops_the_worker_and_acknowledges_nothing() -> None:
    crashes: list[BaseException] = []
    event = Event()

    async def scenario() -> None:
        commits = chain(crashes)
        batch = Recorded(name="bad", fail=True, messages=cast(list[EventT], [event]))
        await commits.submit(batch)
        await commits.idle()

    asyncio.run(scenario())
    assert [str(error) for error in crashes] == ["Kafka refused the batch"]
    assert event.acked == 0 and event.message.refcount == 2


def test_an_empty_outcome_commits_nothing() -> None:
    log: list[str] = []

    async def scenario() -> None:
        commits = chain([])
        await commits.submit(Recorded(name="empty", log=log))
        await commits.idle()

    asyncio.run(scenario())
    assert log == []
