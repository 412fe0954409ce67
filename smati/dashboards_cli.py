"""`smati dashboards`: Grafana's dashboards and provisioning files, generated from the
code in dashboards/ (grafana-foundation-sdk) into a folder Grafana is provisioned from."""

from __future__ import annotations

from pathlib import Path

import click

from models.errors import SmatiError

__all__ = ["dashboards"]

_out = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grafana"),
    show_default=True,
    help="the folder of the generated files (the repository's grafana/, from its root)",
)


class StaleDashboards(SmatiError):
    """The committed files differ from what the code generates."""


@click.group()
def dashboards() -> None:
    """Grafana dashboards as code: the pipeline (Prometheus) and the buildings (SQL)."""


@dashboards.command("build")
@_out
def build(out: Path) -> None:
    """Write the dashboards' JSON and Grafana's provisioning files (data sources,
    dashboards provider) under OUT."""
    from dashboards.build import write

    for path in write(out):
        click.echo(path)


@dashboards.command("check")
@_out
def check(out: Path) -> None:
    """Fail if the files under OUT are not what `smati dashboards build` writes."""
    from dashboards.build import stale

    differing = stale(out)
    if differing:
        raise StaleDashboards(
            f"{', '.join(differing)} under {out} differ from the code: run `smati dashboards build`"
        )
    click.echo(f"{out}: up to date")
