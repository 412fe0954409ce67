"""Builds the Faust app of the worker from the settings: topics, table, agents, timers."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.settings import Settings
from models.validation import TimePolicy
from stream.decode import register_decode_agent
from stream.detect import register_readings_agent
from stream.radio import radio_health
from stream.registry_cache import RegistryCache
from stream.sink import DatabaseSink, register_events_sink, register_radio_sink
from stream.transmission import register_transmission_clock
from stream.usage_states import usage_state_table


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
    raw, readings, events, dead_letters, radio = (
        app.topic(settings.topic(stage), internal=False)
        for stage in ("raw", "readings", "events", "dead-letter", "radio")
    )
    states = usage_state_table(app, settings)
    policy = TimePolicy(max_future=settings.max_future, max_age=settings.max_age)
    trusted = frozenset(settings.trusted_decoders)
    register_decode_agent(
        app,
        raw,
        readings,
        dead_letters,
        registry,
        policy,
        radio_health(app, settings, radio),
        trusted,
    )
    register_radio_sink(app, settings, radio, dead_letters, sink)
    register_readings_agent(app, settings, readings, events, dead_letters, states, registry, sink)
    register_events_sink(app, settings, events, dead_letters, sink)
    register_transmission_clock(app, settings, events, states, registry, sink)

    @app.task
    async def load_registry() -> None:
        await registry.reload()

    @app.timer(interval=settings.registry_refresh_s)
    async def refresh_registry() -> None:
        await registry.reload()

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app
