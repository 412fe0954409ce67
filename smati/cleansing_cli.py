"""`smati cleanse`, `smati fill-gaps`, `smati operations list`, `smati undo`: cleansing and
gap filling of a usage's data, reviewed before they are applied (a dry run by default,
with the three-row figure as PNG), applied beside the readings, and undone exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from models.cleansing import TREATMENTS, Action, Correction
from models.cleansing.treatments import CleansingError
from smati.context import settings_of
from smati.database import migrated_database
from smati.tables import echo_json, json_option, table
from smati.times import Moment, shown

if TYPE_CHECKING:
    from storage.cleansing import Proposal

__all__ = ["cleanse", "fill_gaps_command", "operations", "undo"]

SHOWN = 20
"""Corrections listed on the terminal; the figure shows them all."""

_by = click.option(
    "--by", envvar="USER", required=True, help="who applies or undoes it, recorded [env USER]"
)


def _options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What `cleanse` and `fill-gaps` share: the usage, its period, parameters, the
    figure, and --apply (else a dry run)."""
    options = [
        click.option("--usage", required=True, help="the usage (measurement point)"),
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
            type=click.Path(dir_okay=False, path_type=Path),
            help="the figure's file [default: <command>-<usage>-<treatment>.png here]",
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
    usage: str
    params: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    png: Path | None
    apply: bool
    by: str


def _review(ctx: click.Context, request: _Request) -> None:
    """Propose the operation on the usage's corrected data, print it, draw its figure, and
    apply it if asked."""
    from reporting.review_figure import review_png
    from storage.cleansing import apply_operation, propose

    given = _parsed(request.params)
    with migrated_database(settings_of(ctx)) as conn:
        proposal = propose(
            conn, request.usage, request.treatment, given, start=request.start, end=request.end
        )
        _print(proposal)
        usage, name = proposal.usage, proposal.treatment
        png = request.png or Path(f"{proposal.kind}-{usage.usage_id}-{name}.png")
        title = f"{usage.usage_id}: {name} {_described(proposal.parameters)}".rstrip()
        png.write_bytes(review_png(proposal.review, title, usage.unit, usage.timezone))
        click.echo(f"figure: {png}")
        if not request.apply:
            click.echo("dry run: nothing stored (--apply stores these corrections)")
            return
        operation = apply_operation(conn, proposal, request.by)
    click.echo(f"applied as operation {operation.id} (smati undo {operation.id} undoes it)")


def _described(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items() if value is not None)


def _print(proposal: Proposal) -> None:
    usage, corrections = proposal.usage, proposal.review.defects
    zone = usage.timezone.key
    for gap, why in proposal.skipped:
        click.echo(f"gap {shown(gap.before, zone)} to {shown(gap.after, zone)} not filled: {why}")
    described = f"{proposal.treatment} {_described(proposal.parameters)}".rstrip()
    click.echo(
        f"{usage.usage_id} ({usage.type}, {usage.unit}): {described} over "
        f"{len(proposal.review.stored)} values: {len(corrections)} corrections"
    )
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
    """Find a usage's defects with a treatment and their corrections: a dry run that
    prints them and draws the three rows (as stored, defects in red, corrected) as PNG;
    --apply stores the corrections beside the readings (never over them)."""
    _review(ctx, _Request(treatment, **options))


@click.command("fill-gaps")
@_options
@click.pass_context
def fill_gaps_command(ctx: click.Context, /, **options: Any) -> None:
    """Estimate a usage's missing values, marked as estimates: an index interpolated
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
