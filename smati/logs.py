"""The logs of every SMATI process: JSON lines for machines, a console format for a person.

Code logs with the standard `logging` module; fields passed as `extra={...}` (usage,
device, partition, offset...) become fields of the JSON line. A record marked
`extra={"throttle": "<key>"}` is let through once per key per interval, so that a flood
of bad input (every message of a broken device dead-lettered) cannot flood the log: the
next line of that key carries `suppressed`, how many were left out meanwhile. The same
configuration is given to Faust's worker, which otherwise installs its own.
"""

from __future__ import annotations

import logging
import logging.config
import math
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Literal

import structlog

__all__ = [
    "LogFormat",
    "ThrottleFilter",
    "configure_logging",
    "drop_color_message",
    "logging_config",
]

LogFormat = Literal["auto", "json", "console"]


class ThrottleFilter(logging.Filter):
    """One record per `throttle` key per `interval_s`; the next one says how many were
    suppressed. Keys name a kind of trouble (a reject code, a stage), not a device: the
    filter remembers each key it has seen."""

    def __init__(
        self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        """Key -> when its last line was let through, how many were suppressed since."""
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = getattr(record, "throttle", None)
        if key is None:
            return True
        now = self._clock()
        with self._lock:
            shown_at, suppressed = self._windows.get(key, (-math.inf, 0))
            if now - shown_at < self.interval_s:
                self._windows[key] = (shown_at, suppressed + 1)
                return False
            self._windows[key] = (now, 0)
        if suppressed:
            record.suppressed = suppressed
        return True


def drop_color_message(_: Any, __: str, event: MutableMapping[str, Any]) -> Any:
    """Uvicorn gives each record a copy of its message with ANSI colour codes
    (`color_message`), for its own console format: noise in a JSON line."""
    event.pop("color_message", None)
    return event


def configure_logging(level: str, fmt: LogFormat = "auto", throttle_s: float = 10.0) -> None:
    """Install the logging of a SMATI process (the root logger's one handler, on stderr)."""
    logging.config.dictConfig(logging_config(level, fmt, throttle_s))


def logging_config(level: str, fmt: LogFormat = "auto", throttle_s: float = 10.0) -> dict[str, Any]:
    """The configuration, as `logging.config.dictConfig` and Faust's `Worker` take it."""
    on_terminal = sys.__stderr__ is not None and sys.__stderr__.isatty()
    as_json = fmt == "json" or (fmt == "auto" and not on_terminal)
    renderer: list[Any] = (
        [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(default=str, ensure_ascii=False),
        ]
        if as_json
        else [structlog.dev.ConsoleRenderer(colors=on_terminal)]
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "smati": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.stdlib.add_log_level,
                    structlog.stdlib.add_logger_name,
                    structlog.stdlib.ExtraAdder(),
                    drop_color_message,
                ],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *renderer,
                ],
            }
        },
        "filters": {"throttle": {"()": ThrottleFilter, "interval_s": throttle_s}},
        "handlers": {
            # The process's own stderr, not `sys.stderr`: Faust's worker replaces that with
            # a proxy that logs what is written to it, and click's test runner with a
            # buffer it closes after the command.
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.__stderr__",
                "formatter": "smati",
                "filters": ["throttle"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
