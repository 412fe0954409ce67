"""Detection events: what the rules found in a usage's readings."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


class DetectionKind(StrEnum):
    NEGATIVE_CONSUMPTION = "negative_consumption"
    DECREASING_INDEX = "decreasing_index"
    METER_RESET = "meter_reset"
    INDEX_ROLLOVER = "index_rollover"
    THRESHOLD_HIGH = "threshold_high"
    THRESHOLD_LOW = "threshold_low"
    THRESHOLD_CLEARED = "threshold_cleared"
    TRANSMISSION_STATUS = "transmission_status"
    GAP_OPENED = "gap_opened"
    GAP_CLOSED = "gap_closed"
    GAP_CORRECTED = "gap_corrected"
    """Late readings shortened a closed gap."""
    GAP_FILLED = "gap_filled"
    """Late readings showed a gap was none."""
    ANOMALY = "anomaly"
    """A reading unlike what its usage has shown (models.anomaly)."""


GAP_KINDS = frozenset(
    {
        DetectionKind.GAP_OPENED,
        DetectionKind.GAP_CLOSED,
        DetectionKind.GAP_CORRECTED,
        DetectionKind.GAP_FILLED,
    }
)
TRANSMISSION_KINDS = GAP_KINDS | {DetectionKind.TRANSMISSION_STATUS}


def event_id(
    kind: str, tenant_id: str, usage_id: str, ts: datetime, discriminator: str = ""
) -> str:
    """A deterministic id: the same finding on a replay gets the same id, so it is stored once.

    `discriminator` tells apart findings of one kind at one time (two status changes).
    """
    key = f"{kind}|{tenant_id}|{usage_id}|{ts.isoformat()}"
    if discriminator:
        key += f"|{discriminator}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class DetectionEvent(BaseModel):
    """One finding on one usage at the time of the reading that revealed it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: DetectionKind
    tenant_id: str
    usage_id: str
    ts: AwareDatetime
    severity: Severity
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        kind: DetectionKind,
        tenant_id: str,
        usage_id: str,
        ts: datetime,
        severity: Severity,
        discriminator: object = "",
        **details: Any,
    ) -> DetectionEvent:
        return cls(
            id=event_id(kind, tenant_id, usage_id, ts, str(discriminator)),
            kind=kind,
            tenant_id=tenant_id,
            usage_id=usage_id,
            ts=ts,
            severity=severity,
            details=details,
        )

    def to_json(self) -> bytes:
        """The bytes of `model_dump_json`, in a fifth of its time (once per event)."""
        return orjson.dumps(self.__dict__, option=orjson.OPT_UTC_Z)

    @classmethod
    def from_json(cls, raw: bytes) -> DetectionEvent:
        return cls.model_validate_json(raw)
