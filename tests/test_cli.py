"""The `smati` command line: help, migrations and registry loading against a real database."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from smati.cli import main

DEMO = resources.files("smati").joinpath("examples/demo-building.yaml").read_text()


def test_help_lists_every_entry_point() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("worker", "connector", "db", "registry", "demo", "bench"):
        assert command in result.output


@pytest.mark.integration
def test_migrate_then_load_registry(empty_database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["--database-url", empty_database, "db", "migrate"])
    assert first.exit_code == 0, first.output
    assert "applied: 0001_initial" in first.output
    again = runner.invoke(main, ["--database-url", empty_database, "db", "migrate"])
    assert again.output.strip() == "schema up to date"

    site = tmp_path / "site.yaml"
    site.write_text(DEMO)
    loaded = runner.invoke(main, ["--database-url", empty_database, "registry", "load", str(site)])
    assert loaded.exit_code == 0, loaded.output
    assert "10 usages" in loaded.output
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM devices").fetchone() == (7,)


@pytest.mark.integration
def test_registry_error_names_the_line_and_loads_nothing(
    empty_database: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["--database-url", empty_database, "db", "migrate"])
    site = tmp_path / "site.yaml"
    site.write_text(
        DEMO.replace(
            "  - id: gw-paris-1\n    network: mqtt", "  - id: gw-paris-1\n    network: zigbee"
        )
    )
    bad_line = next(
        n for n, line in enumerate(site.read_text().splitlines(), 1) if "zigbee" in line
    )
    result = runner.invoke(main, ["--database-url", empty_database, "registry", "load", str(site)])
    assert result.exit_code == 1
    assert f"site.yaml:{bad_line}: gateways.0.network" in result.output
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)
