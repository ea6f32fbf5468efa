"""Parameter grids from the command line: `--set key=values` lists and ranges, and the runs they expand to.

A value list is ``4,5,6``; a range is ``start:stop:count`` (evenly spaced, both ends included), and
an item may carry a unit where the scenario accepts one (``20 km/h``, ``5 min:30 min:6``). A value
with two colons is always a range: write a clock time with seconds as plain seconds instead.
Sensitivity bounds are ``start:stop``. Each run of an ensemble is one (combination, replicate) key;
its seed comes from the master seed and that key alone (`run_seed`), so growing the replicates
later keeps every existing run's seed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyosan.errors import UserInputError

__all__ = [
    "Design",
    "combination_frame",
    "parse_bounds",
    "parse_set",
    "parse_token",
    "run_seed",
    "sweep_design",
]

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/]*)\s*$")


@dataclass(frozen=True)
class Design:
    """The combinations of parameter values an ensemble runs, in a fixed order.

    ``kind`` is ``sweep`` (every combination of the `--set` lists) or ``sobol`` (Saltelli points);
    ``spec`` holds what else defines the design (Sobol' bounds and sample size), for the manifest;
    ``combinations`` holds one mapping of parameter → value (as given, units and all) per combination.
    """

    kind: str
    parameters: tuple[str, ...]
    spec: dict[str, Any]
    combinations: tuple[dict[str, Any], ...]

    def __len__(self) -> int:
        return len(self.combinations)


def parse_set(option: str, text: str) -> tuple[str, list[Any]]:
    """Split ``key=values`` of a `--set` option into the key and its list of values."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise UserInputError(f"{option} {text!r}: expected KEY=VALUES, e.g. zombie.sprint_speed=4,5,6 or 100:500:5")
    out: list[Any] = []
    for item in values.split(","):
        item = item.strip()
        if not item:
            raise UserInputError(f"{option} {text!r}: an empty value between commas")
        out.extend(_range(option, text, item) if item.count(":") == 2 else [parse_token(item)])
    return key, out


def parse_bounds(option: str, text: str) -> tuple[str, tuple[Any, Any]]:
    """Split ``key=start:stop`` of a `--param` option into the key and its (low, high) bounds."""
    key, sep, values = text.partition("=")
    key = key.strip()
    parts = values.split(":")
    if not sep or not key or len(parts) != 2:
        raise UserInputError(f"{option} {text!r}: expected KEY=LOW:HIGH, e.g. zombie.sprint_speed=4:7")
    (low, unit_low), (high, unit_high) = (_quantity(option, text, p) for p in parts)
    if unit_low != unit_high:
        raise UserInputError(f"{option} {text!r}: both bounds need the same unit, got {unit_low!r} and {unit_high!r}")
    if not low < high:
        raise UserInputError(f"{option} {text!r}: the low bound must be below the high bound")
    return key, (_with_unit(low, unit_low), _with_unit(high, unit_high))


def parse_token(text: str) -> Any:
    """A value as typed: an integer, a number, true/false, or text (a quantity with a unit) for the scenario to read."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def sweep_design(settings: Sequence[tuple[str, list[Any]]]) -> Design:
    """Every combination of the `--set` values; the last key varies fastest."""
    keys = [key for key, _ in settings]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise UserInputError(f"--set: {', '.join(repeated)} given more than once; list all its values in one --set")
    combos = tuple(dict(zip(keys, values, strict=True)) for values in itertools.product(*(v for _, v in settings)))
    # The values as typed stay out of the spec: `4` and `4.0 m/s` are one grid once resolved.
    return Design("sweep", tuple(keys), {}, combos)


def run_seed(master_seed: int, combination: int, replicate: int, bits: int = 63) -> int:
    """The seed of one run: from the master seed and the run's (combination, replicate) key only."""
    sequence = np.random.SeedSequence(int(master_seed), spawn_key=(int(combination), int(replicate)))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(64 - bits))


def combination_frame(design: Design, resolved: Sequence[Mapping[str, Any]]):
    """One row per combination: its index and the resolved parameter values (for reports)."""
    import pandas as pd

    frame = pd.DataFrame(list(resolved), columns=list(design.parameters))
    frame.insert(0, "combination", np.arange(len(resolved), dtype=np.int64))
    return frame


# --- helpers -----------------------------------------------------------------------------------


def _range(option: str, text: str, item: str) -> list[Any]:
    start_text, stop_text, count_text = item.split(":")
    try:
        count = int(count_text)
    except ValueError:
        count = 0
    if count < 1:
        raise UserInputError(
            f"{option} {text!r}: a range is start:stop:count with a whole count >= 1, got count {count_text.strip()!r}"
        )
    (start, unit), (stop, unit_stop) = _quantity(option, text, start_text), _quantity(option, text, stop_text)
    if unit != unit_stop:
        raise UserInputError(f"{option} {text!r}: start and stop need the same unit, got {unit!r} and {unit_stop!r}")
    values = np.linspace(start, stop, count)
    whole = float(start).is_integer() and float(stop).is_integer() and np.all(values == np.round(values))
    # Twelve significant digits: linspace's last-bit noise (0.30000000000000004) would leak into the table.
    numbers = [int(np.rint(v)) if whole else float(f"{v:.12g}") for v in values]
    return [_with_unit(v, unit) for v in numbers]


def _quantity(option: str, text: str, part: str) -> tuple[float, str]:
    match = _QUANTITY.match(part)
    if not match:
        raise UserInputError(f"{option} {text!r}: {part.strip()!r} is not a number (with an optional unit)")
    number, unit = match.groups()
    value = float(number)
    return (int(value) if value.is_integer() and re.fullmatch(r"[-+]?\d+", number) else value), unit


def _with_unit(value: float, unit: str) -> Any:
    return f"{value} {unit}" if unit else value
