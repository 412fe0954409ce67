"""Item 5 of issue 18: an operator sees one line, never a traceback, for what is expected.

Each case runs `smati` as a subprocess against the real services (or a port where none
listens), as an operator would.
"""

from __future__ import annotations

import json
import socket
import subprocess

import pytest
from commands import smati
from psycopg.conninfo import make_conninfo

from services import PostgresServer, free_port
from smati.database import wait_for_database


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error line of a failed command, once checked that it is alone and no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    *logs, last = result.stderr.strip().splitlines()
    assert last.startswith("Error: ")
    assert all(json.loads(line) for line in logs), logs  # anything else is a log line
    return last.removeprefix("Error: ")


def test_a_setting_that_does_not_parse() -> None:
    error = one_line_error(smati("status", SMATI_TOPIC_PARTITIONS="many"))
    assert error == (
        "SMATI_TOPIC_PARTITIONS: Input should be a valid integer, unable to parse string as "
        "an integer (got 'many')"
    )


def test_a_json_setting_that_does_not_parse() -> None:
    error = one_line_error(smati("status", SMATI_MQTT_TOPICS="[oops"))
    assert error.startswith("a setting does not parse: ")
    assert '"mqtt_topics"' in error


def test_a_database_nobody_listens_to() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/smati"
    error = one_line_error(smati("--database-url", url, "db", "migrate"))
    assert error.startswith("database: connection failed: ")
    assert "Connection refused" in error


@pytest.mark.integration
def test_a_wrong_database_name(postgres: PostgresServer) -> None:
    url = make_conninfo(postgres.url, dbname="no_such_db")
    error = one_line_error(smati("--database-url", url, "status"))
    assert 'database "no_such_db" does not exist' in error


@pytest.mark.integration
def test_a_database_not_migrated(empty_database: str) -> None:
    error = one_line_error(smati("--database-url", empty_database, "status"))
    assert "lacks migrations 0001_initial, " in error
    assert error.endswith(": run `smati db migrate`")


def test_a_kafka_nobody_listens_to() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    error = one_line_error(smati("--kafka-bootstrap", bootstrap, "dead-letters", "list"))
    assert error == f"Kafka at {bootstrap}: Failed to get metadata: Local: Broker transport failure"


def test_a_worker_waits_for_the_database_and_says_so() -> None:
    port = free_port()
    result = smati(
        "worker",
        "--web-port",
        "0",  # 6066 may be another worker's on this machine
        SMATI_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/smati",
        SMATI_DATABASE_WAIT_S="3",
    )
    error = one_line_error(result)
    assert error == f"gave up waiting for the database at 127.0.0.1:{port}/smati after 3 s"
    waits = [json.loads(line) for line in result.stderr.splitlines()[:-1]]
    said = f"database not reachable at 127.0.0.1:{port}/smati (no answer); waiting"
    assert len(waits) >= 1
    assert all(w["message"] == said and w["level"] == "warning" for w in waits), waits


def test_a_second_worker_on_the_web_port_of_the_first() -> None:
    with socket.create_server(("127.0.0.1", 0)) as first:
        port = first.getsockname()[1]
        result = smati("worker", "--web-port", str(port), SMATI_DATABASE_WAIT_S="3")
    error = one_line_error(result)
    assert error == (
        f"port {port} on 127.0.0.1 is taken (another worker?): give each worker its own "
        "SMATI_WEB_PORT or --web-port (0 picks a free one)"
    )


@pytest.mark.integration
def test_waiting_for_a_database_that_answers_returns_at_once(database: str) -> None:
    wait_for_database(database, timeout_s=0)


@pytest.mark.integration
def test_a_worker_refuses_a_database_not_migrated(empty_database: str) -> None:
    error = one_line_error(smati("worker", "--web-port", "0", SMATI_DATABASE_URL=empty_database))
    assert error.endswith(": run `smati db migrate`")
