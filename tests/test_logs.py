"""Logs: JSON lines with the records' extra fields, and the throttle of flooding lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from smati.logs import ThrottleFilter, configure_logging


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"msg": message, "levelno": logging.WARNING})
    made.__dict__.update(extra)
    return made


def test_one_line_per_key_per_interval_then_the_count_suppressed() -> None:
    clock = Clock()
    throttle = ThrottleFilter(interval_s=10, clock=clock)
    flood = [record(f"dead letter {n}", throttle="dead-letter:bad_topic") for n in range(5)]
    assert [throttle.filter(r) for r in flood] == [True, False, False, False, False]
    assert not hasattr(flood[0], "suppressed")
    clock.now = 9.9
    assert not throttle.filter(record("still", throttle="dead-letter:bad_topic"))
    clock.now = 10.0
    after = record("after the interval", throttle="dead-letter:bad_topic")
    assert throttle.filter(after)
    assert after.suppressed == 5  # type: ignore[attr-defined]
    clock.now = 25
    quiet = record("no flood meanwhile", throttle="dead-letter:bad_topic")
    assert throttle.filter(quiet)
    assert not hasattr(quiet, "suppressed")


def test_keys_are_throttled_apart_and_unmarked_records_never() -> None:
    throttle = ThrottleFilter(interval_s=10, clock=Clock())
    assert throttle.filter(record("a", throttle="one"))
    assert throttle.filter(record("b", throttle="two"))
    assert not throttle.filter(record("c", throttle="one"))
    assert all(throttle.filter(record("plain")) for _ in range(3))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_extra_fields_and_the_throttle_count(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json", throttle_s=3600)
    log = logging.getLogger("stream.uplinks")
    log.info("stored %d readings", 3, extra={"usage": "hq.co2", "partition": 2, "offset": 17})
    for _ in range(3):
        log.warning("dead letter", extra={"throttle": "dead-letter", "device": "d1"})
    log.debug("not at this level")
    first, second = (json.loads(line) for line in capfd.readouterr().err.splitlines())
    assert first["message"] == "stored 3 readings"
    assert (first["usage"], first["partition"], first["offset"]) == ("hq.co2", 2, 17)
    assert (first["level"], first["logger"]) == ("info", "stream.uplinks")
    assert first["timestamp"].endswith("Z")  # UTC, marked as such
    assert (second["message"], second["device"]) == ("dead letter", "d1")


@pytest.mark.usefixtures("restore_logging")
def test_uvicorn_colour_codes_stay_out_of_the_json_lines(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Uvicorn logs each line with a coloured copy in `color_message`, as here."""
    configure_logging("info", "json")
    colored = "Started server process [\x1b[36m%d\x1b[0m]"
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": colored}
    )
    (line,) = capfd.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "Started server process [42]"
    assert "color_message" not in json.loads(line)
    assert "\x1b" not in line and "\\u001b" not in line


@pytest.mark.usefixtures("restore_logging")
def test_console_format_for_a_person(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "console")
    logging.getLogger("smati").warning("database not reachable", extra={"attempt": 2})
    (line,) = capfd.readouterr().err.splitlines()
    assert "database not reachable" in line
    assert "attempt=2" in line
    assert not line.startswith("{")
