"""`/metrics`, `/live`, `/ready` and `/health` of the connectors, as the worker serves them.

`/health` (and `/ready`, its name for a readiness probe) runs each check of the connector
(its MQTT session, its Kafka producer...) and answers 200 when all hold, 503 when one does
not, with every check's result as JSON, so an orchestrator stops routing to a connector
that cannot do its job. `/live` answers 200 while the process serves at all: a liveness
probe that does not restart a connector for an outage of Kafka or MQTT it waits out.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from aiohttp import web
from confluent_kafka import KafkaException, Producer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.errors import SmatiError

Checks = Mapping[str, Callable[[], bool]]
"""Named health checks; each may block (it runs in a thread)."""


class StatusServerError(SmatiError):
    """The connector's web server could not listen (port taken, address not local...)."""


def add_status_routes(app: web.Application, checks: Checks) -> None:
    """GET /metrics (Prometheus text), GET /health and /ready (the checks), GET /live."""

    async def health(_: web.Request) -> web.Response:
        results = await asyncio.gather(*(asyncio.to_thread(check) for check in checks.values()))
        by_name = dict(zip(checks, results, strict=True))
        healthy = all(results)
        return web.json_response(
            {"healthy": healthy, "checks": by_name}, status=200 if healthy else 503
        )

    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", health)
    app.router.add_get("/live", _live)


async def _live(_: web.Request) -> web.Response:
    return web.json_response({"live": True})


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


def kafka_reachable(producer: Producer, timeout_s: float = 2.0) -> bool:
    """Whether the producer gets the cluster's metadata from a broker within `timeout_s`."""
    try:
        producer.list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


class StatusServer:
    """/metrics and /health served from a thread, beside a connector that is not asyncio."""

    def __init__(self, checks: Checks, host: str, port: int) -> None:
        self._app = web.Application()
        add_status_routes(self._app, checks)
        self._host, self._requested_port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="status-http")
        self._runner = web.AppRunner(self._app, access_log=None)

    def start(self) -> str:
        """Listen (port 0: a free one); the server's URL."""
        self._thread.start()
        try:
            self._call(self._runner.setup())
            self._call(web.TCPSite(self._runner, self._host, self._requested_port).start())
        except OSError as error:
            self.stop()
            raise StatusServerError(
                f"cannot serve /metrics and /health on {self._host}:{self._requested_port}: "
                f"{error.strerror or error}"
            ) from error
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)
