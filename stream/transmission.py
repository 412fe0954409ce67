"""The transmission clock: silent usages turn orange, then red, and their gaps open.

A timer, because a silent device sends nothing that could trigger a check. It judges
silence at the processing horizon (models.transmission.horizon), learnt from the consumer
group's offsets on the raw topic, so a worker catching up after a restart does not take
its usages for silent. Each worker watches the usages fed by the raw partitions it owns
(their states are read from the database once per assignment), and announces as violet
the registered usages never heard of that Kafka's hash of their id gives to those
partitions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka.partitioner import murmur2
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined, unused-ignore]

from models.alarms import Step
from models.kafka import client_config
from models.registry import UsageRef
from models.rules import UsageState, check_silence, silence_due
from models.settings import Settings
from models.transmission import OffsetSnapshot, ProcessingHorizon, TransmissionStatus
from storage.writer import EVENTS
from stream.alarms import AlarmRules
from stream.commit import BatchOutcome, CommitChain
from stream.metrics import HORIZON_LAG, USAGES_BY_STATUS
from stream.registry_cache import RegistryCache
from stream.state_cache import StateCache, WorkerLock

log = logging.getLogger(__name__)
SLICE = 5000
"""Usages looked at under one hold of the worker's lock (about 10 ms)."""
TIMEOUT_S = 10.0
_LATEST = cast(Callable[[], OffsetSpec], OffsetSpec.latest)


class PipelineOffsets:
    """End and committed offsets of the raw topic, for the worker's group (admin client)."""

    def __init__(self, settings: Settings) -> None:
        self.topic, self._group = settings.topic("raw"), settings.app_id
        self._config = client_config(settings.kafka_bootstrap)
        self._admin = AdminClient(self._config)
        self._partitions: list[TopicPartition] = []
        self._requests: list[Future[Any]] = []
        """The current admin client's requests of the last snapshot."""
        self._retired: list[tuple[AdminClient, list[Future[Any]]]] = []

    def snapshot(self) -> OffsetSnapshot:
        """Blocking; the ends are read before the committed offsets (see OffsetSnapshot).

        A failure renews the admin client: one that lived through a broker restart can fail
        every later request (timed out, FENCED_LEADER_EPOCH) where a new one succeeds."""
        try:
            return self._read()
        except KafkaException:
            self._renew()
            raise

    def _renew(self) -> None:
        """A new admin client. The old one is kept until its requests are answered: freed
        by the last of their callbacks, it would be destroyed on librdkafka's own thread,
        which kills the process (confluent-kafka-python #2129)."""
        self._retired = [
            (admin, requests)
            for admin, requests in self._retired
            if not all(request.done() for request in requests)
        ]
        self._retired.append((self._admin, self._requests))
        self._admin, self._partitions, self._requests = AdminClient(self._config), [], []

    def _read(self) -> OffsetSnapshot:
        at = datetime.now(UTC)
        self._admin.poll(0)  # serves its log lines (models.kafka.client_config)
        latest = {tp: _LATEST() for tp in self.partitions()}
        listed = self._admin.list_offsets(latest, request_timeout=TIMEOUT_S)
        self._requests = list(listed.values())
        ends = {tp.partition: future.result().offset for tp, future in listed.items()}
        request = [ConsumerGroupTopicPartitions(self._group, self.partitions())]
        (future,) = self._admin.list_consumer_group_offsets(
            request, request_timeout=TIMEOUT_S
        ).values()
        self._requests.append(future)
        committed = {
            tp.partition: tp.offset for tp in future.result().topic_partitions if tp.offset >= 0
        }
        return OffsetSnapshot(at=at, ends=ends, committed=committed)

    def partitions(self) -> list[TopicPartition]:
        if not self._partitions:
            metadata = self._admin.list_topics(self.topic, timeout=TIMEOUT_S).topics[self.topic]
            self._partitions = [TopicPartition(self.topic, p) for p in metadata.partitions]
        return self._partitions

    def partition_of(self, key: str) -> int:
        """The partition Kafka's default partitioner gives this key."""
        return int(murmur2(key.encode()) & 0x7FFFFFFF) % len(self.partitions())


