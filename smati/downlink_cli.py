"""`smati downlink`: send a payload to a device through its network server, and follow it.

A downlink is stored queued, then pushed to The Things Stack or ChirpStack over MQTT, or
kept for the Sigfox device's next bidirectional callback (the webhook connector answers
it). `smati connector downlinks` follows the LoRaWAN servers' events: sent, acknowledged,
failed.
"""

from __future__ import annotations

import json
import logging
import signal
import uuid
from typing import Any

import click

from models.bindings import Bindings, DeviceBinding
from models.downlink import EVENT_TOPICS, Downlink, DownlinkEvent, push_message
from models.errors import SmatiError
from models.registry import Device, NetworkServer, Registry
from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import table
from smati.times import shown

__all__ = ["downlink", "downlink_events"]

log = logging.getLogger(__name__)

_tenant = click.option(
    "--tenant", required=True, help="the tenant acting: only its own devices are reachable"
)
_device = click.option("--device", required=True, help="the device's id in the registry")


class NoSuchDevice(SmatiError, LookupError):
    """A device the acting tenant does not have (unknown, or another tenant's)."""


class NoEncoder(SmatiError, LookupError):
    """An object to send to a device whose codec cannot encode one."""


@click.group()
def downlink() -> None:
    """Remote actions: payloads sent to devices through The Things Stack, ChirpStack or
    Sigfox, and their state (queued, sent, acknowledged, failed)."""


@downlink.command("send")
@_tenant
@_device
@click.option("--port", type=int, help="LoRaWAN port, 1 to 223 (none for Sigfox)")
@click.option("--payload", "hex_payload", help="the bytes to send, in hexadecimal")
@click.option(
    "--object",
    "json_object",
    help="or a JSON object, encoded by the encodeDownlink of the device's JavaScript codec",
)
@click.option("--confirmed", is_flag=True, help="ask the device to acknowledge (LoRaWAN)")
@click.pass_context
def downlink_send(
    ctx: click.Context,
    tenant: str,
    device: str,
    port: int | None,
    hex_payload: str | None,
    json_object: str | None,
    confirmed: bool,
) -> None:
    """Queue a downlink for DEVICE on its network server; prints its id.

    LoRaWAN devices get it pushed to their application's MQTT topic; a Sigfox device gets
    its 8 bytes in the reply to its next bidirectional callback.
    """
    from connectors.downlinks import DownlinkNotPushed, push
    from storage.downlinks import insert_downlink, record_event
    from storage.registry_store import load_registry

    settings = settings_of(ctx)
    with migrated_database(settings) as conn:
        registry = load_registry(conn)
        target, route = _device_of(registry, tenant, device)
        payload = _payload(registry, target, hex_payload, json_object, port)
        message = Downlink(uuid.uuid4(), tenant, device, route, port, payload, confirmed)
        insert_downlink(conn, message)
        if message.route.server is NetworkServer.SIGFOX:
            click.echo(f"downlink {message.id} queued for {device}'s next Sigfox callback")
            return
        topic, body = push_message(message)
        try:
            push(settings.mqtt_url, message.route.server, topic, body, f"smati-{message.id}")
        except DownlinkNotPushed as error:
            record_event(conn, message.failed(str(error)))
            raise
    click.echo(f"downlink {message.id} queued on {topic}")


def _payload(
    registry: Registry,
    device: Device,
    hex_payload: str | None,
    json_object: str | None,
    port: int | None,
) -> bytes:
    if hex_payload is not None and json_object is None:
        return _hex(hex_payload)
    if json_object is not None and hex_payload is None:
        return _encoded(registry, device, json_object, port)
    raise click.UsageError("give either the bytes (--payload HEX) or an object (--object JSON)")


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not hexadecimal", param_hint="--payload") from None


def _encoded(registry: Registry, device: Device, json_object: str, port: int | None) -> bytes:
    """`json_object` encoded by the device's codec (a Sigfox device's is given port 0)."""
    from models.codecs.javascript import encode_downlink

    try:
        data = json.loads(json_object)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--object") from None
    codec = next((codec for codec in registry.codecs if codec.id == device.model), None)
    if codec is None:
        raise NoEncoder(
            f"device {device.id!r} is decoded by {device.model!r}, not a JavaScript codec: "
            "give the bytes with --payload"
        )
    return encode_downlink(codec, data, 0 if port is None else port)


def _device_of(registry: Registry, tenant: str, device_id: str) -> tuple[Device, DeviceBinding]:
    """The tenant's device and where its downlinks go. Another tenant's device is refused
    as an unknown one: a tenant learns nothing of the others'."""
    device = next((d for d in registry.devices if d.id == device_id), None)
    if device is None or device.tenant != tenant:
        raise NoSuchDevice(f"tenant {tenant!r} has no device {device_id!r}")
    return device, Bindings.of(registry.bindings).of_device(device)


@downlink.command("list")
@_tenant
@_device
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def downlink_list(ctx: click.Context, tenant: str, device: str, limit: int, as_json: bool) -> None:
    """A device's downlinks, newest first, with their state and its times (UTC)."""
    from storage.downlinks import downlinks_of

    with migrated_database(settings_of(ctx)) as conn:
        rows = downlinks_of(conn, tenant, device, limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(_plain(row)))
    elif rows:
        header = ("QUEUED AT", "ID", "PORT", "PAYLOAD", "STATE", "SINCE", "DETAIL")
        click.echo(table(header, [_row(row) for row in rows]))
    else:
        click.echo("none found", err=True)


def _row(row: dict[str, Any]) -> tuple[str, ...]:
    since = row[f"{row['state']}_at"]
    return (
        shown(row["queued_at"]),
        str(row["id"]),
        "-" if row["f_port"] is None else str(row["f_port"]),
        bytes(row["payload"]).hex(),
        row["state"],
        shown(since),
        row["detail"] or "-",
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    def plain(value: object) -> object:
        if isinstance(value, bytes | memoryview):
            return bytes(value).hex()
        return value if isinstance(value, bool | int | str | None) else str(value)

    return {key: plain(value) for key, value in row.items()}


@click.command("downlinks")
@click.option(
    "--source",
    type=click.Choice([NetworkServer.TTS.value, NetworkServer.CHIRPSTACK.value]),
    required=True,
    help="the network server whose downlink events to follow",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="topic filter, repeatable [default: every application's, "
    "v3/+/devices/+/down/+ or application/+/device/+/event/+]",
)
@click.pass_context
def downlink_events(ctx: click.Context, source: str, topics: tuple[str, ...]) -> None:
    """Follow a LoRaWAN network server's downlink events (queued, sent, acknowledged,
    failed) into the downlinks' states."""
    import psycopg

    from connectors.downlinks import DownlinkEventListener
    from storage.downlinks import record_event

    settings = settings_of(ctx)
    server = NetworkServer(source)
    url = settings.database_url.get_secret_value()

    def record(event: DownlinkEvent) -> None:
        with psycopg.connect(url) as conn:
            record_event(conn, event)

    listener = DownlinkEventListener(
        settings.mqtt_url,
        server,
        list(topics) or [EVENT_TOPICS[server]],
        record,
        f"{settings.mqtt_client_id}-downlinks-{source}",
    )
    signal.signal(signal.SIGTERM, lambda *_: listener.stop())
    signal.signal(signal.SIGINT, lambda *_: listener.stop())
    listener.run()
