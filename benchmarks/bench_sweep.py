"""Ensemble speed: replicates of the default scenario on local workers, runs per minute and time for 1,000.

Run by hand: ``python benchmarks/bench_sweep.py [--runs 20] [--workers 2] [--seeds 1,2,3] [--profile] [--all]``
prints the wall time of single runs (set-up and run, nothing saved), then sweeps `--runs` replicates
of the scenario on `--workers` processes (a fresh ensemble folder, so nothing is resumed) and
projects the time for 1,000; ``--all`` sweeps all 1,000 (long). ``--profile`` shows where one run
spends its time. ``pytest benchmarks/bench_sweep.py`` times a small tiny-school sweep.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from hyosan.ensemble.runners import SchoolRunner
from hyosan.ensemble.sweep import run_ensemble
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim

__all__ = ["main", "single_runs", "sweep_rate", "test_tiny_school_sweep"]

TARGET_RUNS = 1000
TARGET_S = 600.0


def single_runs(scenario: str, seeds: list[int]) -> list[dict[str, float]]:
    """Set-up and run wall time of `SchoolSim.from_scenario(scenario, seed=s).run()`, results not saved.

    ``cpu_s`` is the process's CPU time for both: on a machine shared with other work it varies
    less than the wall time.
    """
    rows = []
    for seed in seeds:
        started = time.perf_counter()
        cpu = time.process_time()
        sim = SchoolSim.from_scenario(scenario, seed=seed)
        setup = time.perf_counter() - started
        results = sim.run()
        rows.append({
            "seed": seed, "setup_s": setup, "run_s": time.perf_counter() - started - setup,
            "cpu_s": time.process_time() - cpu, "school_fell_s": results.summary["school_fell_s"] or float("nan"),
        })  # fmt: skip
    return rows


def sweep_rate(scenario: str, runs: int, workers: int, folder: Path) -> dict[str, float]:
    """Wall time of a sweep of `runs` replicates (worker start-up included) and the projection to 1,000 runs."""
    runner = SchoolRunner(load_scenario(scenario))
    started = time.perf_counter()
    result = run_ensemble(runner, {}, runs, folder, seed=1, workers=workers)
    seconds = time.perf_counter() - started
    per_minute = result.executed / seconds * 60
    return {
        "runs": result.executed,
        "seconds": seconds,
        "runs_per_minute": per_minute,
        "projected_1000_s": TARGET_RUNS / per_minute * 60,
        "mean_run_s": float(result.table["wall_s"].mean()),
    }


def profile_one(scenario: str, seed: int, lines: int = 25) -> str:
    """The functions one run spends most time in (cumulative), as pstats prints them."""
    profiler = cProfile.Profile()
    profiler.enable()
    SchoolSim.from_scenario(scenario, seed=seed).run()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(lines)
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="hyosan-high")
    parser.add_argument("--runs", type=int, default=20, help="replicates to sweep (default 20)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", default="1,2,3", help="seeds of the single runs")
    parser.add_argument("--all", action="store_true", help=f"sweep all {TARGET_RUNS:,} runs")
    parser.add_argument("--profile", action="store_true", help="profile one run")
    args = parser.parse_args()

    single_runs("tiny-school", [1])  # compile (or load from Numba's cache) before timing
    print(f"single runs of {args.scenario} (set-up + run, nothing saved):")
    print(f"{'seed':>6}  {'setup s':>8}  {'run s':>8}  {'cpu s':>8}  {'school fell (min)':>18}")
    for r in single_runs(args.scenario, [int(s) for s in args.seeds.split(",")]):
        print(
            f"{r['seed']:>6}  {r['setup_s']:8.2f}  {r['run_s']:8.2f}  {r['cpu_s']:8.2f}  {r['school_fell_s'] / 60:18.1f}"
        )
    if args.profile:
        print(profile_one(args.scenario, int(args.seeds.split(",")[0])))

    runs = TARGET_RUNS if args.all else args.runs
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        r = sweep_rate(args.scenario, runs, args.workers, Path(tmp) / "sweep")
    verdict = "met" if r["projected_1000_s"] <= TARGET_S else "NOT met"
    print(
        f"sweep of {r['runs']} runs on {args.workers} workers: {r['seconds']:.1f} s, "
        f"{r['runs_per_minute']:.1f} runs/min (mean {r['mean_run_s']:.2f} s per run inside a worker)"
    )
    print(
        f"1,000 runs: {'measured' if args.all else 'projected'} {r['projected_1000_s'] / 60:.1f} min "
        f"(target <= {TARGET_S / 60:.0f} min: {verdict})"
    )


def test_tiny_school_sweep(benchmark, tmp_path):
    folders = iter(range(1000))
    benchmark.pedantic(lambda: sweep_rate("tiny-school", 20, 2, tmp_path / f"s{next(folders)}"), rounds=2, iterations=1)


if __name__ == "__main__":
    main()
