"""Runners: what one replicate of a model is. Given parameter values and a seed, a runner returns one summary row.

`run_ensemble` drives any object with this shape (`Runner`): the school model (`SchoolRunner`), the
classic Alemi SZR model (`AlemiRunner`) and the country model (`hyosan.ensemble.country_runner`). A runner must pickle, since
it travels to worker processes and to Dask workers.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from hyosan.ensemble.report import Outcome
from hyosan.errors import UserInputError

__all__ = ["AlemiRunner", "Runner", "SchoolRunner", "runner_for"]

SURVIVED_PREFIX = "survived:"  # one 0/1 column per named character: did they survive this run?
_GENERATED_NAME = re.compile(r"(Student|Teacher|Staff|Soldier) \d+")  # people without a roster name
_SURVIVING_FATES = ("healthy", "escaped", "rescued")


@runtime_checkable
class Runner(Protocol):
    """One replicate of a model as a function of parameter values and a seed.

    ``seed_bits``: how wide a seed the model takes. ``runs_per_task``: how many runs a worker does per
    task (fast models batch runs so that scheduling does not dominate).
    """

    seed_bits: int
    runs_per_task: int

    def describe(self) -> dict[str, Any]:
        """What the runs are, for the manifest: a re-run must describe itself the same way to continue."""
        ...

    def resolve(self, params: Mapping[str, Any], option: str = "--set") -> dict[str, Any]:
        """Validate one combination of values as typed; return them in canonical units (or raise UserInputError)."""
        ...

    def is_integer(self, key: str) -> bool:
        """Whether the parameter takes whole numbers only (sensitivity samples are rounded for it)."""
        ...

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
        """Run once with resolved `params` and `seed`; return the run's summary row (flat, Parquet-friendly)."""
        ...

    def outcomes(self, columns: list[str]) -> list[Outcome]:
        """What reports estimate from a table with these columns."""
        ...


def runner_for(model: str, keep_runs: Path | None = None) -> Runner:
    """The runner for a model name as the command line takes it: ``classic-alemi``, ``country-CC[@Nkm]`` or a school scenario."""
    if model == "classic-alemi":
        return AlemiRunner()
    from hyosan.ensemble.country_runner import CountryRunner, parse_country_model

    country = parse_country_model(model)
    if country is not None:
        return CountryRunner(country=country[0], cell_km=country[1])
    from hyosan.scenario import load_scenario

    return SchoolRunner(load_scenario(model), keep_runs=keep_runs)


# --- the school model ----------------------------------------------------------------------------