class SilenceSchedule:
    """When silence, or an alarm rule's duration, can next change each usage's state
    (the clock raises an alarm held long enough without any reading): most usages are
    skipped, not
    checked. Told each state change by the states' cache (`note`), so the clock does not
    parse again what a batch has just checked (a second of CPU at 100,000 usages)."""

    def __init__(self, settings: Settings, registry: RegistryCache) -> None:
        self._policy, self._registry = settings.transmission_policy, registry
        self._due: dict[str, tuple[str, UsageRef, datetime | None, TransmissionStatus]] = {}
        """Per usage, the state version and registry entry last seen, when silence can
        next change them and their status."""

    def note(
        self, usage_id: str, state: UsageState, version: str, ref: UsageRef | None = None
    ) -> None:
        ref = ref or self._registry.usages.get(usage_id)
        if ref is not None:
            due = _earliest(silence_due(state, ref, self._policy), state.alarms.next_due())
            self._due[usage_id] = (version, ref, due, state.transmission.status)

    def quiet_status(
        self, states: StateCache[UsageState], usage_id: str, ref: UsageRef, now: datetime
    ) -> TransmissionStatus | None:
        """The usage's status if silence cannot change it at `now`, else None."""
        version = states.version(usage_id)
        known = self._due.get(usage_id)
        if known is None or known[0] is not version or known[1] is not ref:
            self.note(usage_id, states.get(usage_id), version, ref)
            known = self._due[usage_id]
        _, _, due, status = known
        return status if due is None or now <= due else None

    def clear(self) -> None:
        self._due.clear()


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


class TransmissionClock:
    def __init__(
        self,
        settings: Settings,
        lock: WorkerLock,
        states: StateCache[UsageState],
        schedule: SilenceSchedule,
        registry: RegistryCache,
        commits: CommitChain,
        owned: Callable[[], set[int]],
        alarms: AlarmRules,
    ) -> None:
        self._policy = settings.transmission_policy
        self._lock, self._states, self._schedule = lock, states, schedule
        self._registry, self._commits, self._owned = registry, commits, owned
        self._alarms = alarms
        self._offsets = PipelineOffsets(settings)
        self._horizon = ProcessingHorizon()
        self._loaded: frozenset[int] | None = None
        """The partitions whose stored states are in memory."""
        self._heard: set[str] = set()
        """Usages with a stored state when they were loaded: not to be announced violet."""

    def forget(self) -> None:
        """After a rebalance (the states' cache forgets too)."""
        self._loaded = None
        self._schedule.clear()

    async def tick(self, ready: Callable[[], bool]) -> None:
        """Look at every usage watched, a slice at a time: the uplinks agent, which needs
        the worker's lock too, waits for one slice, not for the whole pass."""
        if not ready():
            return
        now = self._horizon.observe(await asyncio.to_thread(self._offsets.snapshot))
        if now is None:
            return
        HORIZON_LAG.set((datetime.now(UTC) - now).total_seconds())
        async with self._lock:
            if not ready():  # a rebalance began while the offsets were read
                return
            watched = await self._watched()
        statuses = dict.fromkeys(TransmissionStatus, 0)
        for start in range(0, len(watched), SLICE):
            async with self._lock:
                if not ready() or self._loaded is None:  # rebalanced: start again next tick
                    return
                await self._look_at_silence(watched[start : start + SLICE], now, statuses)
        for status, count in statuses.items():
            USAGES_BY_STATUS.labels(status=status).set(count)

    async def _watched(self) -> list[tuple[str, int]]:
        """(usage, raw partition) of every usage this worker watches, its states in memory."""
        owned = frozenset(self._owned())
        if self._loaded != owned:
            started = time.monotonic()
            stored = await self._states.stored_keys()
            await self._states.fetch([key for key, p in stored.items() if p in owned])
            self._heard, self._loaded = set(stored), owned
            log.info(
                "states of raw partitions %s read in %.2f s (%d usages stored)",
                sorted(owned),
                time.monotonic() - started,
                len(stored),
                extra={"partitions": sorted(owned)},
            )
        unheard = self._unheard(owned)
        await self._states.fetch(unheard)
        return [*self._states.fed_by(owned), *unheard.items()]

    async def _look_at_silence(
        self,
        watched: list[tuple[str, int]],
        now: datetime,
        statuses: dict[TransmissionStatus, int],
    ) -> None:
        batch = BatchOutcome()
        for usage_id, partition in watched:
            ref = self._registry.usages.get(usage_id)
            if ref is None or not self._states.holds(usage_id):  # unregistered, or forgotten
                continue
            status = self._schedule.quiet_status(self._states, usage_id, ref, now)
            if status is not None:
                statuses[status] += 1
                continue
            state, found = check_silence(self._states.get(usage_id), ref, now, self._policy)
            state, changes = self._alarms.observe(state, ref, Step(now, found, reading=False))
            self._states.put(usage_id, state, partition)
            batch.store(EVENTS, found)
            batch.alarms += changes
            statuses[state.transmission.status] += 1
        batch.take_changes(self._states)
        await self._commits.submit(batch)

    def _unheard(self, owned: Collection[int]) -> dict[str, int]:
        """Registered usages never heard of that these partitions watch, not yet held."""
        never = {}
        for usage_id in self._registry.usages:
            if usage_id in self._heard or self._states.holds(usage_id):
                continue
            partition = self._offsets.partition_of(usage_id)
            if partition in owned:
                never[usage_id] = partition
        return never
