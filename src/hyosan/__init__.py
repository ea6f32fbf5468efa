"""hyosan: a zombie outbreak simulator, from one high school agent by agent to a whole country."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("hyosan")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Results", "Scenario", "SchoolSim", "__version__", "load_results", "load_scenario", "run_ensemble"]

# Imported on first use, so that `hyosan --help` does not pay for NumPy, pandas and Numba.
_LAZY = {
    "Results": "hyosan.results",
    "load_results": "hyosan.results",
    "Scenario": "hyosan.scenario",
    "load_scenario": "hyosan.scenario",
    "SchoolSim": "hyosan.school",
    "run_ensemble": "hyosan.ensemble.sweep",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hyosan' has no attribute {name!r}")
