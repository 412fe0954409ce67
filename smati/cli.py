"""`smati`: the one command line of SMATI stream. Every entry point is a subcommand."""

from __future__ import annotations

import gc
import logging
import signal
import sys
from pathlib import Path

import click

from models.settings import Settings
from services import BrokerChoice
from smati.bench import bench
from smati.report import report


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--kafka-bootstrap", help="Kafka bootstrap servers [env SMATI_KAFKA_BOOTSTRAP]")
@click.option("--database-url", help="PostgreSQL URL [env SMATI_DATABASE_URL]")
@click.option("--mqtt-url", help="MQTT broker URL, mqtt://host:port [env SMATI_MQTT_URL]")
@click.option("--log-level", help="debug, info, warning, error [env SMATI_LOG_LEVEL]")
@click.pass_context
def main(ctx: click.Context, **flags: str | None) -> None:
    """SMATI stream: real-time quality checks of smart-building meter and sensor data.

    Devices publish over MQTT, LoRaWAN network servers (The Things Stack, ChirpStack) or
    the Sigfox backend; the connectors put raw uplinks on Kafka; the worker decodes,
    validates and checks them per usage, and stores readings and detections in
    PostgreSQL/TimescaleDB. Settings come from SMATI_* environment
    variables; the flags above override them. Start with `smati demo`.
    """
    overrides = {name: value for name, value in flags.items() if value is not None}
    ctx.obj = Settings.model_validate(overrides)
    logging.basicConfig(
        level=ctx.obj.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--web-port", type=int, help="port of /metrics, 0 for a free one [SMATI_WEB_PORT]")
@click.pass_context
def worker(ctx: click.Context, web_port: int | None) -> None:
    """Run a stream worker: decode, validate, detect, store (Faust; scale out by running more)."""
    from faust import Worker

    from services.ports import free_port
    from stream.app import build_app
    from stream.topics import ensure_topics

    settings = _settings(ctx)
    port = settings.web_port if web_port is None else web_port
    settings = settings.but(web_port=port or free_port())
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
    Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()


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

    settings = _settings(ctx)
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
    (POST /sigfox/TENANT), each authenticated by its tenant's secret
    (`Authorization: Bearer SECRET`, secrets in SMATI_WEBHOOK_SECRETS as a JSON object).
    """
    from aiohttp import web

    from connectors.delivery import KafkaDelivery
    from connectors.mqtt import kafka_producer
    from connectors.webhooks import WebhookConnector
    from stream.registry_cache import RegistryCache

    settings = _settings(ctx)
    _ensure_topics_if_kafka_is_up(settings)
    delivery = KafkaDelivery(kafka_producer(settings.kafka_bootstrap))
    webhooks = WebhookConnector(
        delivery,
        settings.topic("raw"),
        settings.topic("dead-letter"),
        settings.webhook_secrets,
        RegistryCache(settings.database_url.get_secret_value()),
        settings.registry_refresh_s,
        frozenset(settings.trusted_decoders),
        settings.max_payload_bytes,
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

    applied = migrate(_settings(ctx).database_url.get_secret_value())
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@main.group()
def registry() -> None:
    """The asset registry: tenants, entities, equipment, usages, devices."""


@registry.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def registry_load(ctx: click.Context, file: Path) -> None:
    """Validate FILE (YAML) and upsert it into the database; errors name the line at fault."""
    import psycopg

    from models.registry_file import RegistryFileError, parse_registry
    from storage.registry_store import save_registry

    try:
        parsed = parse_registry(file.read_text(), str(file))
    except RegistryFileError as error:
        raise click.ClickException(str(error)) from None
    with psycopg.connect(_settings(ctx).database_url.get_secret_value()) as conn:
        counts = save_registry(conn, parsed)
    click.echo(", ".join(f"{count} {kind}" for kind, count in counts.items()))


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

    import psycopg

    from smati.status import status_json, status_table
    from storage.transmission import transmission_of

    with psycopg.connect(_settings(ctx).database_url.get_secret_value()) as conn:
        rows = transmission_of(conn, tenant, entity)
    if not rows:
        raise click.ClickException("no usage matches (is the registry loaded?)")
    click.echo(status_json(rows) if as_json else status_table(rows, datetime.now(UTC)))


@main.command()
@click.option("--duration", type=float, default=None, help="seconds to run (default: Ctrl-C)")
@click.option(
    "--broker",
    type=click.Choice(["auto", "apache", "tansu"]),
    default="auto",
    show_default=True,
    help="Kafka broker to start: Apache Kafka (needs Java) or Tansu (no Java, memory only)",
)
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

    run_demo(_settings(ctx), duration, broker, history_minutes)


main.add_command(bench)
main.add_command(report)

if __name__ == "__main__":
    main(prog_name="smati")
