"""`smati registry`: load a registry file into the database, show it, export it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from models.registry import Registry, Usage
from smati.codecs_cli import with_programs
from smati.context import settings_of
from smati.database import migrated_database

__all__ = ["registry"]


@click.group()
def registry() -> None:
    """The asset registry: tenants, entities, equipment, usages, devices."""


@registry.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def registry_load(ctx: click.Context, file: Path) -> None:
    """Validate FILE (YAML) and upsert it into the database; errors name the line at fault.

    Each codec entry's program is read from its file (relative to FILE) or its npm package
    and stored with it."""
    from models.registry_file import parse_registry
    from storage.registry_store import save_registry

    parsed = with_programs(parse_registry(file.read_text(), str(file)), file.parent)
    with migrated_database(settings_of(ctx)) as conn:
        counts = save_registry(conn, parsed)
    click.echo(", ".join(f"{count} {kind}" for kind, count in counts.items()))


@registry.command("show")
@click.pass_context
def registry_show(ctx: click.Context) -> None:
    """The stored registry as a tree: tenants, buildings (with their zone), equipment,
    usages (type, unit, period, thresholds, bounds), then the devices and their channels."""
    click.echo("\n".join(_tree(_stored(ctx))))


@registry.command("export")
@click.pass_context
def registry_export(ctx: click.Context) -> None:
    """The stored registry as a registry file (YAML), which `smati registry load` takes back
    (a codec read from a file or an npm package is named by it, without its program)."""
    import yaml

    document = _stored(ctx).model_dump(mode="json", exclude_defaults=True)
    for codec in document.get("codecs", []):
        if "file" in codec or "package" in codec:  # read again from there when loaded
            del codec["program"]
    click.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), nl=False)


def _stored(ctx: click.Context) -> Registry:
    from storage.registry_store import load_registry

    with migrated_database(settings_of(ctx)) as conn:
        return load_registry(conn)


def _tree(stored: Registry) -> Iterator[str]:
    for tenant in stored.tenants:
        yield f"{tenant.id}  {tenant.name}".rstrip()
        for entity in tenant.entities:
            yield f"  {entity.id}  {entity.name}  ({entity.kind or 'entity'}, {entity.timezone})"
            for item in entity.equipment:
                yield f"    {item.id}  {item.name}".rstrip()
                for usage in item.usages:
                    yield f"      {usage.id}  {_usage_facts(usage)}"
    if stored.bindings:
        yield "bindings:"
    for binding in stored.bindings:
        yield f"  {binding.id}  ({binding.tenant}): {binding.describe()}"
    if stored.devices:
        yield "devices:"
    for device in stored.devices:
        channels = ", ".join(f"{ch} -> {usage}" for ch, usage in device.channels.items())
        radio = "".join(
            f", {value}" for value in (device.transceiver, device.binding) if value is not None
        )
        yield f"  {device.id}  ({device.tenant}, {device.model}{radio}): {channels}"
    if stored.codecs:
        yield "codecs:"
    for codec in stored.codecs:
        source = codec.file or codec.package or "inline program"
        yield f"  {codec.id}  ({source}, {len(codec.program)} characters) {codec.options or ''}"


def _usage_facts(usage: Usage) -> str:
    facts = [usage.type.value, usage.unit, f"every {usage.period_s:g} s"]
    facts += [f"{name} {value:g}" for name, value in _limits(usage) if value is not None]
    return "  ".join(facts)


def _limits(usage: Usage) -> list[tuple[str, float | None]]:
    plausible = usage.plausible
    return [
        ("min", usage.min),
        ("max", usage.max),
        ("index_max", usage.index_max),
        ("plausible min", plausible.min if plausible else None),
        ("plausible max", plausible.max if plausible else None),
    ]
