"""School model speed: the default scenario end to end, and the tick kernel's agent-ticks per second.

Run by hand: ``python benchmarks/bench_school.py [--seeds 1,2,3]`` prints a table;
``pytest benchmarks/bench_school.py`` times a short run with pytest-benchmark.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hyosan.school import SchoolSim


def end_to_end(scenario: str, seed: int) -> dict[str, float]:
    """Wall time of set-up + the whole run + results tables (Numba already compiled)."""
    started = time.perf_counter()
    sim = SchoolSim.from_scenario(scenario, seed=seed)
    setup = time.perf_counter() - started
    res = sim.run()
    total = time.perf_counter() - started
    ticks = sim.t / sim.scenario.run.tick
    return {
        "setup_s": setup,
        "total_s": total,
        "agent_ticks_per_s": ticks * len(sim.state) / (total - setup),
        "school_fell_s": res.summary["school_fell_s"] or float("nan"),
    }


def kernel_throughput(scenario: str, seed: int, ticks: int = 3600) -> float:
    """Agent-ticks per second of the compiled loop alone, over the busy first hour."""
    sim = SchoolSim.from_scenario(scenario, seed=seed)
    started = time.perf_counter()
    t = 0.0
    while t < ticks:
        t, _ = sim._advance(min(t + 60.0, ticks))
        sim.t = t
        sim._drain()
    return ticks * len(sim.state) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="hyosan-high")
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    end_to_end("tiny-school", 1)  # compile (or load from Numba's cache) before timing
    print(f"{'seed':>4}  {'setup s':>8}  {'total s':>8}  {'M agent-ticks/s':>16}  {'school fell (min)':>18}")
    rows = []
    for seed in seeds:
        r = end_to_end(args.scenario, seed)
        rows.append(r)
        print(
            f"{seed:>4}  {r['setup_s']:8.2f}  {r['total_s']:8.2f}  {r['agent_ticks_per_s'] / 1e6:16.1f}  {r['school_fell_s'] / 60:18.1f}"
        )
    print(f"median end to end: {np.median([r['total_s'] for r in rows]):.2f} s")
    rate = kernel_throughput(args.scenario, seeds[0])
    print(f"kernel only, first simulated hour (busy): {rate / 1e6:.1f} M agent-ticks/s")


def test_tiny_school_two_hours(benchmark):
    benchmark.pedantic(lambda: SchoolSim.from_scenario("tiny-school", seed=1).run(), rounds=3, iterations=1)


if __name__ == "__main__":
    main()
