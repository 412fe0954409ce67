"""`smati services up`: Kafka, PostgreSQL and Mosquitto on this machine, to try SMATI on."""

from __future__ import annotations

import shlex
import signal
import threading

import click

from services import BrokerChoice, ServiceStack

__all__ = ["broker_option", "services"]


@click.group()
def services() -> None:
    """Services on this machine, for trying SMATI without your own."""


broker_option = click.option(
    "--broker",
    type=click.Choice(["auto", "apache", "tansu"]),
    default="auto",
    show_default=True,
    help="Kafka broker to start: Apache Kafka (needs Java) or Tansu (no Java, memory only)",
)


@services.command("up")
@broker_option
def services_up(broker: BrokerChoice) -> None:
    """Start Apache Kafka, PostgreSQL and Mosquitto on free loopback ports, print the
    `export SMATI_...` lines that point SMATI at them, and keep them running until Ctrl-C
    or SIGTERM. Their data lives in temporary folders, removed when they stop.
    """
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with ServiceStack(broker=broker, use_env=False) as stack:
        for name, value in stack.env().items():
            click.echo(f"export {name}={shlex.quote(value)}")
        click.echo("services up; Ctrl-C or SIGTERM stops them", err=True)
        stopping.wait()
    click.echo("services stopped", err=True)
