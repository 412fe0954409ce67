"""HTTP endpoints for network servers that push uplinks: The Things Stack's webhooks and
the Sigfox backend's data callbacks.

    POST /tts/{tenant}      a TTS uplink message (webhook "uplink message" path)
    POST /sigfox/{tenant}   a Sigfox data callback (form-encoded or JSON, see models.sigfox)

A bidirectional Sigfox callback (`ack` true) is answered with the downlink queued for the
device, `{"<device>": {"downlinkData": "<8 bytes in hex>"}}`, which is then sent; with 204
when none is queued (the backend then sends nothing). A retried callback of the same
uplink gets the same downlink.

Each tenant has a secret (settings `webhook_secrets`), sent by the caller as
`Authorization: Bearer <secret>` and compared in constant time. The connector refuses only
what is not its to take: a bad or missing secret (401, not written to Kafka:
unauthenticated input must not fill it), a body over the size limit (413), a message not
in its network server's format (400), an application bound to no tenant or to another
(403) and a device that is not the tenant's (404), each with a JSON error, and what was
received goes to the dead-letter topic with the reason (models.identity decides, as in the
stream). An authenticated, well-formed uplink of a known device is answered 2xx once
Kafka has confirmed it, whatever its payload: decoding is the stream's, which
dead-letters what it cannot decode (and replays it after a fix). A Kafka failure answers
503, so the caller retries; a retried callback is harmless: the stream drops a frame it
already has (same device and frame counter). Requests are counted
(`smati_webhook_requests_total` by source and status, at GET /metrics). GET /health
answers 200 while the Kafka producer reaches the cluster, 503 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import Counter
from pydantic import SecretStr

from connectors.dead_letters import connector_dead_letter
from connectors.delivery import DeliveryFailed, KafkaDelivery
from connectors.status import add_status_routes
from models.dead_letter import RejectCode, Rejection
from models.downlink import sigfox_reply
from models.errors import SmatiError
from models.identity import identify
from models.network_servers import FRAME_PARSERS
from models.radio import FrameFormatError, RadioFrame
from models.uplink import RawUplink
from models.validation import DeviceIndex

log = logging.getLogger(__name__)

ROUTES = {"tts": "/tts/{tenant}", "sigfox": "/sigfox/{tenant}"}
_STATUS = {
    RejectCode.MALFORMED_PAYLOAD: 400,
    RejectCode.UNBOUND_APPLICATION: 403,
    RejectCode.UNKNOWN_DEVICE: 404,
    RejectCode.OVERSIZED: 413,
}


REQUESTS = Counter(
    "smati_webhook_requests_total", "Webhook requests answered", ["source", "status"]
)


class DeviceDirectory(Protocol):
    """The registry as the connector reads it, reloaded from the database periodically."""

    devices: DeviceIndex

    async def reload(self) -> None: ...


class SigfoxDownlinks(Protocol):
    """The downlinks queued for Sigfox devices (a SmatiError when they cannot be read)."""

    async def reply_for(self, tenant_id: str, device: str, uplink: str) -> bytes | None:
        """The payload answering `uplink` of `device`, marked sent; None if none is queued."""
        ...


class WebhookConnector:
    def __init__(
        self,
        delivery: KafkaDelivery,
        raw_topic: str,
        dead_letter_topic: str,
        secrets: dict[str, SecretStr],
        directory: DeviceDirectory,
        refresh_s: float,
        max_payload_bytes: int = 256 * 1024,
        sigfox_downlinks: SigfoxDownlinks | None = None,
    ) -> None:
        self._delivery = delivery
        self._raw_topic = raw_topic
        self._dead_letter_topic = dead_letter_topic
        self._secrets = secrets
        self._directory = directory
        self._refresh_s = refresh_s
        self._max_payload_bytes = max_payload_bytes
        self._sigfox_downlinks = sigfox_downlinks

    def app(self) -> web.Application:
        app = web.Application()
        for source, path in ROUTES.items():
            app.router.add_post(path, self._handler(source))
        add_status_routes(app, {"kafka": self._delivery.reaches_kafka})
        app.cleanup_ctx.append(self._keep_registry_fresh)
        return app

    async def _keep_registry_fresh(self, _: web.Application) -> AsyncIterator[None]:
        await self._directory.reload()

        async def refresh() -> None:
            while True:
                await asyncio.sleep(self._refresh_s)
                try:
                    await self._directory.reload()
                except Exception:  # keep the last registry; try again next period
                    log.exception("registry reload failed")

        task = asyncio.create_task(refresh())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _handler(self, source: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            response = await self._receive(source, request)
            REQUESTS.labels(source=source, status=str(response.status)).inc()
            return response

        return handle

    async def _receive(self, source: str, request: web.Request) -> web.StreamResponse:
        tenant = request.match_info["tenant"]
        if not self._authorized(tenant, request.headers.get("Authorization", "")):
            log.warning("refused %s %s: bad or missing secret", request.method, request.path)
            return _error(401, "unauthorized: send 'Authorization: Bearer <tenant secret>'")
        origin = f"http:{request.path}"
        received_at = datetime.now(UTC)
        body = await self._body(request)
        try:
            if len(body) > self._max_payload_bytes:
                reason = f"body over the limit of {self._max_payload_bytes} bytes"
                return await self._refuse(RejectCode.OVERSIZED, reason, origin, body)
            try:
                frame = FRAME_PARSERS[source](body, received_at)
            except FrameFormatError as error:
                return await self._refuse(RejectCode.MALFORMED_PAYLOAD, str(error), origin, body)
            uplink = RawUplink(
                source=source,
                device_id=frame.network_id,
                received_at=received_at,
                payload=body,
                metadata={"path": request.path, "tenant": tenant, **frame.metadata()},
            )
            found = identify(uplink, frame, self._directory.devices)
            if isinstance(found, Rejection):
                return await self._refuse(found.code, found.reason, origin, body, uplink)
            await self._delivery.send(self._raw_topic, uplink.device_id, uplink.to_json())
        except DeliveryFailed as error:
            log.error("Kafka did not confirm %s: %s", origin, error)
            return _error(503, "not stored, try again later")
        if frame.downlink_requested:
            return await self._answer_downlink_request(tenant, frame)
        return web.json_response({"accepted": True, "device": frame.network_id})

    async def _answer_downlink_request(self, tenant: str, frame: RadioFrame) -> web.Response:
        """The downlink queued for the device, or 204: nothing to send."""
        payload = None
        if self._sigfox_downlinks is not None:
            uplink = f"{frame.f_cnt}@{frame.time.isoformat()}"
            try:
                payload = await self._sigfox_downlinks.reply_for(tenant, frame.network_id, uplink)
            except SmatiError as error:  # the uplink is stored: the downlink waits
                log.error("no downlink for %s: %s", frame.network_id, error)
        if payload is None:
            return web.Response(status=204)
        log.info("downlink of %d bytes sent to %s", len(payload), frame.network_id)
        return web.json_response(sigfox_reply(frame.network_id, payload))

    async def _body(self, request: web.Request) -> bytes:
        """The body, read up to one byte past the size limit (so an oversized one shows)."""
        body = bytearray()
        while len(body) <= self._max_payload_bytes:
            chunk = await request.content.read(self._max_payload_bytes + 1 - len(body))
            if not chunk:
                break
            body += chunk
        return bytes(body)

    def _authorized(self, tenant: str, authorization: str) -> bool:
        scheme, _, given = authorization.partition(" ")
        expected = self._secrets.get(tenant)
        # Compared even for an unknown tenant, so timing tells nothing about which exist.
        secret = expected.get_secret_value() if expected else "\x00 no tenant \x00"
        matches = hmac.compare_digest(given.strip().encode(), secret.encode())
        return expected is not None and scheme.lower() == "bearer" and matches

    async def _refuse(
        self,
        code: RejectCode,
        reason: str,
        origin: str,
        body: bytes,
        uplink: RawUplink | None = None,
    ) -> web.StreamResponse:
        """Dead-letter the body (with the uplink it became, to be replayed after a registry
        fix) and answer the caller with the reason."""
        device_id = uplink.device_id if uplink else None
        letter = connector_dead_letter(
            code,
            reason,
            origin=origin,
            original=body[: self._max_payload_bytes],
            device_id=device_id,
            uplink=uplink,
        )
        await self._delivery.send(self._dead_letter_topic, device_id or origin, letter.to_json())
        return _error(_STATUS.get(code, 422), reason, code)


def _error(status: int, message: str, code: RejectCode | None = None) -> web.Response:
    body: dict[str, str] = {"error": message}
    if code is not None:
        body["code"] = code.value
    return web.json_response(body, status=status)
