"""Transmission status from the silence of a usage, counted in periods."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.detection import Severity


class TransmissionStatus(StrEnum):
    GREEN = "green"
    """Normal: the last reading is at most `orange_after` periods old."""
    ORANGE = "orange"
    """Perturbed: readings are late."""
    RED = "red"
    """Transmission cut."""
    VIOLET = "violet"
    """Registered, never transmitted."""

    @property
    def severity(self) -> Severity:
        return _SEVERITY[self]


_SEVERITY = {
    TransmissionStatus.GREEN: Severity.INFO,
    TransmissionStatus.ORANGE: Severity.WARNING,
    TransmissionStatus.RED: Severity.MAJOR,
    TransmissionStatus.VIOLET: Severity.INFO,
}

WORSENING = (TransmissionStatus.ORANGE, TransmissionStatus.RED)
"""The steps a silent usage goes through, in order."""


class TransmissionPolicy(BaseModel):
    """Thresholds on r = silence / period (configuration)."""

    model_config = ConfigDict(frozen=True)

    orange_after: float = Field(default=1.5, gt=0, description="r above which a usage is orange")
    red_after: float = Field(default=5.0, gt=0, description="r above which a usage is red")
    gap_after: float = Field(default=2.5, gt=1, description="r above which a silence is a gap")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.orange_after >= self.red_after:
            raise ValueError("orange_after must be below red_after")
        return self

    def threshold(self, status: TransmissionStatus) -> float:
        """The r at which a silent usage enters `status` (orange or red)."""
        return self.orange_after if status is TransmissionStatus.ORANGE else self.red_after

    def status_after(self, silence_periods: float) -> TransmissionStatus:
        if silence_periods > self.red_after:
            return TransmissionStatus.RED
        if silence_periods > self.orange_after:
            return TransmissionStatus.ORANGE
        return TransmissionStatus.GREEN
