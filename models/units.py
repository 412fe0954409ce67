"""Units a reading may arrive in, the conversions to its usage's unit, and physical bounds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from models.errors import SmatiError

_ALIASES = {
    "degc": "°C",
    "celsius": "°C",
    "c": "°C",
    "m³": "m3",
    "l": "L",
    "litre": "L",
    "liter": "L",
    "kwh": "kWh",
    "wh": "Wh",
    "mwh": "MWh",
    "w": "W",
    "kw": "kW",
    "ppm": "ppm",
    "%rh": "%",
}

# (from, to) -> factor. Only linear conversions: a reading is never silently re-scaled otherwise.
_FACTORS = {
    ("Wh", "kWh"): 1e-3,
    ("MWh", "kWh"): 1e3,
    ("kWh", "Wh"): 1e3,
    ("kWh", "MWh"): 1e-3,
    ("W", "kW"): 1e-3,
    ("kW", "W"): 1e3,
    ("L", "m3"): 1e-3,
    ("m3", "L"): 1e3,
}


class UnitError(SmatiError, ValueError):
    """A value in a unit that cannot be converted to its usage's unit."""


def canonical(unit: str) -> str:
    return _ALIASES.get(unit.strip().lower(), unit.strip())


def convert(value: float, unit: str, to: str) -> float:
    """`value` in `unit` expressed in `to`; raises UnitError for incompatible units."""
    source, target = canonical(unit), canonical(to)
    if source == target:
        return value
    factor = _FACTORS.get((source, target))
    if factor is None:
        raise UnitError(f"unit {unit!r} cannot be converted to the usage's unit {to!r}")
    return value * factor


@dataclass(frozen=True)
class Bounds:
    """The closed interval of values a measurement can take; `why` says where it comes from."""

    low: float
    high: float
    why: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


# Values no building sensor or meter can report, in one unit per quantity (the others are
# derived by the linear factors above). Consumption per interval may be negative (a
# defect the rules report), so energy and volume bounds are symmetric.
_PHYSICAL = {
    # CO2: indoor NDIR sensors measure up to 10,000 ppm, the widest up to 50,000 (5%);
    # air holds ~420 ppm, so nothing below 0.
    "ppm": Bounds(0.0, 50_000.0, "beyond any CO2 sensor's range"),
    # Building sensors: the coldest outdoor air where buildings stand (about -60 C) to
    # pressurised heating water and boiler flue probes (up to 150 C).
    "°C": Bounds(-60.0, 150.0, "beyond any building temperature sensor's range"),
    # Relative humidity, and every other percentage a sensor reports (battery, valve).
    "%": Bounds(0.0, 100.0, "a percentage"),
    # Energy: a meter register of 10 digits in kWh, 10 TWh, over ten years of the
    # largest industrial site; an interval's consumption is far below.
    "kWh": Bounds(-1e10, 1e10, "beyond any energy meter's register"),
    # Power: 1 GW, a power plant's output, beyond any building's connection.
    "kW": Bounds(-1e6, 1e6, "beyond any building's power"),
    # Volume (water, gas): a register of 10 digits in m3.
    "m3": Bounds(-1e10, 1e10, "beyond any volume meter's register"),
}


@cache
def physical_bounds(unit: str) -> Bounds | None:
    """The values a quantity in `unit` can take, or None when SMATI knows no bounds for it."""
    unit = canonical(unit)
    for base, bounds in _PHYSICAL.items():
        if unit == base:
            return bounds
        factor = _FACTORS.get((base, unit))
        if factor is not None:
            return Bounds(bounds.low * factor, bounds.high * factor, bounds.why)
    return None
