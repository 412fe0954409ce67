"""Builds the Faust app of the worker from the settings: topics, agent, timers, web pages.

Everything is wired here, once, in the order each part needs the others: the outage
(backpressure) first, then the database and Kafka outputs it watches, the states, the
commit chain, the uplinks agent and the transmission clock.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from confluent_kafka import KafkaException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.settings import Settings
from storage.worker_state import RADIO_STATES, USAGE_STATES
from stream.alarms import AlarmRules
from stream.commit import CommitChain
from stream.database import WorkerDatabase
from stream.outage import Outage
from stream.outputs import Outputs
from stream.registry_cache import RegistryCache
from stream.state_cache import StateCache, WorkerLock
from stream.transmission import SilenceSchedule, TransmissionClock
from stream.uplinks import CheckSettings, UplinkChecker, register_uplinks_agent

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
        web_bind=settings.web_host,  # Faust's web_host only names the server in URLs
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
    )
    raw_topic = settings.topic("raw")

    def raw_partitions() -> set[Any]:
        return {tp for tp in app.assignor.assigned_actives() if tp.topic == raw_topic}

    def owned() -> set[int]:
        return {tp.partition for tp in raw_partitions()}

    outage = Outage(
        pause=lambda: app.consumer.pause_partitions(raw_partitions()),
        resume=lambda: app.consumer.resume_partitions(raw_partitions()),
    )
    database = WorkerDatabase(settings.database_url.get_secret_value(), outage)
    outputs = Outputs(settings, outage)
    registry = RegistryCache(settings.database_url.get_secret_value())
    lock = WorkerLock()
    schedule = SilenceSchedule(settings, registry)
    usage_states = StateCache(database, USAGE_STATES, on_change=schedule.note)
    radio_states = StateCache(database, RADIO_STATES)
    alarms = AlarmRules(registry)
    commits = CommitChain(database, outputs, app.crash, alarms.cleared_by_hand)
    checker = UplinkChecker(
        CheckSettings.of(settings), registry, lock, usage_states, radio_states, commits, alarms
    )
    register_uplinks_agent(app, settings, checker)
    clock = TransmissionClock(
        settings, lock, usage_states, schedule, registry, commits, owned, alarms
    )

    @app.on_partitions_assigned.connect
    async def forget_states(app: Any, /, *assigned: Any, signal: Any, **kwargs: Any) -> None:
        """Another worker may have moved on the keys held: read them again, once every
        state this worker changed is written."""
        async with lock:
            await commits.idle()
            usage_states.forget()
            radio_states.forget()
            clock.forget()

    def checking() -> bool:
        return registry.ready.is_set() and not app.rebalancing and outage.ok

    interval = settings.transmission_check_s

    async def watch_silence() -> None:
        try:
            await clock.tick(lambda: checking() and bool(owned()))
        except (KafkaException, TimeoutError) as error:  # offsets unreadable for now
            log.warning(
                "transmission check skipped, Kafka unreachable (%s)",
                error,
                extra={"throttle": "transmission-check-skipped"},  # every tick while it lasts
            )
        except Exception:  # a bug: logged whole, the next tick tries again
            log.exception("transmission check failed; trying again in %s s", interval)

    app.timer(interval=interval)(watch_silence)
    app.task(registry.reload)
    app.timer(interval=settings.registry_refresh_s)(registry.reload)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        """200 while the worker takes uplinks; 503 (with what is missing) while it waits
        for its registry, a rebalance, or a service it cannot reach."""
        body = {
            "ready": checking(),
            "registry_loaded": registry.ready.is_set(),
            "rebalancing": bool(app.rebalancing),
            "unreachable": outage.down,
        }
        return web.json(body, status=200 if body["ready"] else 503)

    @app.on_before_shutdown.connect
    async def close_outputs(app: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        outputs.close()
        database.close()

    return app
