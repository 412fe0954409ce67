"""Energy accounting rules of the reports: pure functions, no I/O.

- which energy a usage measures, from its Project Haystack tags;
- a meter's unit in kWh (gas in m3 by the usage's own factor);
- unified degree days (DJU, "degrés-jours unifiés", base 18 C, Météo-France's method:
  the day's mean of its lowest and highest temperature) and the climate correction
  C x DJU_ref / DJU_year of heating consumption;
- the trajectory of France's tertiary-sector decree (décret tertiaire, 2019-771): -40 %
  in 2030, -50 % in 2040, -60 % in 2050 from a reference year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from models.errors import SmatiError
from models.units import UnitError, convert

__all__ = [
    "DECREE_MILESTONES",
    "DJU_BASE_C",
    "Energy",
    "EnergyUnitError",
    "Milestone",
    "climate_corrected",
    "decree_milestones",
    "degree_days",
    "delivered",
    "energy_of",
    "heating",
    "is_outdoor_temperature",
    "kwh_factor",
]

DJU_BASE_C = 18.0


class Energy(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"
    HEAT = "heat"
    WATER = "water"

    @property
    def in_kwh(self) -> bool:
        """Water is reported in m3; every energy in kWh."""
        return self is not Energy.WATER


# Project Haystack tags (elec, naturalGas, water, heating...) -> energy; first match wins.
_TAGS: tuple[tuple[str, Energy], ...] = (
    ("elec", Energy.ELECTRICITY),
    ("naturalGas", Energy.GAS),
    ("gas", Energy.GAS),
    ("water", Energy.WATER),
    ("heating", Energy.HEAT),
    ("heat", Energy.HEAT),
    ("districtHeating", Energy.HEAT),
)
_METER_TYPES = frozenset({"index", "consumption"})


def energy_of(usage_type: str, tags: Iterable[str]) -> Energy | None:
    """The energy a meter usage measures; None for a sensor (temperature, CO2...)."""
    if usage_type not in _METER_TYPES:
        return None
    present = set(tags)
    return next((energy for tag, energy in _TAGS if tag in present), None)


def delivered(present: Iterable[Energy]) -> list[Energy]:
    """The energies a building buys, counted by KPIs and the decree: a heat meter on the
    output of the building's own gas boiler measures the gas a second time."""
    energies = set(present) - {Energy.WATER}
    if Energy.GAS in energies:
        energies.discard(Energy.HEAT)
    return [energy for energy in Energy if energy in energies]


def heating(present: Iterable[Energy]) -> Energy | None:
    """What heats the building, for the climate correction: its gas, else its heat."""
    energies = set(present)
    return next((e for e in (Energy.GAS, Energy.HEAT) if e in energies), None)


def is_outdoor_temperature(usage_type: str, tags: Iterable[str]) -> bool:
    """An `outside air temp` sensor in Haystack's words: the degree days' source."""
    return usage_type == "instant" and {"outside", "temp"} <= set(tags)


class EnergyUnitError(SmatiError, ValueError):
    """A meter whose unit cannot be expressed in its energy's report unit."""


def kwh_factor(energy: Energy, unit: str, kwh_per_unit: float | None) -> float:
    """What one unit of the meter is in its report unit (kWh, or m3 for water).

    A factor from the registry (gas: kWh per m3) wins; otherwise the unit must convert.
    """
    if energy.in_kwh and kwh_per_unit is not None:
        return kwh_per_unit
    target = "kWh" if energy.in_kwh else "m3"
    try:
        return convert(1.0, unit, target)
    except UnitError as error:
        raise EnergyUnitError(
            f"a {energy.value} meter in {unit!r} needs kwh_per_unit in the registry"
        ) from error


def degree_days(lowest_c: float, highest_c: float, base_c: float = DJU_BASE_C) -> float:
    """A day's unified degree days: how far its mean temperature is below the base."""
    return max(0.0, base_c - (lowest_c + highest_c) / 2)


def climate_corrected(consumption: float, dju_reference: float, dju_year: float) -> float | None:
    """Heating consumption brought to the reference climate; None without degree days."""
    if dju_year <= 0:
        return None
    return consumption * dju_reference / dju_year


@dataclass(frozen=True)
class Milestone:
    year: int
    reduction: float
    """Fraction of the reference consumption to save."""
    target_kwh: float


DECREE_MILESTONES = ((2030, 0.40), (2040, 0.50), (2050, 0.60))


def decree_milestones(reference_kwh: float) -> list[Milestone]:
    """The decree's targets from the reference year's consumption."""
    return [
        Milestone(year, reduction, reference_kwh * (1 - reduction))
        for year, reduction in DECREE_MILESTONES
    ]
