"""Speed of navigation fields, door updates, sight and sound on the default Hyosan High, with peer comparisons.

Run as ``python benchmarks/bench_navigation.py [--repeat 30]`` for a table of milliseconds, or as
``pytest benchmarks/bench_navigation.py`` for pytest-benchmark. Compared:

1. one full distance field over every floor (exits as sources, a person walking): hyosan's Numba
   kernel, ``scipy.sparse.csgraph.dijkstra`` (multi-source, ``min_only=True``) on the same graph (its
   CSR graph built outside the timing, and separately timed since a door change needs it rebuilt),
   and python-tcod's ``tcod.path.dijkstra2d`` floor by floor, summed (it cannot take stairs, and a
   door's cost becomes a multiplier: an approximation of the same problem, timed for scale);
2. one door opened or closed: `DistanceField.update_tiles` against a full recompute, over every door;
3. sight for 1,000 agents (500 people, 500 zombies on random walkable tiles; each side looks for the
   nearest of the other), with the spatial-hash kernel; for scale, a tcod field of view per agent;
4. one sound: a 100 dB phone in a classroom, and a 40 dB whisper.

If the default school cannot be loaded, a synthetic school of the same size is generated instead.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hyosan.building.floorplan import building_from_text
from hyosan.building.model import Building, DoorState, Tile
from hyosan.building.navigation import PERSON, DistanceField, Walker, distance_field, tile_costs
from hyosan.building.senses import PERSON_SIGHT, ZOMBIE_SIGHT, nearest_visible, sound_levels

try:
    import tcod
except ImportError:  # the optional `peers` extra
    tcod = None

__all__ = ["main", "school"]


@functools.cache
def school() -> tuple[Building, str]:
    """The default Hyosan High, or a synthetic school of its size if it cannot be loaded yet."""
    try:
        from hyosan.scenario import load_scenario
        from hyosan.world import build_building

        return build_building(load_scenario("hyosan-high")), "hyosan-high"
    except Exception as exc:  # the map is being drawn by someone else; fall back rather than fail
        return _synthetic_school(), f"synthetic 6 x 60 x 120 ({type(exc).__name__})"


def _synthetic_school(n_floors: int = 6, rows: int = 60, cols: int = 120) -> Building:
    """Classrooms of 9 x 11 north and south of a 3-tile corridor, two doors each, stairs at both ends."""
    floors = []
    for f in range(n_floors):
        grid = [["#"] * cols for _ in range(rows)]
        for band in range(0, rows - 27, 28):
            corridor = band + 12
            for y in range(corridor, corridor + 3):
                for x in range(1, cols - 1):
                    grid[y][x] = "."
            for top in (band + 1, corridor + 4):
                for x0 in range(1, cols - 12, 12):
                    for y in range(top, top + 10):
                        for x in range(x0, x0 + 11):
                            grid[y][x] = "."
                    door_y = corridor - 1 if top < corridor else corridor + 3
                    grid[door_y][x0 + 1] = "+"
                    grid[door_y][x0 + 9] = "/"
            for y in range(corridor, corridor + 3):
                grid[y][1] = "1"
                grid[y][cols - 2] = "2"
        if f == 0:
            grid[13][cols - 1] = ">"
        floors.append("\n".join("".join(r) for r in grid))
    return building_from_text(floors, name="synthetic school")


def scipy_graph(b: Building, walker: Walker) -> csr_matrix:
    """The same directed graph the Numba kernel walks: u -> v costs len(u, v) + cost[v]."""
    _, rows, cols = b.shape
    cost = tile_costs(b, walker).astype(np.float64)
    ok = np.isfinite(cost).reshape(b.shape)
    idx = np.arange(b.tiles.size).reshape(b.shape)
    us, vs, ws = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            ys, yd = slice(max(0, -dy), rows - max(0, dy)), slice(max(0, dy), rows - max(0, -dy))
            xs, xd = slice(max(0, -dx), cols - max(0, dx)), slice(max(0, dx), cols - max(0, -dx))
            keep = ok[:, yd, xd].copy()
            if dy and dx:  # no corner cutting
                keep &= ok[:, yd, xs] & ok[:, ys, xd]
            u, v = idx[:, ys, xs][keep], idx[:, yd, xd][keep]
            us.append(u)
            vs.append(v)
            ws.append(np.hypot(dy, dx) * b.tile_m + cost[v])
    links = np.unique(b.stairs, axis=0)
    for a, c in ((links[:, 0], links[:, 1]), (links[:, 1], links[:, 0])):
        keep = np.isfinite(cost[c])
        us.append(a[keep])
        vs.append(c[keep])
        ws.append(walker.stairs_cost_m + cost[c[keep]])
    u, v, w = np.concatenate(us), np.concatenate(vs), np.concatenate(ws)
    return csr_matrix((w, (u, v)), shape=(b.tiles.size, b.tiles.size))


def tcod_inputs(b: Building) -> tuple[np.ndarray, np.ndarray]:
    """Per-floor integer costs for tcod (decimetres; a closed door a 3x step) and the sources' distance array."""
    cost = tile_costs(b, PERSON).reshape(b.shape)
    tcod_cost = np.where(np.isfinite(cost), 1 + np.nan_to_num(cost, posinf=0), 0).astype(np.int32)
    start = np.full(b.shape, np.iinfo(np.int32).max, dtype=np.int32)
    start.ravel()[b.exits] = 0
    # No exit upstairs: seed each upper floor at its stairs, as a per-floor chain would have to.
    start[b.tiles == Tile.STAIRS] = 0
    return tcod_cost, start


