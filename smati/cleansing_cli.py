"""`smati cleanse`, `smati fill-gaps`, `smati operations list`, `smati undo`: cleansing and
gap filling of a usage's data (or of every usage of an entity), reviewed before they are
applied (a dry run by default, with the three-row figure as PNG), applied beside the
readings, and undone exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from models.cleansing import TREATMENTS, Action, Correction, UsageFacts
from models.cleansing.treatments import CleansingError
from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import echo_json, json_option, table
from smati.times import Moment, shown

if TYPE_CHECKING:
    import psycopg

    from storage.cleansing import Proposal

__all__ = ["cleanse", "fill_gaps_command", "operations", "undo"]

SHOWN = 20
"""Corrections listed on the terminal; the figure shows them all."""

_by = click.option(
    "--by", envvar="USER", required=True, help="who applies or undoes it, recorded [env USER]"
)


def _options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What `cleanse` and `fill-gaps` share: the usage (or entity), its period,
    parameters, the figure, and --apply (else a dry run)."""
    options = [
        click.option("--usage", help="the usage (measurement point)"),
        click.option(
            "--entity",
            help="instead of --usage: every usage of this entity (building) of a type the "
            "treatment accepts, one operation each",
        ),
        click.option("--tenant", help="the entity's (or usage's) tenant; needed with --entity"),
        click.option("--from", "start", type=Moment(), help="first time [default: the first]"),
        click.option("--to", "end", type=Moment(), help="end, excluded [default: the last]"),
        click.option(
            "-p",
            "--param",
            "params",
            multiple=True,
            metavar="NAME=VALUE",
            help="a parameter, repeatable (see the list below)",
        ),
        click.option(
            "--png",
            type=click.Path(path_type=Path),
            help="the figure's file, or its folder [default: <command>-<usage>-<treatment>.png "
            "here]; with --entity, the folder of one figure per usage [default: no figure]",
        ),
        click.option("--apply", is_flag=True, help="store the corrections (default: dry run)"),
        _by,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _parsed(params: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for text in params:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise CleansingError(f"parameter {text!r} is not NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


@dataclass(frozen=True)
class _Request:
    """What `cleanse` and `fill-gaps` are asked: their shared options, and the treatment."""

    treatment: str
    usage: str | None
    entity: str | None
    tenant: str | None
    params: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    png: Path | None
    apply: bool
    by: str


def _review(ctx: click.Context, request: _Request) -> None:
    """Propose the operation on the usage's (or the entity's usages') corrected data, print
    it, draw its figures, and apply it if asked."""
    usage, entity, tenant = request.usage, request.entity, request.tenant
    if (usage is None) == (entity is None):
        raise click.UsageError("give either --usage or --entity")
    if entity is not None and tenant is None:
        raise click.UsageError("--entity needs --tenant (whose entity it is)")
    with migrated_database(settings_of(ctx)) as conn:
        if usage is not None:
            _review_usage(conn, request, usage)
        elif tenant is not None and entity is not None:
            _review_entity(conn, request, entity, tenant)


def _review_usage(conn: psycopg.Connection, request: _Request, usage: str) -> None:
    from storage.cleansing import apply_operation, propose

    proposal = propose(
        conn,
        usage,
        request.treatment,
        _parsed(request.params),
        tenant_id=request.tenant,
        start=request.start,
        end=request.end,
    )
    _print(proposal)
    png = request.png or Path(_figure_name(proposal))
    _draw(proposal, png / _figure_name(proposal) if png.is_dir() else png)
    if not request.apply:
        click.echo("dry run: nothing stored (--apply stores these corrections)")
        return
    operation = apply_operation(conn, proposal, request.by)
    click.echo(f"applied as operation {operation.id} (smati undo {operation.id} undoes it)")


def _review_entity(conn: psycopg.Connection, request: _Request, entity: str, tenant: str) -> None:
    from storage.cleansing import apply_entity, propose_for_entity

    proposed = propose_for_entity(
        conn,
        entity,
        request.treatment,
        _parsed(request.params),
        tenant_id=tenant,
        start=request.start,
        end=request.end,
    )
    for usage, why in proposed.skipped:
        click.echo(f"{_usage_named(usage)}: skipped: {why}")
    if request.png is not None and request.png.is_file():
        raise click.BadParameter("with --entity, a folder for the figures", param_hint="--png")
    if request.png is not None:
        request.png.mkdir(parents=True, exist_ok=True)
    for proposal in proposed.proposals:
        _print_unfilled(proposal)
        click.echo(_summary(proposal))
        if request.png is not None:
            _draw(proposal, request.png / _figure_name(proposal))
    if not request.apply:
        click.echo("dry run: nothing stored (--apply stores one operation per usage corrected)")
        return
    for operation in apply_entity(conn, proposed, request.by):
        click.echo(
            f"{operation.usage_id}: applied as operation {operation.id} "
            f"(smati undo {operation.id} undoes it)"
        )


def _figure_name(proposal: Proposal) -> str:
    return f"{proposal.kind}-{proposal.usage.usage_id}-{proposal.treatment}.png"


def _draw(proposal: Proposal, png: Path) -> None:
    """The three rows (as stored, defects in red, corrected) as a PNG."""
    from reporting.review_figure import review_png

    usage = proposal.usage
    title = f"{usage.usage_id}: {proposal.treatment} {_described(proposal.parameters)}".rstrip()
    png.write_bytes(review_png(proposal.review, title, usage.unit, usage.timezone))
    click.echo(f"figure: {png}")


def _described(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items() if value is not None)


def _usage_named(usage: UsageFacts) -> str:
    return f"{usage.usage_id} ({usage.type}, {usage.unit})"


def _print_unfilled(proposal: Proposal) -> None:
    zone = proposal.usage.timezone.key
    for gap, why in proposal.skipped:
        click.echo(f"gap {shown(gap.before, zone)} to {shown(gap.after, zone)} not filled: {why}")


def _summary(proposal: Proposal) -> str:
    described = f"{proposal.treatment} {_described(proposal.parameters)}".rstrip()
    return (
        f"{_usage_named(proposal.usage)}: {described} over "
        f"{len(proposal.review.stored)} values: {len(proposal.review.defects)} corrections"
    )


def _print(proposal: Proposal) -> None:
    """The operation proposed on one usage, with its first corrections."""
    corrections, zone = proposal.review.defects, proposal.usage.timezone.key
    _print_unfilled(proposal)
    click.echo(_summary(proposal))
    rows = [
        (
            shown(c.ts, zone),
            "-" if c.original is None else f"{c.original:g}",
            _change(c),
            c.reason,
        )
        for c in corrections[:SHOWN]
    ]
    if rows:
        click.echo(table(("TIME", "STORED", "CORRECTED", "REASON"), rows))
    if len(corrections) > SHOWN:
        click.echo(f"... and {len(corrections) - SHOWN} more (all in the figure)")


def _change(correction: Correction) -> str:
    if correction.action is Action.EXCLUDE or correction.value is None:
        return "excluded"
    suffix = " (estimated)" if correction.action is Action.ESTIMATE else ""
    return f"{correction.value:.6g}{suffix}"


def _treatments_help() -> str:
    lines = []
    for treatment in TREATMENTS.values():
        fields = treatment.params.model_fields
        names = ", ".join(f"{n}={f.default}" for n, f in fields.items()) or "no parameters"
        lines.append(f"{treatment.name} ({', '.join(sorted(treatment.types))}): "
                     f"{treatment.summary}; {names}")  # fmt: skip
    return "\b\n" + "\n".join(lines)


@click.command(
    epilog="Treatments (usage types; parameters with their defaults):\n\n" + _treatments_help()
)
@click.option(
    "--treatment", required=True, type=click.Choice(list(TREATMENTS)), help="what to look for"
)
@_options
@click.pass_context
def cleanse(ctx: click.Context, /, treatment: str, **options: Any) -> None:
    """Find a usage's (or each of an entity's usages') defects with a treatment and their
    corrections: a dry run that
    prints them and draws the three rows (as stored, defects in red, corrected) as PNG;
    --apply stores the corrections beside the readings (never over them)."""
    _review(ctx, _Request(treatment, **options))


@click.command("fill-gaps")
@_options
@click.pass_context
def fill_gaps_command(ctx: click.Context, /, **options: Any) -> None:
    """Estimate a usage's (or each of an entity's usages') missing values, marked as
    estimates: an index interpolated
    along its usual hour-and-weekday profile, a consumption by that profile, an instant
    value linearly (gaps up to max_hours). Parameters: gap_periods=2.5 (a silence longer
    than this many periods is a gap), max_hours=6. A dry run unless --apply."""
    from storage.cleansing import FILL_GAPS

    _review(ctx, _Request(FILL_GAPS, **options))


@click.group()
def operations() -> None:
    """Cleansing and gap-filling operations applied (and undone)."""


@operations.command("list")
@click.option("--usage", required=True, help="the usage whose operations to list")
@json_option
@click.pass_context
def operations_list(ctx: click.Context, usage: str, as_json: bool) -> None:
    """A usage's operations, the latest first: what, with which parameters, by whom, when,
    and whether it is in force or undone."""
    from dataclasses import asdict

    from storage.cleansing import list_operations, usage_facts

    with migrated_database(settings_of(ctx)) as conn:
        facts = usage_facts(conn, usage)[1]
        found = list_operations(conn, usage)
    if as_json:
        echo_json([asdict(operation) for operation in found])
        return
    if not found:
        click.echo(f"no operation on {usage}", err=True)
        return
    zone = facts.timezone.key
    rows = [
        (
            o.id,
            shown(o.applied_at, zone),
            o.applied_by,
            o.kind,
            o.treatment,
            _described(o.parameters),
            str(o.corrections),
            "in force"
            if o.undone_at is None
            else f"undone by {o.undone_by} at {shown(o.undone_at, zone)}",
        )
        for o in found
    ]
    header = ("ID", "APPLIED", "BY", "KIND", "TREATMENT", "PARAMETERS", "CORRECTIONS", "STATUS")
    click.echo(table(header, rows))


@click.command()
@click.argument("operation_id")
@_by
@click.pass_context
def undo(ctx: click.Context, operation_id: str, by: str) -> None:
    """Undo a cleansing or gap-filling operation: its corrections leave the corrected view
    (they stay recorded). Only a usage's latest operation in force can be undone."""
    from storage.cleansing import undo_operation

    with migrated_database(settings_of(ctx)) as conn:
        operation = undo_operation(conn, operation_id, by)
    click.echo(
        f"operation {operation.id} on {operation.usage_id} undone by {by}: "
        f"{operation.corrections} corrections no longer in force"
    )
