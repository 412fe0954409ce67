"""Units a reading may arrive in, and the conversions to its usage's unit."""

from __future__ import annotations

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
