"""A simple chase model in hyosan's compiled kernels against the same model in Mesa, side by side.

Run as ``python benchmarks/bench_chase.py [--mesa-python /tmp/mesa-venv/bin/python] [--steps 1000]``, or
as ``pytest benchmarks/bench_chase.py`` for pytest-benchmark (a short run, hyosan only).

The model (the same rules in `benchmarks/peers/mesa_chase.py`): a 100 x 100 open grid, not toroidal,
1,800 people and 200 zombies at seeded random cells. Each step every agent acts once, in a fresh random
order. A person random-walks: one of the 9 moves (8 neighbours or stay) uniformly, clamped at the
edges. A zombie looks for the nearest person within a Euclidean sight radius of 10 cells whose line of
sight (Bresenham) is clear, and steps one cell toward them, or else random-walks; then it bites every
person on its cell or the 8 neighbouring cells with probability 0.5 each, and a bitten person is a
zombie at once (acting from the next step on).

The hyosan version is one `numba.njit` loop over the structure-of-arrays state, built on the school
kernel's pieces: the tile index (`_index_tiles`, `_move`, `_unlink`) for who stands where, its sensing
cells and `_nearest_visible` (which runs the shared Bresenham `_line_of_sight`) for sight, and its
xoshiro256** streams (`seed_rng`, `_uniform`). Compile time is reported apart; one warm-up run precedes
the timed runs. The Mesa script runs afterwards as a subprocess with the given interpreter, so both are
measured in one invocation on the same machine. Last, kernel throughput (agent-ticks per second on one
core) is measured on 20,000 agents on 300 x 300.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core; the kernel is serial anyway

import argparse
import importlib.util
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np

from hyosan.school.kernel import (
    CELL,
    HEALTHY,
    T_FLOOR,
    ZOMBIE,
    _index_tiles,
    _nearest_visible,
    _uniform,
    _unlink,
    seed_rng,
)

__all__ = ["World", "main", "make_world", "run_hyosan", "test_chase_steps_per_second"]

SIGHT = 10.0  # cells (tile_m = 1): Euclidean, as `_nearest_visible` measures
BITE_CHANCE = 0.5
OUTBREAK_STEPS = 20  # the first steps, timed apart: the chase phase, while people are left
CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)  # steps at which the zombie count is reported
MESA_SCRIPT = Path(__file__).resolve().parent / "peers" / "mesa_chase.py"
DEFAULT_MESA_PYTHON = "/tmp/mesa-venv/bin/python"

World = tuple  # the argument tuple of `chase` after `steps`, as `make_world` builds it


@numba.njit(cache=False)
def index(state, floor, row, col, tiles, doors, light, occupancy, tile_head, agent_next, cell_prey, cell_next, order,
          turned, rng_move, rng_contact, zombies_per_step):  # fmt: skip
    """Build the tile index and the sensing cells of the people (the kernel keeps both current)."""
    n = state.shape[0]
    _, H, W = tiles.shape
    CW = cell_prey.shape[2]
    prey = cell_prey.reshape(cell_prey.size)
    _index_tiles(state, floor, row, col, H, W, occupancy, tile_head, agent_next)
    prey[:] = -1
    for i in range(n):
        order[i] = i
        turned[i] = -1
        if state[i] == HEALTHY:
            c = (row[i] // CELL) * CW + col[i] // CELL
            cell_next[i] = prey[c]
            prey[c] = i


@numba.njit(cache=False)
def chase(first, last, state, floor, row, col, tiles, doors, light, occupancy, tile_head, agent_next, cell_prey,
          cell_next, order, turned, rng_move, rng_contact, zombies_per_step):  # fmt: skip
    """Advance the chase model over steps [first, last) after `index`; returns the number of zombies then."""
    n = state.shape[0]
    _, H, W = tiles.shape
    CW = cell_prey.shape[2]
    prey = cell_prey.reshape(cell_prey.size)  # a flat view, for `_unlink`
    n_zombies = 0
    for i in range(n):
        if state[i] == ZOMBIE:
            n_zombies += 1
    for step in range(first, last):
        for k in range(n - 1, 0, -1):  # a fresh random order every step (Fisher-Yates)
            j = int(_uniform(rng_move) * (k + 1))
            o = order[k]
            order[k] = order[j]
            order[j] = o
        for k in range(n):
            i = order[k]
            person = state[i] == HEALTHY
            if not person and turned[i] == step:
                continue  # bitten this step: a zombie from the next one
            y0 = row[i]
            x0 = col[i]
            target = -1
            if not person and n_zombies < n:  # with nobody left to see, a zombie does not look
                target = _nearest_visible(i, SIGHT, SIGHT, 1.0, tiles, doors, light, floor, row, col, cell_prey,
                                          cell_next)  # fmt: skip
            if target >= 0:
                ty = row[target]
                tx = col[target]
                ny = y0 + (1 if ty > y0 else (-1 if ty < y0 else 0))
                nx = x0 + (1 if tx > x0 else (-1 if tx < x0 else 0))
            else:
                m = int(_uniform(rng_move) * 9.0)
                ny = min(max(y0 + m // 3 - 1, 0), H - 1)
                nx = min(max(x0 + m % 3 - 1, 0), W - 1)
            if ny != y0 or nx != x0:
                # `_move` on one floor, written out: a call with six arrays costs more than the move itself.
                old = y0 * W + x0
                new = ny * W + nx
                occupancy[old] -= 1
                _unlink(i, old, tile_head, agent_next)
                occupancy[new] += 1
                agent_next[i] = tile_head[new]
                tile_head[new] = i
                row[i] = ny
                col[i] = nx
                if person:
                    c0 = (y0 // CELL) * CW + x0 // CELL
                    c1 = (ny // CELL) * CW + nx // CELL
                    if c1 != c0:
                        _unlink(i, c0, prey, cell_next)
                        cell_next[i] = prey[c1]
                        prey[c1] = i
            if person or n_zombies == n:
                continue
            for yy in range(max(ny - 1, 0), min(ny + 2, H)):  # bites, on its tile and the eight around
                for xx in range(max(nx - 1, 0), min(nx + 2, W)):
                    p = tile_head[yy * W + xx]
                    while p >= 0:
                        after = agent_next[p]
                        if state[p] == HEALTHY and _uniform(rng_contact) < BITE_CHANCE:
                            state[p] = ZOMBIE
                            turned[p] = step
                            n_zombies += 1
                            _unlink(p, (yy // CELL) * CW + xx // CELL, prey, cell_next)
                        p = after
        zombies_per_step[step] = n_zombies
    return n_zombies


def make_world(height: int, width: int, people: int, zombies: int, steps: int, seed: int) -> World:
    """Fresh state arrays for `chase`: people and zombies on uniformly random cells (seeded)."""
    n = people + zombies
    gen = np.random.default_rng(seed)
    state = np.full(n, HEALTHY, dtype=np.uint8)
    state[people:] = ZOMBIE
    cells = gen.integers(0, height * width, size=n)
    row = (cells // width).astype(np.int64)
    col = (cells % width).astype(np.int64)
    floor = np.zeros(n, dtype=np.int64)
    tiles = np.full((1, height, width), T_FLOOR, dtype=np.uint8)
    doors = np.zeros((1, height, width), dtype=np.uint8)
    light = np.ones((1, height, width), dtype=np.bool_)
    occupancy = np.zeros(height * width, dtype=np.int64)
    tile_head = np.full(height * width, -1, dtype=np.int64)
    agent_next = np.full(n, -1, dtype=np.int64)
    cell_prey = np.full((1, -(-height // CELL), -(-width // CELL)), -1, dtype=np.int64)
    cell_next = np.full(n, -1, dtype=np.int64)
    order = np.arange(n, dtype=np.int64)
    turned = np.full(n, -1, dtype=np.int64)
    rng_move = seed_rng(2 * seed + 1)
    rng_contact = seed_rng(2 * seed + 2)
    zombies_per_step = np.zeros(max(steps, 1), dtype=np.int64)
    return (state, floor, row, col, tiles, doors, light, occupancy, tile_head, agent_next, cell_prey, cell_next, order,
            turned, rng_move, rng_contact, zombies_per_step)  # fmt: skip


def run_hyosan(
    steps: int, height: int = 100, width: int = 100, people: int = 1800, zombies: int = 200, seed: int = 1
) -> tuple[float, float, np.ndarray]:
    """One timed run (world set up outside the timing): (seconds, seconds of the first `OUTBREAK_STEPS` steps,
    zombies after each step)."""
    world = make_world(height, width, people, zombies, steps, seed)
    index(*world)
    outbreak_steps = min(OUTBREAK_STEPS, steps)
    started = time.perf_counter()
    chase(0, outbreak_steps, *world)
    outbreak_s = time.perf_counter() - started
    chase(outbreak_steps, steps, *world)
    return time.perf_counter() - started, outbreak_s, world[-1]


def compile_kernel() -> float:
    """Compile `chase` (its school-kernel callees load from their cache) on a tiny world; seconds taken."""
    started = time.perf_counter()
    world = make_world(16, 16, 9, 1, 1, 0)
    index(*world)
    chase(0, 1, *world)
    return time.perf_counter() - started


def _hyosan_row(steps: int, repeat: int, seed: int, **size) -> dict:
    run_hyosan(steps, seed=seed, **size)  # warm-up
    times = []
    outbreak_times = []
    for _ in range(repeat):
        seconds, outbreak_s, zombies = run_hyosan(steps, seed=seed, **size)
        times.append(seconds)
        outbreak_times.append(outbreak_s)
    run_s = statistics.median(times)
    n = size.get("people", 1800) + size.get("zombies", 200)
    return {
        "impl": "hyosan (Numba)",
        "steps": steps,
        "agents": n,
        "run_s": run_s,
        "steps_per_s": steps / run_s,
        "agent_steps_per_s": steps * n / run_s,
        "outbreak_steps": min(OUTBREAK_STEPS, steps),
        "outbreak_s": statistics.median(outbreak_times),
        "zombies_at": {k: int(zombies[k - 1]) for k in CHECKPOINTS if k <= steps} | {steps: int(zombies[steps - 1])},
        "final_zombies": int(zombies[steps - 1]),
    }


def _find_mesa_python(given: str | None) -> str | None:
    """The interpreter to run Mesa with: the one given, else this one if it has Mesa, else the usual venv."""
    if given:
        return given
    if importlib.util.find_spec("mesa") is not None:
        return sys.executable
    return DEFAULT_MESA_PYTHON if Path(DEFAULT_MESA_PYTHON).exists() else None


def _run_mesa(python: str | None, steps: int, seed: int) -> tuple[dict | None, str]:
    """Run the Mesa script as a subprocess: (its JSON result, or None and why not)."""
    if python is None or shutil.which(python) is None:
        return None, f"no Mesa interpreter found (tried {python or DEFAULT_MESA_PYTHON}); pass --mesa-python"
    proc = subprocess.run(
        [python, str(MESA_SCRIPT), "--steps", str(steps), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"the Mesa script failed with {python}: {tail}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mesa-python", default=None, help=f"interpreter with Mesa >= 3.4 (default: {DEFAULT_MESA_PYTHON})"
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="timed hyosan runs after the warm-up (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-mesa", action="store_true", help="hyosan only")
    parser.add_argument("--no-throughput", action="store_true", help="skip the 20,000-agent throughput run")
    args = parser.parse_args(argv)

    compile_s = compile_kernel()
    print(
        f"hyosan chase benchmark: Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__} "
        f"({numba.get_num_threads()} thread), {platform.machine()} {platform.processor() or platform.system()}"
    )
    print(f"model: 100 x 100 grid, 1,800 people + 200 zombies, sight 10 (Euclidean, Bresenham), {args.steps} steps")
    print(f"hyosan compile: {compile_s:.2f} s (excluded; one warm-up run, then median of {args.repeat})")
    rows = [_hyosan_row(args.steps, args.repeat, args.seed)]

    if not args.no_mesa:
        python = _find_mesa_python(args.mesa_python)
        print(f"running Mesa with {python} ...", flush=True)
        mesa_row, why = _run_mesa(python, args.steps, args.seed)
        if mesa_row is None:
            print(f"Mesa not measured: {why}")
        else:
            print(
                f"Mesa {mesa_row['mesa']} on Python {mesa_row['python']}; "
                f"setup (model + neighbourhood caches, excluded): {mesa_row['setup_s']:.2f} s"
            )
            mesa_row["impl"] = f"Mesa {mesa_row['mesa']}"
            rows.append(mesa_row)

    mesa = rows[1] if len(rows) > 1 else None
    header = f"{'implementation':<16} {'wall s':>9} {'steps/s':>10} {'agent-steps/s':>14} {'zombies':>8} {'ratio':>8}"
    for title, key, steps_key in (
        (f"whole run ({args.steps} steps)", "run_s", "steps"),
        (
            f"outbreak phase (first {rows[0]['outbreak_steps']} steps, while people are left)",
            "outbreak_s",
            "outbreak_steps",
        ),
    ):
        print()
        print(title)
        print(header)
        print("-" * len(header))
        for r in rows:
            seconds = r[key]
            ratio = f"{mesa[key] / seconds:.0f}x" if mesa else "-"
            zombies = r["zombies_at"].get(r[steps_key], r["zombies_at"].get(str(r[steps_key]), "?"))
            print(
                f"{r['impl']:<16} {seconds:>9.3f} {r[steps_key] / seconds:>10.1f} "
                f"{r[steps_key] * r['agents'] / seconds:>14.3e} {zombies:>8} {ratio:>8}"
            )
    print()
    for r in rows:
        curve = ", ".join(f"{k}: {v}" for k, v in r["zombies_at"].items())
        print(f"zombies after step ({r['impl']}): {curve}")

    if not args.no_throughput:
        size = {"height": 300, "width": 300, "people": 18000, "zombies": 2000}
        t = _hyosan_row(args.steps, args.repeat, args.seed, **size)
        print()
        print(
            f"kernel throughput, 20,000 agents (18,000 people + 2,000 zombies) on 300 x 300, {args.steps} steps, "
            f"one core: {t['run_s']:.3f} s, {t['agent_steps_per_s'] / 1e6:.1f} M agent-ticks/s; "
            f"first {t['outbreak_steps']} steps (outbreak, zombies seeing people): "
            f"{t['outbreak_steps'] * t['agents'] / t['outbreak_s'] / 1e6:.1f} M agent-ticks/s "
            f"(zombies after them: {t['zombies_at'].get(t['outbreak_steps'], '?')}, at the end: {t['final_zombies']})"
        )


def test_chase_steps_per_second(benchmark) -> None:
    """pytest-benchmark hook: 100 steps of the 2,000-agent model (hyosan only)."""
    compile_kernel()
    _, _, zombies = benchmark(run_hyosan, 100)
    assert 200 <= zombies[-1] <= 2000
    assert np.all(np.diff(zombies) >= 0)


if __name__ == "__main__":
    main()
