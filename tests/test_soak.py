"""The soak under faults, small: readings over MQTT through the connector, Kafka and two
workers into PostgreSQL while a worker is killed with -9 and the connector restarted.
Every reading must be stored exactly once and the lag be back to 0 (no timing asserted:
the figures of the full soak are measured by `smati bench soak`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak.run import Endpoints, SoakPlan, run_soak
from services import ApacheKafka, MqttBroker

pytestmark = pytest.mark.integration


def test_a_killed_worker_and_a_restarted_connector_lose_nothing_and_double_nothing(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, database: str, tmp_path: Path
) -> None:
    plan = SoakPlan(
        readings=20_000,
        usages=1_000,
        worker_kills=(0.3,),
        connector_restarts=(0.6,),
        session_timeout_s=6,
    )
    endpoints = Endpoints(kafka_broker.bootstrap, database, mqtt_broker.url)
    figures = run_soak(endpoints, plan, tmp_path, say=lambda _: None)
    assert (figures.sent, figures.stored) == (20_000, 20_000)
    assert (figures.missing, figures.duplicates, figures.lag_end) == (0, 0, 0)
    assert figures.dead_letters == {}
    assert len(figures.recovery_s) == 1  # the killed worker's partitions were consumed again
    assert len(figures.connector_recovery_s) == 1
