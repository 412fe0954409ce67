"""What an edge refuses: logged (throttled per code) and built by the one dead-letter builder."""

from __future__ import annotations

import logging

from models.dead_letter import DeadLetter, RejectCode, Rejection, dead_letter
from models.uplink import RawUplink

log = logging.getLogger(__name__)


def connector_dead_letter(
    code: RejectCode,
    reason: str,
    *,
    origin: str,
    original: bytes,
    device_id: str | None = None,
    uplink: RawUplink | None = None,
) -> DeadLetter:
    """The dead letter of a message refused at the edge, its original bytes as given (and
    the raw uplink it became, where it could be replayed after a registry fix)."""
    log.warning(
        "dead letter (connector) %s: %s",
        code,
        reason,
        extra={"throttle": f"dead-letter:{code}", "device": device_id, "origin": origin},
    )
    rejection = Rejection(code=code, reason=reason)
    return dead_letter(
        rejection,
        stage="connector",
        origin=origin,
        original=original,
        device_id=device_id,
        uplink=uplink,
    )
