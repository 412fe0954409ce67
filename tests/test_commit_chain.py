"""The commit chain's order and acknowledgements, on in-memory batches (no Kafka).

The writes themselves are covered on the real services (test_pipeline, test_restart);
here a batch's steps are replaced to observe when they run and when its events are
acknowledged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from faust.types import EventT

from stream.commit import BatchOutcome, CommitChain, Step


@dataclass
class Event:
    acked: int = 0

    def ack(self) -> None:
        self.acked += 1


@dataclass
class Recorded(BatchOutcome):
    """Logs each step's start and end; `fail` names the step that raises."""

    name: str = ""
    log: list[str] = field(default_factory=list)
    fail: str | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)

    def steps(self, sink: Any, outputs: Any, cleared_by_hand: Any) -> tuple[Step, Step, Step]:
        def step(name: str) -> Step:
            async def run() -> None:
                self.log.append(f"{self.name} {name}")
                await asyncio.sleep(self.step_seconds.get(name, 0.01))
                if self.fail == name:
                    raise RuntimeError(f"{self.name} {name} failed")
                self.log.append(f"{self.name} {name} done")
                if name == "save":
                    for event in self.messages:
                        event.ack()

            return run

        return step("store"), step("publish"), step("save")


def chain(crashes: list[BaseException]) -> CommitChain:
    async def crash(error: BaseException) -> None:
        crashes.append(error)

    return CommitChain(cast(Any, None), cast(Any, None), crash)


def batch(name: str, log: list[str], events: list[Event] | None = None, **kw: Any) -> Recorded:
    messages = cast(list[EventT[bytes]], events or [Event()])
    return Recorded(name=name, log=log, messages=messages, **kw)


def test_each_step_follows_the_same_step_of_the_batch_before() -> None:
    log: list[str] = []

    async def scenario() -> None:
        commits = chain([])
        # The first batch stores slowly: the second may not store before it.
        await commits.submit(batch("1", log, step_seconds={"store": 0.05}))
        await commits.submit(batch("2", log))
        await commits.idle()

    asyncio.run(scenario())
    for step in ("store", "publish", "save"):
        assert log.index(f"1 {step} done") < log.index(f"2 {step}")
    # ... and the steps overlap: the second stores while the first publishes.
    assert log.index("2 store") < log.index("1 publish done")


def test_messages_are_acknowledged_once_their_batch_is_saved() -> None:
    events = [Event(), Event()]

    async def scenario() -> None:
        commits = chain([])
        await commits.submit(batch("1", [], events, step_seconds={"save": 0.05}))
        assert all(event.acked == 0 for event in events)  # submitted, not yet committed
        await commits.idle()

    asyncio.run(scenario())
    assert all(event.acked == 1 for event in events)


def test_submit_waits_while_depth_batches_are_committing() -> None:
    log: list[str] = []

    async def scenario() -> None:
        commits = chain([])
        for n in range(CommitChain.DEPTH):
            await commits.submit(batch(str(n), log, step_seconds={"save": 0.05}))
        log.append("submitted")
        await commits.submit(batch("last", log))
        log.append("last submitted")
        await commits.idle()

    asyncio.run(scenario())
    assert log.index("last submitted") > log.index("0 save done")


def test_a_failed_commit_stops_the_worker_and_acknowledges_nothing_after_it() -> None:
    crashes: list[BaseException] = []
    log: list[str] = []
    first, second = Event(), Event()

    async def scenario() -> None:
        commits = chain(crashes)
        await commits.submit(batch("1", log, [first], fail="publish"))
        await commits.submit(batch("2", log, [second]))
        await commits.idle()

    asyncio.run(scenario())
    assert [str(error) for error in crashes] == ["1 publish failed"]
    assert first.acked == second.acked == 0
    assert "2 publish" not in log and "2 save" not in log


def test_an_empty_outcome_commits_nothing() -> None:
    log: list[str] = []

    async def scenario() -> None:
        commits = chain([])
        await commits.submit(Recorded(name="empty", log=log))
        await commits.idle()

    asyncio.run(scenario())
    assert log == []
