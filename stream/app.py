"""Builds the Faust app of the worker from the settings: topics, agent, timers, /metrics."""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.settings import Settings
from storage.worker_state import RADIO_STATES, USAGE_STATES
from stream.commit import CommitChain
from stream.outputs import Outputs
from stream.registry_cache import RegistryCache
from stream.sink import DatabaseSink
from stream.state_cache import StateCache
from stream.transmission import TransmissionClock
from stream.uplinks import Rules, UplinkChecker, register_uplinks_agent

log = logging.getLogger(__name__)


def build_app(settings: Settings) -> faust.App:
    session_timeout = settings.broker_session_timeout_s
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(settings.state_dir / settings.app_id),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        key_serializer="raw",
        value_serializer="raw",
        broker_session_timeout=session_timeout,
        broker_rebalance_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 3),
        producer_acks=-1,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
    )
    database_url = settings.database_url.get_secret_value()
    registry = RegistryCache(database_url)
    sink = DatabaseSink(database_url)
    outputs = Outputs(settings)
    usage_states = StateCache(sink, USAGE_STATES)
    radio_states = StateCache(sink, RADIO_STATES)
    commits = CommitChain(sink, outputs, app.crash)
    checker = UplinkChecker(
        Rules.of(settings), registry, usage_states, radio_states, outputs, commits
    )
    register_uplinks_agent(app, settings, checker)
    raw_topic = settings.topic("raw")

    def owned() -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == raw_topic}

    clock = TransmissionClock(settings, usage_states, registry, commits, owned)
    usage_states.on_change = clock.note

    @app.on_partitions_assigned.connect
    async def forget_states(app: Any, /, *assigned: Any, signal: Any, **kwargs: Any) -> None:
        """Another worker may have moved on the keys held: read them again, once every
        state this worker changed is written."""
        await commits.idle()
        usage_states.forget()
        radio_states.forget()
        clock.forget()

    def ready() -> bool:
        return registry.ready.is_set() and not app.rebalancing and bool(owned())

    interval = settings.transmission_check_s

    @app.timer(interval=interval)
    async def watch_silence() -> None:
        try:
            await clock.tick(ready)
        except Exception:  # Kafka or the database unreachable: the next tick tries again
            log.exception("transmission check failed; trying again in %s s", interval)

    @app.task
    async def load_registry() -> None:
        await registry.reload()

    @app.timer(interval=settings.registry_refresh_s)
    async def refresh_registry() -> None:
        await registry.reload()

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.on_before_shutdown.connect
    async def close_outputs(app: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        outputs.close()

    return app
