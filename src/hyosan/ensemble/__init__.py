"""Many runs: parameter sweeps and Sobol' sensitivity into resumable tables, locally or on a Dask cluster.

Example (``workers > 1`` starts processes: call it under ``if __name__ == "__main__":`` in a script)::

    from hyosan import load_scenario
    from hyosan.ensemble import SchoolRunner, run_ensemble

    run = run_ensemble(SchoolRunner(load_scenario("tiny-school")), {"zombie.sprint_speed": [4, 6]}, 10, "sweeps/x")
    run.table  # one row per run; the report: hyosan.ensemble.write_report
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "AlemiRunner",
    "CountryRunner",
    "Design",
    "EnsembleRun",
    "Outcome",
    "Runner",
    "SchoolRunner",
    "bootstrap_ci",
    "comparable",
    "load_table",
    "run_ensemble",
    "run_seed",
    "sobol_design",
    "sobol_indices",
    "sweep_design",
    "write_report",
]

# Imported on first use: `hyosan --help` imports this package (for the commands) and must stay fast.
_LAZY = {
    "AlemiRunner": "hyosan.ensemble.runners",
    "CountryRunner": "hyosan.ensemble.country_runner",
    "Runner": "hyosan.ensemble.runners",
    "SchoolRunner": "hyosan.ensemble.runners",
    "Design": "hyosan.ensemble.grid",
    "run_seed": "hyosan.ensemble.grid",
    "sweep_design": "hyosan.ensemble.grid",
    "EnsembleRun": "hyosan.ensemble.sweep",
    "run_ensemble": "hyosan.ensemble.sweep",
    "Outcome": "hyosan.ensemble.report",
    "bootstrap_ci": "hyosan.ensemble.report",
    "write_report": "hyosan.ensemble.report",
    "comparable": "hyosan.ensemble.table",
    "load_table": "hyosan.ensemble.table",
    "sobol_design": "hyosan.ensemble.sensitivity",
    "sobol_indices": "hyosan.ensemble.sensitivity",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hyosan.ensemble' has no attribute {name!r}")
