"""A checked reading of one usage, the unit everything downstream works on."""

from __future__ import annotations

import math
from enum import StrEnum

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class UsageType(StrEnum):
    """Decides which checks apply to a usage."""

    INDEX = "index"
    """A cumulative meter counter (kWh, m3): consumption is the difference of indexes."""
    CONSUMPTION = "consumption"
    """Consumption per interval: a negative value is a defect."""
    INSTANT = "instant"
    """A level (temperature, power, CO2): range and outlier checks."""


class QualityFlag(StrEnum):
    """Marks on a reading; raw data is flagged, never destroyed."""

    CONVERTED_UNIT = "converted_unit"
    """The value arrived in another unit and was converted to the usage's."""


class Reading(BaseModel):
    """One value of one usage at one time.

    `origin` names the raw uplink it was decoded from (topic/partition/offset):
    a replay of the same uplink is told apart from a device sending twice.
    """

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    usage_id: str
    ts: AwareDatetime
    value: float
    unit: str
    usage_type: UsageType
    source: str
    device_id: str
    origin: str
    flags: tuple[QualityFlag, ...] = Field(default=())

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"value must be a finite number, got {value}")
        return value

    def to_json(self) -> bytes:
        """The bytes of `model_dump_json`, in a fifth of its time (once per reading)."""
        return orjson.dumps(self.__dict__, option=orjson.OPT_UTC_Z)

    @classmethod
    def from_json(cls, raw: bytes) -> Reading:
        return cls.model_validate_json(raw)
