"""`smati services up`: Kafka, PostgreSQL, Mosquitto, Alertmanager and an SMTP server on this
machine, to try SMATI on."""

from __future__ import annotations

import shlex
import signal
import threading

import click

from models.alerting import alertmanager_config
from models.registry import Registry
from services import BrokerChoice, ServiceStack
from services.alertmanager import Alertmanager
from services.smtp import SmtpServer

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
    """Start Apache Kafka, PostgreSQL, Mosquitto, Alertmanager (built with Go at first use)
    and an SMTP server keeping e-mails in a Maildir, on free loopback ports; print the
    `export SMATI_...` lines that point SMATI at them, and keep them running until Ctrl-C
    or SIGTERM. Their data lives in temporary folders, removed when they stop.
    """
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with (
        ServiceStack(broker=broker, use_env=False) as stack,
        SmtpServer() as smtp,
        Alertmanager(alertmanager_config(Registry())) as alertmanager,
    ):
        for name, value in {**stack.env(), "SMATI_ALERTMANAGER_URL": alertmanager.url}.items():
            click.echo(f"export {name}={shlex.quote(value)}")
        path = alertmanager.config_path
        click.echo(
            f"Alertmanager reads {path} (smati alerting config --out {path} "
            f"--reload); e-mail: SMTP server {smtp.smarthost}, received into Maildir "
            f"{smtp.maildir}",
            err=True,
        )
        click.echo("services up; Ctrl-C or SIGTERM stops them", err=True)
        stopping.wait()
    click.echo("services stopped", err=True)
