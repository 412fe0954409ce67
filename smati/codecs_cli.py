"""`smati codecs`: the codecs a device model can name, and a payload decoded by one."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from pathlib import Path

import click

from models.codecs import CODECS, DecodeError
from models.codecs.catalogue import JsCodec
from models.codecs.javascript import CodecInput, JsEngine
from models.errors import SmatiError
from models.registry import Registry

__all__ = ["CodecFileError", "codecs", "with_programs"]


class CodecFileError(SmatiError, ValueError):
    """A codec entry's file cannot be read."""


def with_programs(registry: Registry, base: Path) -> Registry:
    """`registry` with each codec's program read from its file (relative to `base`, the
    registry file's folder) or its installed npm package, to be stored with it."""
    return registry.model_copy(
        update={"codecs": tuple(_with_program(codec, base) for codec in registry.codecs)}
    )


def _with_program(codec: JsCodec, base: Path) -> JsCodec:
    from services.codec_packages import package_program

    if codec.package is not None:
        return codec.model_copy(update={"program": package_program(codec.package)})
    if codec.file is None:
        return codec
    path = base / codec.file
    try:
        return codec.model_copy(update={"program": path.read_text(encoding="utf-8")})
    except OSError as error:
        raise CodecFileError(f"codec {codec.id!r}: cannot read {path}: {error.strerror}") from None


@click.group()
def codecs() -> None:
    """Payload codecs: SMATI's native ones, and the makers' JavaScript ones (the
    `decodeUplink` format of The Things Stack and ChirpStack) that a registry's `codecs`
    entries name: a codec file, or an npm package's codec installed by the set-up."""


@codecs.command("list")
@click.option(
    "--registry",
    "registry_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="also list the codec entries of this registry file",
)
def codecs_list(registry_file: Path | None) -> None:
    """The native codecs, the installed npm packages' codecs (with the options their
    entries give), and a registry file's codec entries."""
    from services.codec_packages import PACKAGE_CODECS, package_program

    for name, codec in sorted(CODECS.items()):
        ports = ", ".join(map(str, sorted(codec.f_ports))) if codec.f_ports else "any"
        click.echo(f"{name:<24} native, ports: {ports}")
    engine = JsEngine()
    for package, adapter in PACKAGE_CODECS.items():
        names = engine.names(JsCodec(id=package, package=package, program=package_program(package)))
        click.echo(f"{package:<24} npm package; options: {adapter.options}")
        click.echo(f"{'':<24} device_type: {', '.join(names)}")
    for entry in _file_codecs(registry_file):
        source = entry.file or entry.package or "inline program"
        click.echo(f"{entry.id:<24} registry codec: {source} {json.dumps(entry.options)}")


@codecs.command("test")
@click.argument("codec")
@click.argument("payload")
@click.option("--port", type=click.IntRange(0, 255), help="LoRaWAN port (fPort)")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="an option of an npm package's codec, e.g. --option device_type=temp",
)
@click.option(
    "--registry",
    "registry_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a registry file whose codec entries CODEC may name",
)
def codecs_test(
    codec: str, payload: str, port: int | None, options: tuple[str, ...], registry_file: Path | None
) -> None:
    """Decode PAYLOAD (hex or base64) with CODEC and print the decoded object as JSON; the
    codec's errors and exit code 1 if it refuses it.

    CODEC is a native codec, a codec entry of --registry's file, a `decodeUplink` file
    (path ending in .js), or an npm package (@adeunis/codecs) with its --option's.
    """
    given = CodecInput(_payload(payload), port, datetime.now(UTC))
    native = CODECS.get(codec)
    entries = {entry.id: entry for entry in _file_codecs(registry_file)}
    if native is not None and codec not in entries:
        try:
            values = native(given.payload, given.received_at, port)
        except DecodeError as error:
            raise click.ClickException(str(error)) from None
        click.echo(json.dumps({v.channel: v.value for v in values}, indent=2, ensure_ascii=False))
        return
    entry = entries.get(codec) or _js_codec(codec, dict(_option(text) for text in options))
    (output,) = JsEngine().decode(entry, [given])
    if isinstance(output, DecodeError):
        raise click.ClickException(str(output))
    errors = output.get("errors") if isinstance(output, dict) else None
    if errors:
        raise click.ClickException("; ".join(map(str, errors)))
    click.echo(
        json.dumps(
            output.get("data") if isinstance(output, dict) else output, indent=2, ensure_ascii=False
        )
    )


def _file_codecs(registry_file: Path | None) -> tuple[JsCodec, ...]:
    if registry_file is None:
        return ()
    from models.registry_file import parse_registry

    parsed = parse_registry(registry_file.read_text(), str(registry_file))
    return with_programs(parsed, registry_file.parent).codecs


def _js_codec(name: str, options: dict[str, str]) -> JsCodec:
    from services.codec_packages import PACKAGE_CODECS, package_program

    if name in PACKAGE_CODECS:
        return JsCodec(id=name, package=name, program=package_program(name), options=options)
    path = Path(name)
    if path.suffix == ".js" and path.is_file():
        return JsCodec(id=path.name, file=name, program=path.read_text(encoding="utf-8"))
    raise click.ClickException(
        f"unknown codec {name!r}: not a native codec, a registry codec, an npm package "
        "SMATI knows, or a .js file (see smati codecs list)"
    )


def _option(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--option")
    return key, value


def _payload(text: str) -> bytes:
    """Hex (even length, hex digits only) or else base64."""
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise click.BadParameter(
            f"{text!r} is neither hex nor base64", param_hint="PAYLOAD"
        ) from None
