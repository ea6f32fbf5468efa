"""The country model: the outbreak on a real population lattice, with quarantine cordons, the army, evacuations and bombs.

    from hyosan.country import CountrySim, country_lattice, load_config, seeds_at
    lattice = country_lattice("KR", cell_km=2.0)
    seeds, _ = seeds_at(lattice, place="Seoul", zombies=10)
    results = CountrySim(lattice, load_config(None), seeds, seed=1, method="tau").run(days=60)

See docs/country.md for the model, its algorithms and its outputs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "CountryConfig",
    "CountryParameters",
    "CountryResults",
    "CountrySim",
    "PopulationLattice",
    "Seed",
    "country_lattice",
    "front_speed",
    "lattice_from_csv",
    "lattice_from_npy",
    "load_config",
    "save_results",
    "seeds_at",
    "seeds_from_school",
]

# Imported on first use, so that `hyosan --help` (which imports the command module) stays fast.
_LAZY = {
    "CountryConfig": "hyosan.country.params",
    "CountryParameters": "hyosan.country.params",
    "load_config": "hyosan.country.params",
    "CountryResults": "hyosan.country.sim",
    "CountrySim": "hyosan.country.sim",
    "PopulationLattice": "hyosan.country.lattice",
    "country_lattice": "hyosan.country.lattice",
    "lattice_from_csv": "hyosan.country.lattice",
    "lattice_from_npy": "hyosan.country.lattice",
    "Seed": "hyosan.country.places",
    "seeds_at": "hyosan.country.places",
    "seeds_from_school": "hyosan.country.places",
    "front_speed": "hyosan.country.theory",
    "save_results": "hyosan.country.output",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hyosan.country' has no attribute {name!r}")
