"""Quantities with units in scenario files: durations, lengths, speeds and sound levels.

A value is either a bare number in the canonical unit (seconds, metres, metres per second,
decibels) or a string with a unit, such as ``"15 min"``, ``"2 km"``, ``"20 km/h"`` or ``"95 dB"``.
Durations also accept clock-style ``"01:30"`` (hours:minutes) and ``"01:30:15"``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Duration", "Length", "Level", "Speed", "format_duration", "parse_quantity"]

# unit -> factor to the canonical unit, per dimension
_UNITS: dict[str, dict[str, float]] = {
    "duration": {
        "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
        "min": 60.0, "minute": 60.0, "minutes": 60.0,
        "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
        "d": 86400.0, "day": 86400.0, "days": 86400.0,
    },
    "length": {"m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0,
               "km": 1000.0, "cm": 0.01},
    "speed": {"m/s": 1.0, "km/h": 1 / 3.6, "kmh": 1 / 3.6, "mph": 0.44704},
    "level": {"db": 1.0},
}  # fmt: skip
_EXAMPLES = {
    "duration": "90 s, 15 min, 2 h, 3 d or 01:30 (hours:minutes)",
    "length": "20 m, 1.5 km or 50 cm",
    "speed": "6 m/s or 20 km/h",
    "level": "95 dB",
}
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z/]*)\s*$")
_CLOCK = re.compile(r"^\s*(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d*)?))?\s*$")


def parse_quantity(value: object, dimension: str) -> float:
    """Convert a scenario value to the canonical unit of `dimension`; raise ValueError if it is not one."""
    expected = f"expected a {dimension} such as {_EXAMPLES[dimension]}"
    if isinstance(value, bool):
        raise ValueError(f"{expected}; got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        clock = _CLOCK.match(value) if dimension == "duration" else None
        if clock:
            h, m, s = clock.groups()
            number = int(h) * 3600 + int(m) * 60 + float(s or 0)
        else:
            match = _NUMBER_UNIT.match(value)
            if not match:
                raise ValueError(f"{expected}; got {value!r}")
            amount, unit = match.groups()
            factors = _UNITS[dimension]
            if unit == "":
                factor = 1.0
            elif unit.lower() in factors:
                factor = factors[unit.lower()]
            else:
                other = [d for d, f in _UNITS.items() if unit.lower() in f]
                hint = f" ({unit!r} is a unit of {other[0]})" if other else ""
                raise ValueError(f"{expected}; got unit {unit!r}{hint}")
            number = float(amount) * factor
    else:
        raise ValueError(f"{expected}; got {type(value).__name__} {value!r}")
    if not math.isfinite(number):
        raise ValueError(f"{expected}; got {value!r}")
    return number


def format_duration(seconds: float) -> str:
    """Seconds as H:MM:SS (days shown as hours), for reports."""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _quantity(dimension: str) -> object:
    def parse(value: object) -> float:
        return parse_quantity(value, dimension)

    parse.dimension = dimension  # lets error messages name the unit of a value out of range
    return BeforeValidator(parse)


CANONICAL_UNIT = {"duration": "s", "length": "m", "speed": "m/s", "level": "dB"}


Duration = Annotated[float, _quantity("duration"), PlainSerializer(float)]
"""Seconds. Accepts a number of seconds or a string with a unit."""
Length = Annotated[float, _quantity("length"), PlainSerializer(float)]
"""Metres. Accepts a number of metres or a string with a unit."""
Speed = Annotated[float, _quantity("speed"), PlainSerializer(float)]
"""Metres per second. Accepts a number of m/s or a string with a unit."""
Level = Annotated[float, _quantity("level"), PlainSerializer(float)]
"""Sound level in decibels."""
