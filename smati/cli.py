"""`smati`: the one command line of SMATI stream. Every entry point is a subcommand."""

from __future__ import annotations

import gc
import logging
import signal
import sys

import click

from models.settings import Settings
from services import BrokerChoice
from smati.alarms_cli import alarms
from smati.alerting_cli import alerting
from smati.bench import bench
from smati.cleansing_cli import cleanse, fill_gaps_command, operations, undo
from smati.codecs_cli import codecs
from smati.context import settings_of
from smati.dashboards_cli import dashboards
from smati.downlink_cli import downlink, downlink_events
from smati.errors import OneLineErrors
from smati.lag_cli import lag
from smati.logs import configure_logging
from smati.mqtt_cli import mqtt
from smati.reads import dead_letters, events, readings
from smati.registry_cli import registry
from smati.replay import replay
from smati.report import report
from smati.serve_cli import serve
from smati.services_cli import broker_option, services
from smati.tokens_cli import tokens


@click.group(
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--kafka-bootstrap", help="Kafka bootstrap servers [env SMATI_KAFKA_BOOTSTRAP]")
@click.option("--database-url", help="PostgreSQL URL [env SMATI_DATABASE_URL]")
@click.option("--mqtt-url", help="MQTT broker URL, mqtt://host:port [env SMATI_MQTT_URL]")
@click.option("--log-level", help="debug, info, warning, error [env SMATI_LOG_LEVEL]")
@click.pass_context
def main(ctx: click.Context, /, **flags: str | None) -> None:
    """SMATI stream: real-time quality checks of smart-building meter and sensor data.

    Devices publish over MQTT, LoRaWAN network servers (The Things Stack, ChirpStack) or
    the Sigfox backend; the connectors put raw uplinks on Kafka; the worker decodes,
    validates and checks them per usage, and stores readings and detections in
    PostgreSQL/TimescaleDB. Settings come from SMATI_* environment
    variables; the flags above override them. Start with `smati demo`.
    """
    overrides = {name: value for name, value in flags.items() if value is not None}
    settings = ctx.obj = Settings.load(overrides)
    configure_logging(settings.log_level, settings.log_format, settings.log_throttle_s)


@main.command()
@click.option("--web-port", type=int, help="port of /metrics, 0 for a free one [SMATI_WEB_PORT]")
@click.pass_context
def worker(ctx: click.Context, web_port: int | None) -> None:
    """Run a stream worker: decode, validate, detect, store (Faust; scale out by running more)."""
    from faust import Worker

    from services.ports import free_port
    from smati.database import wait_for_database
    from smati.logs import logging_config
    from stream.app import build_app
    from stream.topics import ensure_topics

    settings = settings_of(ctx)
    port = settings.web_port if web_port is None else web_port
    settings = settings.but(web_port=port or free_port())
    _require_free_web_port(settings.web_host, settings.web_port)
    wait_for_database(settings.database_url.get_secret_value(), settings.database_wait_s)
    ensure_topics(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    # The database and Kafka writes run in threads beside the event loop's CPU-bound
    # checks: with Python's default 5 ms GIL switch interval, each of their many short
    # waits costs a whole interval (2,000 readings took up to 0.8 s to write, 0.05 s
    # alone). Faust allocates much per message: with the default thresholds, the
    # collector ran a full pass over the heap every few seconds (0.05 to 0.45 s each).
    sys.setswitchinterval(0.0005)
    gc.set_threshold(50_000, 20, 100)
    app = build_app(settings)
    logs = logging_config(settings.log_level, settings.log_format, settings.log_throttle_s)
    Worker(
        app, loglevel=settings.log_level, logging_config=logs, quiet=True
    ).execute_from_commandline()


def _require_free_web_port(host: str, port: int) -> None:
    """A second worker on one machine would otherwise die of it, with a traceback, once
    it has joined the group."""
    from models.errors import SmatiError
    from services.ports import port_is_open

    if port_is_open(host, port):
        raise SmatiError(
            f"port {port} on {host} is taken (another worker?): give each worker its own "
            "SMATI_WEB_PORT or --web-port (0 picks a free one)"
        )


@main.group()
def connector() -> None:
    """Edge connectors that put raw uplinks on Kafka."""


@connector.command("mqtt")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="topic template with {device_id}, repeatable [env SMATI_MQTT_TOPICS, JSON list; "
    "default: the source's topic]",
)
@click.option(
    "--source",
    type=click.Choice(["mqtt", "tts", "chirpstack"]),
    default="mqtt",
    show_default=True,
    help="what is published: devices' own JSON (mqtt), or the uplinks of The Things Stack "
    "(tts, v3/+/devices/{device_id}/up) or ChirpStack v4 (chirpstack, "
    "application/+/device/{device_id}/event/up)",
)
@click.pass_context
def connector_mqtt(ctx: click.Context, topics: tuple[str, ...], source: str) -> None:
    """Forward MQTT messages to Kafka, acknowledging each only once Kafka has it."""
    from connectors.mqtt import MqttConnector, kafka_producer
    from connectors.topics import DEFAULT_TEMPLATES, TopicTemplate

    settings = settings_of(ctx)
    _ensure_topics_if_kafka_is_up(settings)
    if not topics:
        configured = "mqtt_topics" in settings.model_fields_set
        topics = tuple(settings.mqtt_topics if configured else [DEFAULT_TEMPLATES[source]])
    bridge = MqttConnector(
        settings.mqtt_url,
        [TopicTemplate(t) for t in topics],
        kafka_producer(settings.kafka_bootstrap),
        settings.topic("raw"),
        settings.topic("dead-letter"),
        settings.mqtt_client_id,
        settings.max_payload_bytes,
        source,
        (settings.web_host, settings.mqtt_web_port),
    )
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    bridge.run()


@connector.command("webhooks")
@click.option("--host", help="bind address [env SMATI_WEBHOOK_HOST, default 127.0.0.1]")
@click.option("--port", type=int, help="port [env SMATI_WEBHOOK_PORT, default 8090]")
@click.pass_context
def connector_webhooks(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve The Things Stack webhooks (POST /tts/TENANT) and Sigfox data callbacks
    (POST /sigfox/TENANT, form-encoded or JSON), each authenticated by its tenant's secret
    (`Authorization: Bearer SECRET`, secrets in SMATI_WEBHOOK_SECRETS as a JSON object).
    An uplink of the tenant's device, from an application the registry binds to it, is
    answered 2xx once on Kafka, whatever its payload: the worker decodes it.
    A bidirectional Sigfox callback is answered with the device's queued downlink.
    """
    from aiohttp import web

    from connectors.delivery import KafkaDelivery
    from connectors.mqtt import kafka_producer
    from connectors.webhooks import WebhookConnector
    from storage.downlinks import SigfoxQueue
    from stream.registry_cache import RegistryCache

    settings = settings_of(ctx)
    _ensure_topics_if_kafka_is_up(settings)
    delivery = KafkaDelivery(kafka_producer(settings.kafka_bootstrap))
    database_url = settings.database_url.get_secret_value()
    webhooks = WebhookConnector(
        delivery,
        settings.topic("raw"),
        settings.topic("dead-letter"),
        settings.webhook_secrets,
        RegistryCache(database_url),
        settings.registry_refresh_s,
        settings.max_payload_bytes,
        SigfoxQueue(database_url),
    )
    try:
        web.run_app(
            webhooks.app(),
            host=host or settings.webhook_host,
            port=settings.webhook_port if port is None else port,
            print=click.echo,
        )
    finally:
        delivery.close()


def _ensure_topics_if_kafka_is_up(settings: Settings) -> None:
    from confluent_kafka import KafkaException

    from stream.topics import ensure_topics

    try:
        ensure_topics(settings, timeout_s=5)
    except KafkaException as error:  # Kafka down: start anyway, the sender keeps what it can't
        logging.getLogger(__name__).warning("could not check Kafka topics: %s", error)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply the SQL migrations not yet applied (idempotent)."""
    from storage.migrate import migrate

    applied = migrate(settings_of(ctx).database_url.get_secret_value())
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@db.command("rollups")
@click.option("--rebuild", is_flag=True, help="recompute every day, not only the days noted")
@click.option("--usage", "usages", multiple=True, help="only this usage (repeatable)")
@click.pass_context
def db_rollups(ctx: click.Context, rebuild: bool, usages: tuple[str, ...]) -> None:
    """Bring the reports' daily rollups up to date (reports do it too before they read);
    --rebuild recomputes them from every reading, after a restore or a damaged rollup."""
    from smati.database import migrated_database
    from storage.rollups import rebuild_rollups, refresh_rollups

    with migrated_database(settings_of(ctx)) as conn:
        changed = rebuild_rollups(conn, usages) if rebuild else refresh_rollups(conn)
    click.echo(f"daily rollups of {changed} usage(s) recomputed")


@main.command()
@click.option("--tenant", help="only this tenant's usages")
@click.option("--entity", help="only this entity's (building's) usages")
@click.option("--json", "as_json", is_flag=True, help="one JSON list, for scripts")
@click.pass_context
def status(ctx: click.Context, tenant: str | None, entity: str | None, as_json: bool) -> None:
    """Transmission status of every usage: green, orange (late), red (cut), violet (never heard).

    With the last reading, the registered and estimated periods and the open gap, as the
    stream last stored them; times in each building's time zone.
    """
    from datetime import UTC, datetime

    from smati.database import migrated_database
    from smati.status import status_json, status_table
    from storage.transmission import transmission_of

    with migrated_database(settings_of(ctx)) as conn:
        rows = transmission_of(conn, tenant, entity)
    if not rows:
        raise click.ClickException("no usage matches (is the registry loaded?)")
    click.echo(status_json(rows) if as_json else status_table(rows, datetime.now(UTC)))


@main.command()
@click.option(
    "--duration",
    type=float,
    default=None,
    help="seconds of live simulation, after the history (default: until Ctrl-C)",
)
@broker_option
@click.option("--history-minutes", type=float, default=60, show_default=True)
@click.pass_context
def demo(
    ctx: click.Context, duration: float | None, broker: BrokerChoice, history_minutes: float
) -> None:
    """Run everything on this machine with nothing configured.

    Starts Kafka, PostgreSQL and Mosquitto on free loopback ports, migrates, loads the demo
    building, runs the connector and a worker, and a simulator that publishes the
    building's devices over MQTT (an hour of history, then live) with defects and bad
    messages. Prints what was stored, detected and dead-lettered.
    """
    from smati.demo import run_demo

    run_demo(settings_of(ctx), duration, broker, history_minutes)


main.add_command(bench)
main.add_command(downlink)
connector.add_command(downlink_events)
main.add_command(codecs)
main.add_command(registry)
dead_letters.add_command(replay)
main.add_command(dead_letters)
main.add_command(events)
main.add_command(readings)
main.add_command(services)
main.add_command(mqtt)
main.add_command(report)
main.add_command(alerting)
main.add_command(alarms)
main.add_command(tokens)
main.add_command(serve)
main.add_command(lag)
main.add_command(dashboards)
main.add_command(cleanse)
main.add_command(fill_gaps_command)
main.add_command(operations)
main.add_command(undo)

if __name__ == "__main__":
    main(prog_name="smati")
