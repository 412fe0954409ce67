"""`smati alerting`: Alertmanager's configuration from the registry, and the notifier."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from models.registry import Registry
from smati.context import settings_of

__all__ = ["alerting"]


@click.group()
def alerting() -> None:
    """Notifications of alarms through Prometheus Alertmanager."""


@alerting.command("config")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="write it to this file (default: standard output)",
)
@click.option(
    "--registry",
    "registry_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="from this registry file instead of the stored registry",
)
@click.option("--check", is_flag=True, help="then check it with Alertmanager's amtool")
@click.option(
    "--reload",
    is_flag=True,
    help="then make the Alertmanager reading FILE load it [SMATI_ALERTMANAGER_URL]",
)
@click.pass_context
def alerting_config(
    ctx: click.Context, out: Path | None, registry_file: Path | None, check: bool, reload: bool
) -> None:
    """Write Alertmanager's configuration (YAML) made from the tenants' `notifications:`
    sections: one route per tenant matching its `tenant` label, its receivers (e-mail,
    Teams Workflows, webhook; French or English), grouping, reminders, mute intervals,
    escalation levels, and the inhibition of a cut device's other alarms."""
    import yaml

    from models.alerting import alertmanager_config

    registry = _registry(ctx, registry_file)
    text = yaml.safe_dump(alertmanager_config(registry), sort_keys=False, allow_unicode=True)
    if out is None:
        if check or reload:
            raise click.UsageError("--check and --reload need --out FILE")
        click.echo(text, nl=False)
        return
    out.write_text(text)
    if check:
        from services.alertmanager import check_config

        click.echo(check_config(out), err=True)
    if reload:
        from stream.alertmanager_api import AlertmanagerApi

        AlertmanagerApi(settings_of(ctx).alertmanager_url).reload()
        click.echo(f"Alertmanager at {settings_of(ctx).alertmanager_url} reloaded", err=True)


def _registry(ctx: click.Context, registry_file: Path | None) -> Registry:
    from models.registry_file import parse_registry
    from smati.database import migrated_database
    from storage.registry_store import load_registry

    if registry_file is not None:
        return parse_registry(registry_file.read_text(), str(registry_file))
    with migrated_database(settings_of(ctx)) as conn:
        return load_registry(conn)


@alerting.command("run")
@click.option("--metrics-port", type=int, help="serve /metrics on this port (0: a free one)")
@click.pass_context
def alerting_run(ctx: click.Context, metrics_port: int | None) -> None:
    """Post the alarms to Alertmanager until Ctrl-C or SIGTERM [SMATI_ALERTMANAGER_URL].

    Woken by the database at each change of an alarm; active alarms are posted with their
    labels (tenant, entity, equipment, usage, device, alarm_type, severity, alarm_id) and
    French and English summaries, resent before they expire [SMATI_NOTIFIER_RESEND_S];
    a cleared one is sent resolved; an acknowledged one is silenced (no reminders) until
    it clears; an unacknowledged one escalates after its tenant's delays. What was sent
    is kept in the database: a restart sends nothing twice.
    """
    from prometheus_client import start_http_server

    from models.alerting import Timing
    from smati.database import wait_for_database
    from stream.alertmanager_api import AlertmanagerApi
    from stream.notifier import Notifier

    settings = settings_of(ctx)
    url = settings.database_url.get_secret_value()
    wait_for_database(url, settings.database_wait_s)
    if metrics_port is not None:
        server, _ = start_http_server(metrics_port, addr=settings.web_host)
        click.echo(f"serving /metrics on port {server.server_port}", err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    timing = Timing(resend_s=settings.notifier_resend_s, ttl_s=4 * settings.notifier_resend_s)
    api = AlertmanagerApi(settings.alertmanager_url)
    try:
        Notifier(url, api, timing=timing, tick_s=settings.notifier_tick_s).run(stop)
    finally:
        api.close()
    click.echo("notifier stopped", err=True)