def tcod_fields(tcod_cost: np.ndarray, start: np.ndarray) -> None:
    for f in range(tcod_cost.shape[0]):
        dist = start[f].copy()
        tcod.path.dijkstra2d(dist, tcod_cost[f], 10, 14, out=dist)


def scattered_agents(b: Building, n: int = 1000, seed: int = 0) -> tuple[np.ndarray, ...]:
    """n agents on distinct random walkable tiles; the first half zombies."""
    rng = np.random.default_rng(seed)
    tiles = rng.choice(np.flatnonzero(b.walkable), size=n, replace=False)
    floor, row, col = np.unravel_index(tiles, b.shape)
    zombie = np.arange(n) < n // 2
    return floor, row, col, zombie


def sight_both_ways(b: Building, agents: tuple[np.ndarray, ...], light: np.ndarray) -> None:
    floor, row, col, zombie = agents
    nearest_visible(b, floor, row, col, zombie, ~zombie, ZOMBIE_SIGHT, light=light)
    nearest_visible(b, floor, row, col, ~zombie, zombie, PERSON_SIGHT, light=light)


def tcod_fov_per_agent(b: Building, agents: tuple[np.ndarray, ...], radius: int = 15) -> None:
    transparent = ~np.isin(b.tiles, (Tile.WALL, Tile.VOID)) & ~(
        (b.tiles == Tile.DOOR) & np.isin(b.door_state, (DoorState.CLOSED, DoorState.LOCKED, DoorState.BARRICADED))
    )
    floor, row, col, _ = agents
    for f, y, x in zip(floor.tolist(), row.tolist(), col.tolist(), strict=True):
        tcod.map.compute_fov(transparent[f], (y, x), radius)


