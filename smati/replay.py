"""`smati dead-letters replay`: refused uplinks through the stream again, after a fix."""

from __future__ import annotations

from datetime import datetime

import click
from confluent_kafka import KafkaError, Message

from models.dead_letter import DeadLetter, RejectCode
from models.errors import SmatiError
from models.replay import replays
from models.uplink import RawUplink
from smati.context import settings_of
from smati.times import Moment

__all__ = ["replay"]


class ReplayNotConfirmed(SmatiError, RuntimeError):
    """Kafka did not confirm every replayed uplink."""


@click.command("replay")
@click.option(
    "--reason",
    required=True,
    type=click.Choice([code.value for code in RejectCode]),
    help="the reject code of the dead letters to replay",
)
@click.option(
    "--since",
    type=Moment(),
    required=True,
    help="dead letters from this time (2026-11-25T10:00+01:00) or this age back (2h, 7d)",
)
@click.pass_context
def replay(ctx: click.Context, reason: str, since: datetime) -> None:
    """Send the uplinks refused for REASON since a time back through the stream, after the
    registry or a codec was fixed: each once, under the origin of its first pass, so that
    what was stored then is not stored again (replaying twice stores nothing twice).
    Dead letters without an uplink (refused for their topic, size or format before they
    became one) cannot be replayed: have their sender send them again."""
    from stream.topics import read_records

    settings = settings_of(ctx)
    records = read_records(
        settings.kafka_bootstrap, settings.topic("dead-letter"), timeout_s=10, since=since
    )
    letters = [DeadLetter.model_validate_json(record.value) for record in records]
    chosen = [letter for letter in letters if letter.code == reason and letter.failed_at >= since]
    uplinks = replays(chosen)
    _publish(settings.kafka_bootstrap, settings.topic("raw"), uplinks)
    without = sum(letter.uplink is None for letter in chosen)
    click.echo(
        f"replayed {len(uplinks)} uplink(s) of {len(chosen)} dead letter(s) {reason}"
        + (f"; {without} without an uplink to replay" if without else "")
    )


def _publish(bootstrap: str, topic: str, uplinks: list[RawUplink]) -> None:
    """Produce each uplink, keyed by its device like a connector does; return once Kafka
    confirmed them all, ReplayNotConfirmed otherwise."""
    from connectors.mqtt import kafka_producer
    from models.kafka import produce

    producer = kafka_producer(bootstrap)
    failures: list[str] = []

    def delivered(error: KafkaError | None, _: Message) -> None:
        if error is not None:
            failures.append(str(error))

    for uplink in uplinks:
        produce(producer, topic, uplink.to_json(), uplink.device_id, delivered)
    unsent = producer.flush(30)
    if failures or unsent:
        raise ReplayNotConfirmed(
            f"Kafka did not confirm {len(failures) + unsent} of {len(uplinks)} replayed "
            f"uplinks ({'; '.join(sorted(set(failures))) or 'timed out'}): run it again, "
            "nothing is stored twice"
        )
