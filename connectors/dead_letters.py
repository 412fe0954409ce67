"""What an edge refuses: logged (throttled per code) and built by the one dead-letter builder."""

from __future__ import annotations

import logging

from models.dead_letter import DeadLetter, RejectCode, Rejection, dead_letter

log = logging.getLogger(__name__)


def connector_dead_letter(
    code: RejectCode, reason: str, *, origin: str, original: bytes, device_id: str | None = None
) -> DeadLetter:
    """The dead letter of a message refused at the edge, its original bytes as given."""
    log.warning(
        "dead letter (connector) %s: %s", code, reason, extra={"throttle": f"dead-letter:{code}"}
    )
    rejection = Rejection(code=code, reason=reason)
    return dead_letter(
        rejection, stage="connector", origin=origin, original=original, device_id=device_id
    )