@dataclass
class SchoolRunner:
    """Runs of `hyosan.school.SchoolSim` on a scenario with `--set` overrides; rows from the run's summary.

    Only the summary is kept (no results folder), unless `keep_runs` names a folder: then each run is
    also saved there as ``<scenario hash>-seed<N>``.
    """

    scenario: Any  # hyosan.scenario.Scenario
    keep_runs: Path | None = None
    seed_bits: int = 63  # SchoolSim takes seeds up to 2**63 - 1
    runs_per_task: int = 1
    _hashes: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _base_key: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self._base_key = hashlib.sha256(self.scenario.model_dump_json().encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"model": "school", "scenario": self.scenario.name, "scenario_hash": self.scenario.content_hash()}

    def resolve(self, params: Mapping[str, Any], option: str = "--set") -> dict[str, Any]:
        from hyosan.ensemble.overrides import override_scenario, parse_key, scenario_value

        changed = override_scenario(self.scenario, params, option)
        resolved = {key: scenario_value(changed, parse_key(key, self.scenario, option)[0]) for key in params}
        # Workers rebuild the scenario from these values and must land on the same content.
        self._hashes[_params_key(resolved)] = changed.content_hash()
        return resolved

    def is_integer(self, key: str) -> bool:
        from hyosan.ensemble.overrides import parse_key

        annotation = parse_key(key, self.scenario, "--param")[1]
        return annotation is int

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
        from hyosan.school import SchoolSim

        started = time.perf_counter()
        scenario = self._scenario(params)
        # A row needs the summary and the people, not the trajectories, unless the run is kept.
        results = SchoolSim(scenario, seed).run(tables="all" if self.keep_runs is not None else "summary")
        summary = results.summary
        if self.keep_runs is not None:
            results.save(Path(self.keep_runs) / f"{summary['scenario_hash'][:12]}-seed{seed}")
        row = _school_row(summary, results.people, scenario.run.duration)
        row["wall_s"] = time.perf_counter() - started
        return row

    def outcomes(self, columns: list[str]) -> list[Outcome]:
        named = [c for c in columns if c.startswith(SURVIVED_PREFIX)]
        return [
            Outcome("survival_probability", "survival probability", "survived_fraction", "mean", "probability"),
            Outcome("fall_probability", "P(school falls)", "school_fell", "mean", "probability"),
            Outcome("median_fall_s", "median time until the school falls", "school_fell_s", "median", "time",
                    censor="duration_s"),
            *(Outcome(c, c.removeprefix(SURVIVED_PREFIX), c, "mean", "probability", named=True) for c in named),
        ]  # fmt: skip

    def _scenario(self, params: Mapping[str, Any]):
        from hyosan.ensemble.overrides import override_scenario

        key = _params_key(params)
        cached = _SCENARIO_CACHE.get((self._base_key, key))
        if cached is not None:
            return cached
        base = _localized(self.scenario)
        scenario = override_scenario(base, params) if params else base
        expected = self._hashes.get(key)
        if expected is not None and scenario.content_hash() != expected:
            raise RuntimeError(
                f"this worker sees other map or roster files than the machine that planned the sweep "
                f"(scenario hash {scenario.content_hash()[:12]} instead of {expected[:12]}): give every "
                "worker the same files at the same paths (a shared file system) and the same hyosan version"
            )
        if len(_SCENARIO_CACHE) > 256:
            _SCENARIO_CACHE.clear()
        _SCENARIO_CACHE[(self._base_key, key)] = scenario
        return scenario


# A worker process keeps the scenarios it validated, so runs after the first skip validation and hashing.
_SCENARIO_CACHE: dict[tuple[str, str], Any] = {}


def _school_row(summary: Mapping[str, Any], people: Any, duration_s: float) -> dict[str, Any]:
    """A run's summary as one flat row; times that never came are NaN, so every column keeps one type."""

    def time_or_nan(key: str) -> float:
        value = summary.get(key)
        return float("nan") if value is None else float(value)

    row: dict[str, Any] = {f"n_{state}": int(count) for state, count in summary["counts"].items()}
    people_n = int(summary["people"])
    row.update(
        people=people_n,
        survivors=int(summary["survivors"]),
        survived_fraction=summary["survivors"] / people_n if people_n else float("nan"),
        ever_bitten=int(summary["ever_bitten"]),
        school_fell=int(summary.get("school_fell_s") is not None),
        first_bite_s=time_or_nan("first_bite_s"),
        school_fell_s=time_or_nan("school_fell_s"),
        last_survivor_s=time_or_nan("last_survivor_s"),
        rescue_s=time_or_nan("rescue_s"),
        simulated_s=float(summary["simulated_s"]),
        duration_s=float(duration_s),
        ended=str(summary["ended"]),
        scenario_hash=str(summary["scenario_hash"]),
    )
    names = people["name"].astype(str)
    # The roster says who is a character and who was generated; older folders only have the names.
    generated = ~names.str.fullmatch(_GENERATED_NAME.pattern)
    named = people["named"].astype(bool) if "named" in people.columns else generated
    survived = people["fate"].isin(_SURVIVING_FATES)
    for name, alive in zip(names[named], survived[named], strict=True):
        row[f"{SURVIVED_PREFIX}{name}"] = int(alive)
    # The whole summary as `hyosan run` writes it, so a run in a sweep can be compared with the same run alone.
    row["summary_json"] = json.dumps(summary, sort_keys=True, ensure_ascii=False)
    return row


def _params_key(params: Mapping[str, Any]) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True, default=str)