def classroom_tile(b: Building) -> int:
    """A tile in the middle of classroom 2-5 (or the biggest room on floor 3 of a synthetic school)."""
    names = [r.name for r in b.rooms]
    room = next((r for r in b.rooms if "2-5" in r.name), None)
    if room is None:
        room = max((r for r in b.rooms if r.floor == min(2, b.n_floors - 1)), key=lambda r: r.area_tiles)
    where = np.argwhere((b.room_of == names.index(room.name)) & b.walkable)
    f, y, x = where[len(where) // 2]
    return b.flat(int(f), int(y), int(x))


def toggle_every_door(b: Building, field: DistanceField) -> list[float]:
    """Close every open door (open every closed one), update, and put it back: ms per update."""
    times = []
    for f, y, x in b.doors:
        was = b.door_state[f, y, x]
        if was not in (DoorState.OPEN, DoorState.CLOSED):
            continue
        flat = b.flat(int(f), int(y), int(x))
        for state in (DoorState.CLOSED if was == DoorState.OPEN else DoorState.OPEN, was):
            b.door_state[f, y, x] = state
            t0 = time.perf_counter()
            field.update_tiles([flat])
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) milliseconds of ``repeat`` calls after one warm-up (Numba compiles on first call)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1e3)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per row (median reported)")
    args = parser.parse_args()
    b, label = school()
    n_walkable = int(b.walkable.sum())
    print(f"building: {label}, {b.n_floors} floors x {b.shape[1]} x {b.shape[2]} = {b.tiles.size:,} tiles "
          f"({n_walkable:,} walkable, {len(b.doors)} doors, {len(b.stairs)} stair links)")  # fmt: skip
    print(f"python {platform.python_version()}, numba {numba.__version__}, {platform.machine()}\n")
    rows: list[tuple[str, tuple[float, float]]] = []

    exits = b.exits
    rows.append(("full field, hyosan Numba (all floors, stairs)", timed(lambda: distance_field(b, exits), args.repeat)))
    graph = scipy_graph(b, PERSON)
    rows.append(("full field, scipy csgraph.dijkstra min_only", timed(
        lambda: dijkstra(graph, directed=True, indices=exits, min_only=True), args.repeat)))  # fmt: skip
    rows.append(("  scipy: building its CSR graph (each door change)", timed(lambda: scipy_graph(b, PERSON), 5)))
    if tcod is not None:
        tcod_cost, start = tcod_inputs(b)
        rows.append(("full field, tcod dijkstra2d per floor, summed", timed(
            lambda: tcod_fields(tcod_cost, start), args.repeat)))  # fmt: skip

    field = DistanceField(b, exits, PERSON)
    toggle_every_door(b, field)  # warm up
    # Each door's time is its best of 5 rounds, so a busy machine does not pass for a slow door.
    times = np.min([toggle_every_door(b, field) for _ in range(5)], axis=0).tolist()
    n_doors = len(times)
    rows.append(
        (f"door update, DistanceField.update_tiles, {n_doors} toggles: median", (statistics.median(times),) * 2)
    )
    rows.append(("door update, mean over the toggles", (statistics.fmean(times),) * 2))
    rows.append(("door update, worst toggle", (max(times),) * 2))
    rows.append(("door update, full recompute instead", timed(lambda: distance_field(b, exits), args.repeat)))

    agents = scattered_agents(b)
    light = b.light()
    rows.append(("sight, 1,000 agents both ways, spatial hash", timed(
        lambda: sight_both_ways(b, agents, light), args.repeat)))  # fmt: skip
    if tcod is not None:
        rows.append(("sight, tcod FOV radius 15 per agent, 1,000", timed(lambda: tcod_fov_per_agent(b, agents), 3)))

    phone = classroom_tile(b)
    rows.append(("sound, 100 dB phone in classroom 2-5", timed(lambda: sound_levels(b, phone, 100.0), args.repeat)))
    rows.append(("sound, 40 dB whisper there", timed(lambda: sound_levels(b, phone, 40.0), args.repeat)))

    width = max(len(name) for name, _ in rows)
    print(f"{'what':<{width}}  {'best ms':>9}  {'median ms':>9}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 9}")
    for name, (best, median) in rows:
        print(f"{name:<{width}}  {best:9.3f}  {median:9.3f}")


# --- pytest-benchmark ----------------------------------------------------------------------------------------


def test_full_field_hyosan(benchmark):
    b, _ = school()
    d = benchmark(distance_field, b, b.exits)
    assert np.isfinite(d).sum() > 0.9 * b.walkable.sum()


def test_full_field_scipy(benchmark):
    b, _ = school()
    graph = scipy_graph(b, PERSON)
    d = benchmark(dijkstra, graph, directed=True, indices=b.exits, min_only=True)
    np.testing.assert_allclose(d, distance_field(b, b.exits).ravel(), rtol=1e-5, atol=1e-3)


def test_full_field_tcod(benchmark):
    if tcod is None:
        pytest.skip("tcod is in the optional `peers` extra")
    b, _ = school()
    tcod_cost, start = tcod_inputs(b)
    benchmark(tcod_fields, tcod_cost, start)


def test_door_update(benchmark):
    b, _ = school()
    field = DistanceField(b, b.exits, PERSON)
    times = benchmark.pedantic(toggle_every_door, args=(b, field), rounds=3, warmup_rounds=1)
    assert times
    np.testing.assert_allclose(field.distances, distance_field(b, b.exits), rtol=1e-5, atol=1e-3)


def test_sight_1000_agents(benchmark):
    b, _ = school()
    agents = scattered_agents(b)
    benchmark(sight_both_ways, b, agents, b.light())


def test_sound_phone(benchmark):
    b, _ = school()
    levels = benchmark(sound_levels, b, classroom_tile(b), 100.0)
    assert np.isfinite(levels).sum() > 100


if __name__ == "__main__":
    main()
