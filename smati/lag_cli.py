"""`smati lag`: how far the workers are behind, per partition of the raw topic, and the
processing horizon (what an operator looks at before scaling out or after a restart)."""

from __future__ import annotations

import click

from smati.context import settings_of
from smati.tables import echo_json, json_option, table
from smati.times import shown

__all__ = ["lag"]

COLUMNS = ("TOPIC", "PARTITION", "END", "COMMITTED", "LAG")


@click.command()
@json_option
@click.pass_context
def lag(ctx: click.Context, as_json: bool) -> None:
    """Per partition of the raw topic: its end offset, the workers' committed offset and the
    lag between (uplinks published, not yet handled); then the processing horizon, when
    the oldest uplink not yet handled was published (everything before it is stored and
    checked), and how far it is behind."""
    from stream.lag import read_lag

    found = read_lag(settings_of(ctx))
    if as_json:
        rows = [
            {
                "topic": p.topic,
                "partition": p.partition,
                "end": p.end,
                "committed": p.committed,
                "lag": p.lag,
            }
            for p in found.partitions
        ]
        echo_json([*rows, {"horizon": found.horizon, "horizon_lag_s": found.horizon_lag_s}])
        return
    cells = [
        (p.topic, str(p.partition), str(p.end), _committed(p.committed), str(p.lag))
        for p in found.partitions
    ]
    click.echo(f"consumer group {found.group}")
    click.echo(table(COLUMNS, cells))
    total = sum(p.lag for p in found.partitions)
    behind = f"{found.horizon_lag_s:.1f} s behind" if total else "caught up"
    click.echo(f"total lag {total}; processing horizon {shown(found.horizon, 'UTC')} ({behind})")


def _committed(offset: int | None) -> str:
    return "-" if offset is None else str(offset)
