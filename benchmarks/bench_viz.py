"""Picture speed: curves.png and one floor snapshot of a run, and animation frames per second.

Run by hand: ``python benchmarks/bench_viz.py [RUN_DIR]`` (default: simulates hyosan-high, seed 1, first)
prints the times; ``pytest benchmarks/bench_viz.py`` times the tiny school with pytest-benchmark.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hyosan.results import Results, load_results
from hyosan.school import SchoolSim
from hyosan.viz.animate import write_animation
from hyosan.viz.curves import write_curves
from hyosan.viz.floors import write_snapshot


def time_pictures(results: Results, folder: Path, frames: int = 60, repeats: int = 3) -> dict[str, float]:
    """Best of `repeats` wall times for curves.png and a snapshot in the middle of the busy part, and frames/s."""
    end = float(results.summary["simulated_s"])
    busy = float(results.summary.get("school_fell_s") or end / 2)

    def best(work) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times)

    curves_s = best(lambda: write_curves(results, folder / "curves.png"))
    snapshot_s = best(lambda: write_snapshot(results, busy, folder / "snapshot.png"))
    start = max(0.0, busy - frames * 15.0)
    mp4 = write_animation(results, folder / "run.mp4", step_s=30.0, start_s=start, end_s=start + (frames - 1) * 30.0)
    gif = write_animation(results, folder / "run.gif", step_s=30.0, start_s=start, end_s=start + (frames - 1) * 30.0)
    return {
        "curves_s": curves_s,
        "snapshot_s": snapshot_s,
        "mp4_frames_per_s": mp4.frames_per_s,
        "gif_frames_per_s": gif.frames_per_s,
        "frames": mp4.frames,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", nargs="?", type=Path, help="A results folder (default: run hyosan-high, seed 1).")
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.run_dir is None:
            SchoolSim.from_scenario("hyosan-high", seed=1).run().save(folder / "run")
            args.run_dir = folder / "run"
        results = load_results(args.run_dir)
        # Warm up: imports of matplotlib, fonts, ffmpeg's first start.
        write_curves(results, folder / "warm.png")
        write_snapshot(results, 0.0, folder / "warm.png")
        r = time_pictures(results, folder, frames=args.frames)
    print(f"run: {results.summary['scenario']} seed {results.summary['seed']}, {results.summary['people']} people")
    print(f"curves.png            {r['curves_s']:.3f} s")
    print(f"one snapshot          {r['snapshot_s']:.3f} s")
    print(f"animation, MP4 1280x720  {r['mp4_frames_per_s']:.1f} frames/s ({r['frames']} frames)")
    print(f"animation, GIF 1280x720  {r['gif_frames_per_s']:.1f} frames/s ({r['frames']} frames)")


def test_tiny_school_curves(benchmark, tmp_path):
    results = SchoolSim.from_scenario("tiny-school", seed=1).run()
    benchmark.pedantic(lambda: write_curves(results, tmp_path / "curves.png"), rounds=3, iterations=1)


def test_tiny_school_snapshot(benchmark, tmp_path):
    results = SchoolSim.from_scenario("tiny-school", seed=1).run()
    benchmark.pedantic(lambda: write_snapshot(results, 1800.0, tmp_path / "snapshot.png"), rounds=3, iterations=1)


def test_tiny_school_animation(benchmark, tmp_path):
    results = SchoolSim.from_scenario("tiny-school", seed=1).run()
    benchmark.pedantic(
        lambda: write_animation(results, tmp_path / "run.mp4", step_s=30.0, start_s=0.0, end_s=900.0),
        rounds=2,
        iterations=1,
    )


if __name__ == "__main__":
    main()
