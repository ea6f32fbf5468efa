"""Where a run of the school spends its time: CPU per span of simulated time, and Python's share beside the kernels.

Run by hand: ``python benchmarks/bench_phases.py [--scenario hyosan-high] [--seeds 0-15]`` runs each seed
once (results not saved) and prints

- per span of simulated time (0-10 min, ..., 32-72 h): the CPU the kernel calls took, the simulated
  seconds the full kernel ran and those the quiet kernel took, and the full kernel's CPU per
  simulated second (what makes a span dear: the outbreak's crowd, or a siege kept awake);
- the wall time of the calls Python makes per run (kernel calls, which ring the noises too, path
  updates, set-up, result tables), with their counts, and the sound searches and reused spreads per run.

It justified the scream rule of December 2026 (BENCHMARKS.md, "Ensembles"): before it, the spans after
16 h took a third of a run. ``pytest benchmarks/bench_phases.py`` times the breakdown on `tiny-school`.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

import numpy as np

from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim, kernel
from hyosan.school.noises import spreads_counted

SPANS_S = np.array([0, 600, 1800, 3600, 7200, 4 * 3600, 8 * 3600, 16 * 3600, 32 * 3600, np.inf])


def phases(scenario: str, seeds: list[int]) -> dict[str, Any]:
    """Run `seeds` of `scenario`; return CPU and simulated seconds per span, and Python's calls per run."""
    sc = load_scenario(scenario)
    SchoolSim(sc, seeds[0]).run(tables="summary")  # compile, or load from Numba's cache, before timing
    n_spans = len(SPANS_S) - 1
    cpu, full_s, quiet_s = np.zeros(n_spans), np.zeros(n_spans), np.zeros(n_spans)
    wall, calls = Counter(), Counter()
    chunks = kernel.advance_chunks

    def timed_chunks(t, limit, chunking, quiet, *rest):  # (the arguments of `kernel.advance_chunks`)
        started = time.process_time()
        reached, reason = chunks(t, limit, chunking, quiet, *rest)
        span = int(np.searchsorted(SPANS_S, t, side="right")) - 1
        cpu[span] += time.process_time() - started
        quiet_s[span] += quiet[0]
        full_s[span] += reached - t - quiet[0]
        return reached, reason

    with _timing(wall, calls), patch.object(kernel, "advance_chunks", timed_chunks):
        for seed in seeds:
            started = time.perf_counter()
            sim = SchoolSim(sc, seed)
            wall["set-up"] += time.perf_counter() - started
            calls["set-up"] += 1
            started = time.perf_counter()
            sim.run(tables="summary")
            wall["run"] += time.perf_counter() - started
            calls["run"] += 1
            searched, reused = spreads_counted(sim._noise_kept)
            calls["sound searches"] += searched
            calls["spreads reused"] += reused
    n = len(seeds)
    return {
        "spans": [(SPANS_S[k], SPANS_S[k + 1], cpu[k] / n, full_s[k] / n, quiet_s[k] / n) for k in range(n_spans)],
        "calls": [(name, wall[name] / n, calls[name] / n) for name, _ in wall.most_common()],
        "sounds": {name: calls[name] / n for name in ("sound searches", "spreads reused")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="hyosan-high")
    parser.add_argument("--seeds", default="0-15", help="seeds, as A-B (both included) or a comma list")
    args = parser.parse_args()
    if "-" in args.seeds:
        first, last = (int(s) for s in args.seeds.split("-"))
        seeds = list(range(first, last + 1))
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
    r = phases(args.scenario, seeds)
    print(f"{args.scenario}, {len(seeds)} seeds, per run:")
    print(
        f"{'simulated span':>16}  {'kernel CPU s':>12}  {'full-kernel s':>13}  {'quiet s':>9}  {'µs CPU per full s':>17}"
    )
    for lo, hi, cpu, full, quiet in r["spans"]:
        span = f"{_clock(lo)}-{_clock(hi)}"
        per = f"{1e6 * cpu / full:17.0f}" if full > 0 else f"{'-':>17}"
        print(f"{span:>16}  {cpu:12.3f}  {full:13.0f}  {quiet:9.0f}  {per}")
    print(f"{'call':<24}{'wall ms':>8}  {'calls':>8}")
    for name, seconds, count in r["calls"]:
        print(f"{name:<24}{1000 * seconds:8.1f}  {count:8.1f}")
    for name, count in r["sounds"].items():
        print(f"{name:<24}{'':>8}  {count:8.1f}")


def test_phases_of_the_tiny_school(benchmark):
    result = benchmark.pedantic(lambda: phases("tiny-school", [1, 2]), rounds=1, iterations=1)
    assert sum(full + quiet for _, _, _, full, quiet in result["spans"]) > 0


# --- helpers ---------------------------------------------------------------------------------------------


@contextmanager
def _timing(wall: Counter, calls: Counter) -> Iterator[None]:
    """Add up the wall time and count of the Python-side calls of a run that matter for its cost."""
    watched: list[tuple[Any, str, str]] = [
        (SchoolSim, "_advance_chunks", "kernel calls"),
        (SchoolSim, "_after_chunk", "after a call"),
        (SchoolSim, "_update_fields", "  path updates"),
        (SchoolSim, "_results", "result tables"),
    ]
    with ExitStack() as patches:
        for owner, name, label in watched:
            patches.enter_context(patch.object(owner, name, _timed(getattr(owner, name), label, wall, calls)))
        yield


def _timed(call: Callable, label: str, wall: Counter, calls: Counter) -> Callable:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            wall[label] += time.perf_counter() - started
            calls[label] += 1

    return timed


def _clock(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "end"
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


if __name__ == "__main__":
    main()
