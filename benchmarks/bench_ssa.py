"""Speed of hyosan's stochastic engine on the Alemi SZR model, side by side with GillesPy2's C++ SSA.

Run as ``python benchmarks/bench_ssa.py [--n 1000000] [--alpha 0.5] [--repeats 3] [--no-peers]``.
One outbreak of N people started by 10 zombies (α = 0.5 < 1: zombies take everyone, about
1.5·N events). Events per second counts reactions fired; for tau-leaping it counts reactions too
(many per leap), so its figure is not comparable with the exact methods and is shown apart.
As pytest-benchmark tests: ``pytest benchmarks/bench_ssa.py``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numba
import numpy as np

from hyosan.classic.ssa import alemi_szr, simulate_runs

__all__ = ["main", "measure_hyosan", "test_direct_szr", "test_next_reaction_szr", "test_tau_leaping_szr"]


def measure_hyosan(
    n: int, alpha: float, zombies: int, method: str, *, repeats: int = 3, replicates: int = 1
) -> dict[str, float]:
    """Best of `repeats` runs (after one warm-up that loads the compiled kernels) of `replicates` outbreaks."""
    model = alemi_szr(alpha)
    start = {"S": n - zombies, "Z": zombies}
    grid = np.linspace(0.0, 100.0, 101)
    simulate_runs(model, start, math.inf, method, replicates, seed=0, t_grid=grid)  # warm-up
    best = None
    for seed in range(1, repeats + 1):
        runs = simulate_runs(model, start, math.inf, method, replicates, seed=seed, t_grid=grid)
        row = {
            "events": float(runs.events.sum()),
            "steps": float(runs.steps.sum()),
            "seconds": runs.wall_seconds,
            "rate": runs.events_per_second,
        }
        if best is None or row["rate"] > best["rate"]:
            best = row
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="population N")
    parser.add_argument("--alpha", type=float, default=0.5, help="kill ratio (< 1 for a large outbreak)")
    parser.add_argument("--zombies", type=int, default=10, help="initial zombies")
    parser.add_argument("--repeats", type=int, default=3, help="runs per method; the best is reported")
    parser.add_argument("--no-peers", action="store_true", help="skip GillesPy2")
    parser.add_argument("--numpy-peer", action="store_true", help="also time GillesPy2's NumPy SSA (slow)")
    args = parser.parse_args(argv)

    threads = numba.get_num_threads()
    rows: list[tuple[str, dict[str, float]]] = []
    for method, label in (("direct", "hyosan direct (Gillespie)"), ("next", "hyosan next reaction (Gibson–Bruck)")):
        rows.append((label, measure_hyosan(args.n, args.alpha, args.zombies, method, repeats=args.repeats)))
    rows.append(
        (
            f"hyosan direct, {2 * threads} replicates on {threads} threads",
            measure_hyosan(args.n, args.alpha, args.zombies, "direct", repeats=args.repeats, replicates=2 * threads),
        )
    )
    leap = measure_hyosan(args.n, args.alpha, args.zombies, "tau", repeats=args.repeats)

    peers: list[tuple[str, dict[str, float] | str]] = []
    if not args.no_peers:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
        from gillespy2_szr import time_gillespy2

        solvers = [("c++", "GillesPy2 SSACSolver (C++)")]
        if args.numpy_peer:
            solvers.append(("numpy", "GillesPy2 NumPySSASolver"))
        for solver, label in solvers:
            try:
                peers.append((label, time_gillespy2(args.n, args.alpha, args.zombies, 100.0, solver=solver)))
            except Exception as exc:  # a peer that cannot build is reported, not fatal
                peers.append((label, f"failed: {type(exc).__name__}: {exc}"))

    load = os.getloadavg()
    reference = next((r["rate"] for label, r in peers if "C++" in label and isinstance(r, dict)), None)
    print(
        f"SZR (Alemi et al. 2015), N = {args.n:,}, alpha = {args.alpha}, {args.zombies} initial zombies; "
        f"best of {args.repeats}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numba {numba.__version__}; load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} at the end"
    )
    header = f"{'engine':<52} {'events':>12} {'seconds':>9} {'M events/s':>11} {'vs GillesPy2 C++':>17}"
    print(header)
    print("-" * len(header))
    for label, row in [*rows, *peers]:
        if isinstance(row, str):
            print(f"{label:<52} {row}")
            continue
        ratio = f"{row['rate'] / reference:.2f}x" if reference else "—"
        print(f"{label:<52} {row['events']:>12,.0f} {row['seconds']:>9.3f} {row['rate'] / 1e6:>11.2f} {ratio:>17}")
    print(
        f"hyosan tau-leaping: {leap['events']:,.0f} reactions in {leap['steps']:,.0f} steps, "
        f"{leap['seconds'] * 1e3:.2f} ms (approximate; not comparable with the exact rows)"
    )


# --- pytest-benchmark ------------------------------------------------------------------------


def _one_outbreak(method: str, n: int = 100_000) -> int:
    runs = simulate_runs(alemi_szr(0.5), {"S": n - 10, "Z": 10}, math.inf, method, 1, seed=1, t_grid=[0.0])
    return int(runs.events[0])


def test_direct_szr(benchmark):
    assert benchmark(_one_outbreak, "direct") > 100_000


def test_next_reaction_szr(benchmark):
    assert benchmark(_one_outbreak, "next") > 100_000


def test_tau_leaping_szr(benchmark):
    assert benchmark(_one_outbreak, "tau") > 100_000


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(total {time.perf_counter() - started:.1f} s)")
