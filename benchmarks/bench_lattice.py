"""Speed of the exact lattice zombie simulation: events per second on 4096² and smaller lattices.

Run as ``python benchmarks/bench_lattice.py [--sizes 512,4096] [--alpha 0.3] [--runs 3]``.
Each run starts from one zombie at the centre; α = 0.3 is well below α_c ≈ 0.437, so a run that
survives its first few events sweeps most of the lattice (about 1.3 events per site).
"""

from __future__ import annotations

import argparse
import platform
import time

import numba
import numpy as np

from hyosan.classic.lattice import simulate_lattice

__all__ = ["main", "measure", "test_lattice_events_per_second"]


def measure(size: int, alpha: float, runs: int, track_time: bool) -> dict[str, float]:
    """Time ``runs`` outbreaks that take over the lattice (seeds that die out early are skipped)."""
    events = 0
    seconds = 0.0
    seed = 0
    done = 0
    while done < runs:
        started = time.perf_counter()
        run = simulate_lattice(size, alpha, seed=seed, track_time=track_time)
        elapsed = time.perf_counter() - started
        seed += 1
        if run.outbreak_fraction < 0.5:
            continue
        events += run.events
        seconds += elapsed
        done += 1
    return {"events": events / runs, "seconds": seconds / runs, "rate": events / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,4096")
    parser.add_argument("--alpha", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    simulate_lattice(16, args.alpha)  # compile (or load the cache) outside the timings
    print(
        f"hyosan lattice benchmark: alpha={args.alpha}, {args.runs} runs per row, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}"
    )
    header = f"{'lattice':>11} {'time tracked':>12} {'events/run':>12} {'s/run':>8} {'M events/s':>11}"
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        for track_time in (True, False):
            m = measure(size, args.alpha, args.runs, track_time)
            print(
                f"{f'{size}x{size}':>11} {'yes' if track_time else 'no':>12} "
                f"{m['events']:>12,.0f} {m['seconds']:>8.3f} {m['rate'] / 1e6:>11.2f}"
            )


def test_lattice_events_per_second(benchmark) -> None:
    """pytest-benchmark hook (small lattice, so a benchmark session stays quick)."""
    simulate_lattice(16, 0.3)
    run = benchmark(simulate_lattice, 256, 0.3, seed=0)
    assert run.events == run.bites + run.kills


if __name__ == "__main__":
    main()
