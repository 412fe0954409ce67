"""`smati report`: the energy, transmission-monitoring and usage-diagnostic reports."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click
import psycopg

from models.errors import SmatiError
from models.settings import Settings
from reporting.locale import LANGUAGES, Formatter
from reporting.period import Period
from reporting.render import Report, render_html, render_pdf

F = TypeVar("F", bound=Callable[..., Any])


def _common(command: F) -> F:
    """The options every report takes: tenant, format, language, output file."""
    options = [
        click.option("--tenant", required=True, help="the customer whose data is reported"),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["html", "pdf"]),
            default="pdf",
            show_default=True,
            help="one self-contained HTML file, or an A4 PDF",
        ),
        click.option(
            "--lang",
            type=click.Choice(LANGUAGES),
            default="fr",
            show_default=True,
            help="language of the words, numbers and months",
        ),
        click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            help="output file [default: <report>-<subject>.<format> here]",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_raw = click.option(
    "--raw",
    is_flag=True,
    help="the readings as stored, without cleansing's corrections nor gap filling's estimates",
)


def _dates(command: F) -> F:
    """--from and --to as days, for the monitoring and diagnostic reports."""
    command = click.option(
        "--to",
        "last",
        type=click.DateTime(["%Y-%m-%d"]),
        help="last day, included, in the building's zone [default: yesterday]",
    )(command)
    return click.option(
        "--from",
        "first",
        type=click.DateTime(["%Y-%m-%d"]),
        help="first day, in the building's zone [default: 30 days before --to]",
    )(command)


def _days(first: datetime | None, last: datetime | None) -> tuple[date, date]:
    """[start, end) in local days."""
    end = last.date() + timedelta(days=1) if last else datetime.now(UTC).date()
    start = first.date() if first else end - timedelta(days=30)
    if start >= end:
        raise click.BadParameter("--from must be before --to")
    return start, end


@contextmanager
def _connection(ctx: click.Context) -> Iterator[psycopg.Connection]:
    settings: Settings = ctx.obj
    try:
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            yield conn
    except SmatiError as error:
        raise click.ClickException(str(error)) from None
    except psycopg.OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error}") from None


def _write(report: Report, f: Formatter, fmt: str, out: Path | None, name: str) -> Path:
    """Render with a progress bar (a step per component, one for the PDF); write `out`."""
    target = out or Path(f"{name}.{fmt}")
    steps = len(report.components) + (fmt == "pdf")
    with click.progressbar(
        length=steps, label=f"rendering {target}", file=click.get_text_stream("stderr")
    ) as bar:
        html = render_html(report, f, bar.update)
        if fmt == "pdf":
            target.write_bytes(render_pdf(html))
            bar.update(1)
        else:
            target.write_text(html, encoding="utf-8")
    click.echo(str(target))
    return target


@dataclass(frozen=True)
class Output:
    fmt: str
    lang: str
    out: Path | None
    name: str
    """The file's default name, without its extension."""


def _render_days(ctx: click.Context, build: Callable[..., Report], output: Output) -> None:
    """Build a data-quality report (`build(conn, f=..., generated_at=...)`) and write it."""
    f = Formatter(output.lang)
    with _connection(ctx) as conn:
        built = build(conn, f=f, generated_at=datetime.now(UTC))
    _write(built, f, output.fmt, output.out, output.name)


@click.group()
def report() -> None:
    """Reports from the database (HTML or PDF, French or English): energy, monitoring, diagnostic.

    They read the daily rollups of the readings (kept up to date as readings arrive),
    never the stream: the readings as corrected by cleansing and gap filling (`smati
    cleanse`, `smati fill-gaps`), or as stored with --raw.
    """


@report.command()
@_common
@click.option(
    "--entity", "entities", multiple=True, required=True, help="a building (repeat for several)"
)
@click.option("--from", "first", metavar="YYYY-MM", help="first month [default: 24 months ago]")
@click.option("--to", "last", metavar="YYYY-MM", help="last month [default: last month]")
@click.option(
    "--reference-year", type=int, help="tertiary decree's reference [default: first year]"
)
@click.option(
    "--dju-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="daily degree days (columns date,dju) instead of the outdoor temperature sensor",
)
@click.option("--dju-reference", type=float, help="reference degree days [default: period mean]")
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the yearly kWh per building and energy (tertiary decree) to this CSV",
)
@_raw
@click.pass_context
def energy(
    ctx: click.Context,
    tenant: str,
    fmt: str,
    lang: str,
    out: Path | None,
    entities: tuple[str, ...],
    first: str | None,
    last: str | None,
    reference_year: int | None,
    dju_csv: Path | None,
    dju_reference: float | None,
    csv_out: Path | None,
    raw: bool,
) -> None:
    """Monthly consumption per meter and energy, totals, charts, KPIs, climate-corrected
    heating and the tertiary decree's trajectory, in the building's local months."""
    from reporting.energy import EnergyRequest, decree_rows, energy_report, find_entities

    f = Formatter(lang)
    with _connection(ctx) as conn:
        period = _months(first, last)
        request = EnergyRequest(
            tenant, entities, period, reference_year, dju_csv, dju_reference, raw
        )
        built, decrees = energy_report(conn, request, f, datetime.now(UTC))
        if csv_out:
            _write_csv(csv_out, decree_rows(find_entities(conn, tenant, entities), decrees))
    _write(built, f, fmt, out, f"energy-{'-'.join(entities)}")


def _months(first: str | None, last: str | None) -> Period:
    """The named months; by default the 24 whole months before this one."""
    default = Period.months_before(datetime.now(UTC).date(), 24)
    last = last or f"{default.months[-1]:%Y-%m}"
    if first is None:
        months = Period.of_months(last, last).start
        first = f"{Period.months_before(months, 23).start:%Y-%m}"
    return Period.of_months(first, last)


def _write_csv(path: Path, rows: list[tuple[str, str, str, int, float | None]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["entity_id", "entity_name", "energy", "year", "kwh"])
        writer.writerows(rows)


@report.command()
@_common
@_dates
@click.option("--entity", help="only this building's usages [default: all the tenant's]")
@click.pass_context
def monitoring(
    ctx: click.Context,
    tenant: str,
    fmt: str,
    lang: str,
    out: Path | None,
    first: datetime | None,
    last: datetime | None,
    entity: str | None,
) -> None:
    """Every usage with its entity, equipment, device, last transmission, periods and status
    colour, and over the days: share of time per status, status at start and end, gaps."""
    from reporting.quality import monitoring_report

    days = _days(first, last)
    report = partial(monitoring_report, tenant_id=tenant, entity_id=entity, days=days)
    _render_days(ctx, report, Output(fmt, lang, out, f"monitoring-{entity or tenant}"))


@report.command()
@_common
@_dates
@click.option("--usage", required=True, help="the usage (measurement point) to diagnose")
@_raw
@click.pass_context
def diagnostic(
    ctx: click.Context,
    tenant: str,
    fmt: str,
    lang: str,
    out: Path | None,
    first: datetime | None,
    last: datetime | None,
    usage: str,
    raw: bool,
) -> None:
    """One usage over the days: intervals between readings against its periods, gaps,
    values, the time series with anomalies, decreasing indexes and negative consumptions
    marked, and its device's radio quality."""
    from reporting.quality import diagnostic_report

    days = _days(first, last)
    report = partial(diagnostic_report, tenant_id=tenant, usage_id=usage, days=days, raw=raw)
    _render_days(ctx, report, Output(fmt, lang, out, f"diagnostic-{usage}"))
