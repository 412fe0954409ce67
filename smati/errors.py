"""What a person sees when a command fails as expected: one line on stderr, exit code 1.

Expected failures are SMATI's own (`SmatiError`), and those of the services it talks to:
a database that cannot be reached or refuses us, a Kafka cluster that cannot be reached. Any
other exception is a bug, and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

import click
import psycopg
from confluent_kafka import KafkaError, KafkaException

from models.errors import SmatiError
from models.settings import Settings

__all__ = ["OneLineErrors", "one_line"]

EXPECTED = (SmatiError, psycopg.OperationalError, KafkaException)


def one_line(error: Exception, settings: Settings | None) -> str:
    """The error told in a line (SMATI's own errors may list one problem per line).

    A database that is not migrated is found before any query (`require_schema`)."""
    if isinstance(error, psycopg.OperationalError):
        return f"database: {str(error).strip().splitlines()[0]}"
    if isinstance(error, KafkaException):
        where = f" at {settings.kafka_bootstrap}" if settings is not None else ""
        cause = error.args[0] if error.args else None
        return f"Kafka{where}: {cause.str() if isinstance(cause, KafkaError) else error}"
    return str(error)


class OneLineErrors(click.Group):
    """A command group whose commands' expected failures are shown as one line, not a
    traceback (click prints a ClickException as `Error: ...`, exit code 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED as error:
            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            raise click.ClickException(one_line(error, settings)) from None
