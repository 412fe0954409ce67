"""`smati mqtt credentials`: Mosquitto's users and ACL, so that MQTT tenants stay apart."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import click

from models.errors import SmatiError
from smati.context import settings_of

__all__ = ["mqtt"]


class NoConnectorUser(SmatiError, ValueError):
    """SMATI_MQTT_URL names no user, which a broker that checks credentials requires."""


@click.group()
def mqtt() -> None:
    """The MQTT broker's access control, generated from the registry."""


@mqtt.command("credentials")
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="folder to write `passwords` and `acl` in",
)
@click.pass_context
def credentials(ctx: click.Context, folder: Path) -> None:
    """Write Mosquitto's password file and ACL from the stored registry: each tenant's user
    (its id, password from SMATI_MQTT_TENANT_PASSWORDS) may publish only to its own
    devices' uplink topics (SMATI_MQTT_TOPICS), the connector's user (SMATI_MQTT_URL's)
    reads them all. Run it again after each registry change, then reload Mosquitto."""
    from connectors.topics import TopicTemplate
    from models.mqtt_acl import acl_file
    from services.mqtt import ACL_FILE, PASSWORD_FILE, MqttAccess, write_password_file
    from smati.database import migrated_database
    from storage.registry_store import load_registry

    settings = settings_of(ctx)
    user, password = _connector_login(settings.mqtt_url)
    with migrated_database(settings) as conn:
        stored = load_registry(conn)
    templates = [TopicTemplate(template) for template in settings.mqtt_topics]
    acl = acl_file(
        stored,
        user,
        [template.catch_all for template in templates],
        lambda device_id: [template.topic(device_id) for template in templates],
    )
    tenants = {tenant.id for tenant in stored.tenants}
    passwords = {
        tenant: secret.get_secret_value()
        for tenant, secret in settings.mqtt_tenant_passwords.items()
        if tenant in tenants
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ACL_FILE).write_text(acl)
    write_password_file(folder / PASSWORD_FILE, {user: password, **passwords})
    click.echo(f"wrote {folder / PASSWORD_FILE} ({len(passwords) + 1} users), {folder / ACL_FILE}")
    if tenants - set(passwords):
        click.echo(
            f"tenants without an MQTT password: {', '.join(sorted(tenants - set(passwords)))}"
        )
    click.echo("in mosquitto.conf, then reload Mosquitto (SIGHUP):")
    for line in MqttAccess(folder, user, password).config_lines():
        click.echo(f"  {line}")


def _connector_login(url: str) -> tuple[str, str]:
    """The connector's user and password in its MQTT URL (percent-encoded there)."""
    parts = urlparse(url)
    if not parts.username or not parts.password:
        raise NoConnectorUser(
            "SMATI_MQTT_URL has no user and password (mqtt://user:password@host:port): "
            "the connector needs them on a broker that checks credentials"
        )
    return unquote(parts.username), unquote(parts.password)