def _localized(scenario: Any) -> Any:
    """The scenario with built-in map paths moved to this machine's hyosan install (cluster workers differ)."""
    data = scenario.model_dump(mode="json", exclude_unset=True)
    here = Path(str(resources.files("hyosan") / "data"))
    changed = False
    for floor in data.get("world", {}).get("floors", []):
        path = Path(floor["map"])
        if not path.exists() and "data" in path.parts:
            local = _under_builtin(path, here)
            if local is not None:
                floor["map"] = str(local)
                changed = True
    if not changed:
        return scenario
    from hyosan.scenario import Scenario

    moved = Scenario.model_validate(data)
    moved._sources = list(scenario._sources)
    return moved


def _under_builtin(path: Path, here: Path) -> Path | None:
    parts = path.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "data" and i > 0 and parts[i - 1] == "hyosan":
            local = here.joinpath(*parts[i + 1 :])
            return local if local.exists() else None
    return None


# --- the classic models --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlemiRunner:
    """Stochastic outbreaks of the fully connected SZR model of Alemi et al. (2015) (`hyosan.classic.ssa`).

    Parameters: ``alpha`` (kill ratio κ/β), ``beta`` (bite rate), ``n`` (population), ``zombies``
    (initial zombies). Each run goes to absorption: the zombies die out (extinction) or no human is left.
    """

    alpha: float = 0.8
    beta: float = 1.0
    n: int = 1000
    zombies: int = 1
    method: str = "direct"
    seed_bits: int = 32  # the SSA kernels seed Numba's Mersenne Twister with 32 bits
    runs_per_task: int = 100

    def describe(self) -> dict[str, Any]:
        return {
            "model": "classic-alemi",
            "defaults": {"alpha": self.alpha, "beta": self.beta, "n": self.n, "zombies": self.zombies},
            "method": self.method,
        }

    def resolve(self, params: Mapping[str, Any], option: str = "--set") -> dict[str, Any]:
        import difflib
        import math

        names = ("alpha", "beta", "n", "zombies")
        out: dict[str, Any] = {}
        for key, value in params.items():
            if key not in names:
                hint = difflib.get_close_matches(key, names, n=1)
                did = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(names)}"
                raise UserInputError(f"{option} {key}: unknown parameter of classic-alemi{did}")
            whole = key in ("n", "zombies")
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or (whole and float(value) != int(value)):
                what = "a whole number" if whole else "a number"
                raise UserInputError(f"{option} {key}={value}: expected {what}")
            out[key] = int(value) if whole else float(value)
        p = {"alpha": self.alpha, "beta": self.beta, "n": self.n, "zombies": self.zombies, **out}
        problems = {
            "alpha": p["alpha"] < 0,
            "beta": p["beta"] <= 0,
            "n": p["n"] < 1,
            "zombies": not 0 < p["zombies"] <= p["n"],
        }
        expected = {"alpha": ">= 0", "beta": "> 0", "n": ">= 1", "zombies": f"between 1 and n ({p['n']})"}
        for key, bad in problems.items():
            if bad:
                raise UserInputError(f"{option} {key}={p[key]}: expected {expected[key]}")
        return out

    def is_integer(self, key: str) -> bool:
        return key in ("n", "zombies")

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
        import math

        import numpy as np

        from hyosan.classic.ssa import alemi_szr, simulate_runs

        started = time.perf_counter()
        p = {"alpha": self.alpha, "beta": self.beta, "n": self.n, "zombies": self.zombies, **params}
        humans = int(p["n"]) - int(p["zombies"])
        runs = simulate_runs(
            alemi_szr(float(p["alpha"]), float(p["beta"])),
            {"S": humans, "Z": int(p["zombies"])},
            math.inf,
            self.method,
            t_grid=np.zeros(1),
            seeds=[seed],
            parallel=False,
        )
        s, z, r = (int(v) for v in runs.final_counts[0])
        return {
            "S": s,
            "Z": z,
            "R": r,
            "extinct": int(z == 0),
            "final_size": humans - s,
            "end_time": float(runs.final_time[0]),
            "events": int(runs.events[0]),
            "wall_s": time.perf_counter() - started,
        }

    def outcomes(self, columns: list[str]) -> list[Outcome]:
        return [
            Outcome("extinction_probability", "extinction probability", "extinct", "mean", "probability"),
            Outcome("final_size", "final size (humans bitten)", "final_size", "mean", "count"),
        ]
