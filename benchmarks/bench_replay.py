"""Browser replay: build time and size of replay.html for the default run, and its frame rate in headless Chromium.

Run by hand: ``python benchmarks/bench_replay.py [--run DIR] [--seconds 5] [--speed 60]`` prints a table. Without
``--run`` it simulates the default scenario (hyosan-high, seed 1) first. The frame rate is taken with
``requestAnimationFrame`` timestamps while the replay plays at `--speed` with all floors shown, from the start of
the outbreak's busiest stretch (five minutes before the school falls); the table also gives the page's own time
spent drawing each frame, which shows the headroom that the 60 Hz cap of the display hides.

``pytest benchmarks/bench_replay.py`` times `write_replay` on the tiny school with pytest-benchmark.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from hyosan.results import Results, load_results
from hyosan.school import SchoolSim
from hyosan.viz.replay import write_replay

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GOALS = {"fps": 30.0, "size_mb": 20.0, "build_s": 2.0}

# Counts requestAnimationFrame callbacks for `seconds` and returns their timestamps (ms).
_RAF_TIMESTAMPS = """(seconds) => new Promise((resolve) => {
  const stamps = [];
  const first = performance.now();
  function tick(now) {
    stamps.push(now);
    if (now - first < seconds * 1000) requestAnimationFrame(tick); else resolve(stamps);
  }
  requestAnimationFrame(tick);
})"""


def build(results: Results, path: Path, repeat: int = 5) -> float:
    """Median wall time of `write_replay` (seconds)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        write_replay(results, path)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def frame_rate(
    page_path: Path, start_s: float, seconds: float, speed: float, viewport: tuple[int, int] = (1600, 900)
) -> dict[str, float]:
    """Frames per second while playing with all floors shown, and the page's own drawing time per frame."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        started = time.perf_counter()
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
        load_s = time.perf_counter() - started
        page.evaluate(
            "([t, speed]) => { const r = window.hyosanReplay; r.setFloor('all'); r.setTime(t); r.setSpeed(speed);"
            " r.play(); }",
            [start_s, speed],
        )
        stamps = np.array(page.evaluate(_RAF_TIMESTAMPS, seconds))
        costs = np.array(page.evaluate("window.hyosanReplay.drawCosts()"))
        sim_time = page.evaluate("window.hyosanReplay.time()")
        browser.close()
    intervals = np.diff(stamps)
    return {
        "frames": float(intervals.size),
        "mean_fps": 1000.0 * intervals.size / (stamps[-1] - stamps[0]),
        "p5_fps": 1000.0 / float(np.percentile(intervals, 95)),  # the slowest 5 % of frames
        "worst_frame_ms": float(intervals.max()),
        "draw_ms_mean": float(costs.mean()),
        "draw_ms_p95": float(np.percentile(costs, 95)),
        "load_s": load_s,
        "simulated_s": float(sim_time - start_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="results folder to replay (default: run hyosan-high, seed 1)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to count frames")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    args = parser.parse_args()
    if args.run is not None:
        results = load_results(args.run)
        source = str(args.run)
    else:
        print("simulating hyosan-high, seed 1 …", flush=True)
        results = SchoolSim.from_scenario("hyosan-high", seed=1).run()
        source = "hyosan-high seed 1 (simulated now)"
    fell = results.summary.get("school_fell_s")
    start_s = max(0.0, float(fell) - 300.0) if fell is not None else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "replay.html"
        build_s = build(results, page_path)
        size_mb = page_path.stat().st_size / 1e6
        fps = frame_rate(page_path, start_s, args.seconds, args.speed) if CHROMIUM.exists() else None
    print(f"replay of {source}: {len(results.people)} people, {len(results.trajectories):,} trajectory rows")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'measure':<34} {'value':>10}  {'goal':>8}")
    print(f"{'build time (median of 5), s':<34} {build_s:>10.3f}  {'< ' + str(GOALS['build_s']):>8}")
    print(f"{'replay.html size, MB':<34} {size_mb:>10.2f}  {'<= ' + str(GOALS['size_mb']):>8}")
    if fps is None:
        print(f"frame rate: skipped, no Chromium at {CHROMIUM}")
        return
    print(f"{'page load (to first frame), s':<34} {fps['load_s']:>10.2f}")
    print(f"{'frames counted':<34} {fps['frames']:>10.0f}  (over {args.seconds:g} s at {args.speed:g}x, all floors)")
    print(f"{'mean fps':<34} {fps['mean_fps']:>10.1f}  {'>= ' + str(GOALS['fps']):>8}")
    print(f"{'5th percentile fps':<34} {fps['p5_fps']:>10.1f}  {'>= ' + str(GOALS['fps']):>8}")
    print(f"{'slowest frame, ms':<34} {fps['worst_frame_ms']:>10.1f}")
    print(f"{'drawing per frame, mean ms':<34} {fps['draw_ms_mean']:>10.2f}")
    print(f"{'drawing per frame, 95th pct ms':<34} {fps['draw_ms_p95']:>10.2f}")
    print(f"{'simulated time played, s':<34} {fps['simulated_s']:>10.0f}")


def test_write_replay_tiny_school(benchmark, tmp_path: Path) -> None:
    results = SchoolSim.from_scenario("tiny-school", seed=1).run()
    benchmark(write_replay, results, tmp_path / "replay.html")


if __name__ == "__main__":
    main()
