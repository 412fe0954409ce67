"""The detector's parameters: one set for every usage, chosen on NAB (`smati bench nab`).

Nothing here is a duration: the detector counts readings, and its daily and weekly
profile counts the days it has seen, so it works the same whether a usage reports every
second or every hour.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AnomalyConfig(BaseModel):
    """Tolerances are excesses in fractions of the range the usage has shown so far: an
    excess equal to its tolerance scores 0.5, twice it 0.67, ten times 0.91."""

    model_config = ConfigDict(frozen=True)

    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """A reading scoring at least this is an anomaly."""
    warmup_readings: int = Field(default=100, ge=1)
    """Readings learned before any is scored."""
    episode_gap_readings: int = Field(default=20, ge=1)
    """Normal readings in a row that end an anomaly episode: the anomalous readings of one
    episode are one anomaly, reported at the first (a team is paged once)."""
    range_tolerance: float = Field(default=0.0255, gt=0.0)
    """How far beyond the lowest or highest value seen so far."""
    seasonal_tolerance: float = Field(default=0.107, gt=0.0)
    """How far beyond the deviations seen so far from the usual value at this hour of this
    kind of day (weekday or weekend)."""
    level_tolerance: float = Field(default=0.005, gt=0.0)
    """How far the smoothed level goes beyond its lowest or highest so far."""
    rate_tolerance: float = Field(default=0.2, gt=0.0)
    """How much of a level's change since the previous reading the fastest change per
    second seen so far does not explain (instant usages only)."""
    stuck_tolerance: float = Field(default=10.0, gt=0.0)
    """How much longer than the longest run of identical values seen so far, in units of
    that run (plus one)."""
    stuck_min_readings: int = Field(default=12, ge=2)
    """Identical values in a row below this are never a stuck sensor."""
    level_settle_readings: int = Field(default=20, ge=1)
    """Readings before the smoothed level is trusted (its start follows the first values)."""
    level_fading: float = Field(default=0.05, gt=0.0, le=1.0)
    """Weight of a new reading in the smoothed level."""
    seasonal_fading: float = Field(default=0.05, gt=0.0, le=1.0)
    """Weight of a new reading in the usual value of its hour and kind of day."""
    seasonal_min_days: int = Field(default=3, ge=1)
    """Days an hour of a kind of day must have been seen on before its usual value is
    trusted: the daily profile needs three days of history, the weekend's three weekend
    days, whatever the usage's period; a usage reporting less than hourly needs more."""
