"""Navigation: distance fields on hand-made maps, door changes, stairs, walkers, and properties on random maps."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hyosan.building import Building, DoorState, Tile
from hyosan.building.floorplan import building_from_text
from hyosan.building.navigation import (
    PERSON,
    ZOMBIE,
    DistanceField,
    Walker,
    distance_field,
    next_steps,
    step_toward,
    tile_costs,
    update_fields,
)

SQRT2 = math.sqrt(2.0)

CORRIDOR = """\
##########
#........>
##########
"""

DOOR_CORRIDOR = """\
#########
#...+...>
#########
"""


def test_corridor_distance_is_number_of_tiles():
    b = building_from_text([CORRIDOR])
    d = distance_field(b, [b.flat(0, 1, 1)])
    assert d.dtype == np.float32 and d.shape == b.shape
    np.testing.assert_allclose(d[0, 1, 1:10], np.arange(9), atol=1e-6)
    assert np.isinf(d[0, 0]).all() and np.isinf(d[0, 2]).all()  # walls are never reached


def test_tile_size_scales_distances():
    b = building_from_text([CORRIDOR], tile_m=0.5)
    d = distance_field(b, [b.flat(0, 1, 1)])
    np.testing.assert_allclose(d[0, 1, 1:10], 0.5 * np.arange(9), atol=1e-6)


def test_diagonal_costs_sqrt2_in_open_room():
    b = building_from_text(["#######\n#.....#\n#.....#\n#.....>\n#######"])
    d = distance_field(b, [b.flat(0, 1, 1)])
    assert d[0, 2, 2] == pytest.approx(SQRT2, abs=1e-5)
    assert d[0, 3, 3] == pytest.approx(2 * SQRT2, abs=1e-5)
    assert d[0, 2, 5] == pytest.approx(SQRT2 + 3, abs=1e-5)


def test_no_corner_cutting_past_a_wall():
    b = building_from_text(["######\n#..###\n##...>\n######"])
    d = distance_field(b, [b.flat(0, 1, 2)])
    # (1,2) -> (2,3) is diagonal past the wall corner at (1,3): it must go round through (2,2).
    assert d[0, 2, 3] == pytest.approx(2.0, abs=1e-6)
    assert d[0, 2, 2] == pytest.approx(1.0, abs=1e-6)


def test_stairs_link_floors_with_their_cost():
    b = building_from_text(["#####\n#1..>\n#####", "#####\n#1..#\n#####"])
    d = distance_field(b, b.exits)
    assert d[0, 1, 1] == pytest.approx(3.0)
    assert d[1, 1, 1] == pytest.approx(3.0 + PERSON.stairs_cost_m)
    assert d[1, 1, 3] == pytest.approx(5.0 + PERSON.stairs_cost_m)
    slow = Walker(stairs_cost_m=20.0)
    assert distance_field(b, b.exits, slow)[1, 1, 1] == pytest.approx(23.0)
    # Going up works the same way: a source upstairs reaches the ground floor.
    up = distance_field(b, [b.flat(1, 1, 3)])
    assert up[0, 1, 4] == pytest.approx(2 + PERSON.stairs_cost_m + 3)


def test_closed_door_costs_people_two_metres_and_open_door_nothing():
    b = building_from_text([DOOR_CORRIDOR])
    door = b.flat(0, 1, 4)
    assert b.door_state[0, 1, 4] == DoorState.CLOSED
    field = DistanceField(b, b.exits, PERSON)
    assert field.distances[0, 1, 1] == pytest.approx(7 + PERSON.door_closed_m)
    b.door_state[0, 1, 4] = DoorState.OPEN
    field.update_tiles([door])
    assert field.distances[0, 1, 1] == pytest.approx(7.0)
    b.door_state[0, 1, 4] = DoorState.LOCKED
    field.update_tiles([door])
    assert np.isinf(field.distances[0, 1, 1:4]).all()
    assert field.distances[0, 1, 5] == pytest.approx(3.0)
    b.door_state[0, 1, 4] = DoorState.CLOSED
    field.update_tiles([door])
    np.testing.assert_allclose(field.distances, distance_field(b, b.exits, PERSON))


def test_update_fields_matches_each_field_updated_alone_and_writes_finite_float32():
    b = building_from_text([DOOR_CORRIDOR])
    door = b.flat(0, 1, 4)
    kinds = [(b.exits, PERSON), ([b.flat(0, 1, 1)], PERSON), (b.exits, ZOMBIE)]
    together = [DistanceField(b, src, w) for src, w in kinds]
    alone = [DistanceField(b, src, w) for src, w in kinds]
    assert update_fields(together, []) == [0, 0, 0]
    for state in (DoorState.LOCKED, DoorState.OPEN, DoorState.BARRICADED, DoorState.CLOSED):
        b.door_state[0, 1, 4] = state
        counts = update_fields(together, [door, door])
        assert counts == [f.update_tiles([door]) for f in alone]
        for f, g in zip(together, alone, strict=True):
            np.testing.assert_array_equal(f.distances, g.distances)
            out = np.empty(b.tiles.size, dtype=np.float32)
            f.write_distances(out, unreachable=1e9)
            expected = g.distances.ravel().copy()
            expected[~np.isfinite(expected)] = 1e9
            np.testing.assert_array_equal(out, expected)
    with pytest.raises(IndexError):
        update_fields(together, [b.tiles.size])
    with pytest.raises(ValueError):
        together[0].write_distances(np.empty(b.tiles.size))


def test_people_and_zombies_pay_different_door_costs():
    b = building_from_text([DOOR_CORRIDOR])
    far = (0, 1, 1)
    for state, person, zombie in [
        (DoorState.OPEN, 7.0, 7.0),
        (DoorState.BROKEN, 7.0, 7.0),
        (DoorState.CLOSED, 7 + PERSON.door_closed_m, 7 + ZOMBIE.door_closed_m),
        (DoorState.LOCKED, math.inf, 7 + ZOMBIE.door_locked_m),
        (DoorState.BARRICADED, math.inf, 7 + ZOMBIE.door_barricaded_m),
    ]:
        b.door_state[0, 1, 4] = state
        assert distance_field(b, b.exits, PERSON)[far] == pytest.approx(person), state
        assert distance_field(b, b.exits, ZOMBIE)[far] == pytest.approx(zombie), state


def test_stronger_barricade_costs_zombies_more():
    b = building_from_text([DOOR_CORRIDOR])
    b.door_state[0, 1, 4] = DoorState.BARRICADED
    b.barricade_strength[0, 1, 4] = 600.0
    field = DistanceField(b, b.exits, ZOMBIE)
    weak = field.distances[0, 1, 1]
    assert weak == pytest.approx(7 + ZOMBIE.door_barricaded_m + 600 * ZOMBIE.barricade_m_per_strength)
    b.barricade_strength[0, 1, 4] = 1200.0
    field.update_tiles([b.flat(0, 1, 4)])
    assert field.distances[0, 1, 1] > weak


def test_windows_are_impassable_by_default():
    b = building_from_text(["#####\n#...#\n#&=##\n#...>\n#####"])
    costs = tile_costs(b, PERSON).reshape(b.shape)
    assert costs.dtype == np.float32
    assert np.isinf(costs[0, 2, 2]) and np.isinf(costs[0, 0, 0]) and costs[0, 1, 1] == 0
    # The top room reaches the exit through a locked door or the window: no way out for a person...
    assert np.isinf(distance_field(b, b.exits, PERSON)[0, 1, 2])
    # ...but one who climbs through windows pays for the window and walks round the wall corner.
    climber = Walker(window_m=5.0)
    assert distance_field(b, b.exits, climber)[0, 1, 2] == pytest.approx(1 + 5 + 1 + 2, abs=1e-5)


def test_initial_distances_offset_sources_and_mask_sources():
    b = building_from_text([CORRIDOR])
    a, z = b.flat(0, 1, 1), b.flat(0, 1, 9)
    d = distance_field(b, [a, z], initial=[0.0, 4.0])
    assert d[0, 1, 1] == 0 and d[0, 1, 9] == 4.0
    assert d[0, 1, 6] == pytest.approx(5.0)  # min(5 from a, 4 + 3 from z)
    mask = np.zeros(b.shape, dtype=bool)
    mask[0, 1, 1] = True
    np.testing.assert_array_equal(distance_field(b, mask), distance_field(b, [a]))
    with pytest.raises(IndexError):
        distance_field(b, [b.tiles.size])
    with pytest.raises(ValueError):
        Walker(door_closed_m=-1.0)


def test_extra_cost_steers_around_danger():
    b = building_from_text(["#######\n#.....#\n#.....#\n#.....>\n#######"])
    extra = np.zeros(b.tiles.size)
    extra[b.flat(0, 2, 3)] = 100.0
    d = distance_field(b, [b.flat(0, 2, 1)], extra_cost_m=extra)
    assert d[0, 2, 5] == pytest.approx(2 + 2 * SQRT2, abs=1e-5)  # round the costly tile, not through it


def test_step_toward_descends_to_the_exit_and_takes_stairs():
    b = building_from_text(["#####\n#1..>\n#####", "######\n#1...#\n######"])
    field = DistanceField(b, b.exits, PERSON)
    pos = (1, 1, 4)
    path = [pos]
    for _ in range(10):
        pos = step_toward(field, b, *pos)
        path.append(pos)
        if pos == (0, 1, 4):
            break
    assert path[:5] == [(1, 1, 4), (1, 1, 3), (1, 1, 2), (1, 1, 1), (0, 1, 1)]
    assert pos == (0, 1, 4)
    assert step_toward(field, b, 0, 1, 4) == (0, 1, 4)  # at the goal: stay
    # Plain arrays work too, with the walker given.
    assert step_toward(field.distances, b, 1, 1, 2, PERSON) == (1, 1, 1)


def test_next_steps_batch_matches_step_toward():
    b = building_from_text(["#######\n#.....#\n#.##..#\n#.....>\n#######"])
    field = DistanceField(b, b.exits, PERSON)
    f, y, x = np.nonzero(b.walkable)
    nf, ny, nx = next_steps(field, b, f, y, x)
    for i in range(f.size):
        assert (nf[i], ny[i], nx[i]) == step_toward(field, b, int(f[i]), int(y[i]), int(x[i]))
        if (y[i], x[i]) != (3, 6):
            assert field.distances[nf[i], ny[i], nx[i]] < field.distances[f[i], y[i], x[i]]


def test_default_school_every_room_reaches_an_exit():
    from hyosan.scenario import load_scenario
    from hyosan.world import build_building

    b = build_building(load_scenario("tiny-school"))
    d = distance_field(b, b.exits, ZOMBIE)  # zombies break any door, so every room connects
    for room in b.rooms:
        assert np.isfinite(d[room.floor, room.anchor[0], room.anchor[1]]), room.name


# --- properties on random maps -------------------------------------------------------------------------------


def random_building(seed: int, n_floors: int, rows: int, cols: int) -> Building:
    """A random grid of every tile kind and door state, with stairs between random tiles of adjacent floors."""
    rng = np.random.default_rng(seed)
    kinds = np.array([Tile.FLOOR, Tile.WALL, Tile.DOOR, Tile.WINDOW, Tile.VOID, Tile.EXIT], dtype=np.uint8)
    tiles = rng.choice(kinds, size=(n_floors, rows, cols), p=[0.55, 0.2, 0.15, 0.04, 0.03, 0.03]).astype(np.uint8)
    door_state = np.where(tiles == Tile.DOOR, rng.integers(0, 5, tiles.shape), 0).astype(np.uint8)
    strength = np.where(door_state == DoorState.BARRICADED, rng.uniform(0, 900, tiles.shape), 0).astype(np.float32)
    links = []
    for f in range(n_floors - 1):
        for _ in range(rng.integers(0, 3)):
            a = (f, rng.integers(rows), rng.integers(cols))
            c = (f + 1, rng.integers(rows), rng.integers(cols))
            tiles[a] = tiles[c] = Tile.STAIRS
            links.append((np.ravel_multi_index(a, tiles.shape), np.ravel_multi_index(c, tiles.shape)))
    return Building(
        name="random",
        floor_names=[f"{f + 1}F" for f in range(n_floors)],
        tiles=tiles,
        room_of=np.full(tiles.shape, -1, dtype=np.int32),
        rooms=[],
        door_state=door_state,
        barricade_strength=strength,
        stairs=np.array(links, dtype=np.int64).reshape(-1, 2),
        stair_id=np.full(tiles.shape, -1, dtype=np.int8),
    )


def edges(b: Building, walker: Walker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every move u -> v the walker may make, with its cost len(u, v) + cost[v] (as the field defines it)."""
    n_floors, rows, cols = b.shape
    cost = tile_costs(b, walker).astype(np.float64)
    ok = np.isfinite(cost).reshape(b.shape)
    idx = np.arange(b.tiles.size).reshape(b.shape)
    us, vs, ws = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            for f in range(n_floors):
                for y in range(max(0, -dy), rows - max(0, dy)):
                    for x in range(max(0, -dx), cols - max(0, dx)):
                        if not ok[f, y + dy, x + dx]:
                            continue
                        if dy and dx and not (ok[f, y + dy, x] and ok[f, y, x + dx]):
                            continue
                        us.append(idx[f, y, x])
                        vs.append(idx[f, y + dy, x + dx])
                        ws.append(math.hypot(dy, dx) * b.tile_m)
    for a, c in {(int(a), int(c)) for a, c in b.stairs}:  # a sparse matrix would add up duplicate links
        for u, v in ((a, c), (c, a)):
            if np.isfinite(cost[v]):
                us.append(u)
                vs.append(v)
                ws.append(walker.stairs_cost_m)
    u, v = np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64)
    return u, v, np.array(ws) + cost[v]


def reachable_4(b: Building, walker: Walker, sources: np.ndarray) -> np.ndarray:
    """Breadth-first over 4-connected passable tiles and stairs: who can be reached from a source at all."""
    ok = np.isfinite(tile_costs(b, walker))
    _, rows, cols = b.shape
    links: dict[int, list[int]] = {}
    for a, c in b.stairs:
        links.setdefault(int(a), []).append(int(c))
        links.setdefault(int(c), []).append(int(a))
    seen = np.zeros(b.tiles.size, dtype=bool)
    queue = deque(int(s) for s in sources)
    seen[sources] = True
    while queue:
        u = queue.popleft()
        f, y, x = b.unflat(u)
        nbrs = [b.flat(f, y + dy, x + dx) for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))
                if 0 <= y + dy < rows and 0 <= x + dx < cols]  # fmt: skip
        for v in nbrs + links.get(u, []):
            if ok[v] and not seen[v]:
                seen[v] = True
                queue.append(v)
    return seen


maps = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 9), st.integers(2, 11))
walkers = st.sampled_from([PERSON, ZOMBIE, Walker(door_closed_m=0.5, window_m=3.0, stairs_cost_m=0.5)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=maps, walker=walkers, n_sources=st.integers(1, 4))
def test_field_matches_scipy_reachability_and_triangle_inequality(spec, walker, n_sources):
    b = random_building(*spec)
    rng = np.random.default_rng(spec[0] + 1)
    sources = rng.choice(b.tiles.size, size=min(n_sources, b.tiles.size), replace=False)
    d = distance_field(b, sources, walker).ravel().astype(np.float64)
    # Finite exactly where a 4-connected passable path (or stairs) leads from a source.
    np.testing.assert_array_equal(np.isfinite(d), reachable_4(b, walker, sources))
    # Triangle inequality along every edge, and the same numbers as scipy's Dijkstra on the same graph.
    u, v, w = edges(b, walker)
    finite = np.isfinite(d[u])
    assert (d[v][finite] <= d[u][finite] + w[finite] + 1e-4).all()
    graph = csr_matrix((w, (u, v)), shape=(b.tiles.size, b.tiles.size))
    expected = dijkstra(graph, directed=True, indices=sources, min_only=True)
    np.testing.assert_allclose(d, expected, rtol=1e-6, atol=1e-4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=maps, walker=walkers, n_sources=st.integers(1, 3), toggles=st.lists(st.integers(0, 2**31), max_size=8))
def test_incremental_door_updates_equal_full_recompute(spec, walker, n_sources, toggles):
    b = random_building(*spec)
    rng = np.random.default_rng(spec[0] + 2)
    sources = rng.choice(b.tiles.size, size=min(n_sources, b.tiles.size), replace=False)
    initial = rng.uniform(0, 5, sources.size)
    field = DistanceField(b, sources, walker, initial=initial)
    candidates = np.flatnonzero((b.tiles == Tile.DOOR).ravel() | (b.tiles == Tile.FLOOR).ravel())
    if candidates.size == 0:
        return
    flat_tiles, flat_doors = b.tiles.reshape(-1), b.door_state.reshape(-1)
    for t in toggles:
        r = np.random.default_rng(t)
        changed = r.choice(candidates, size=min(candidates.size, int(r.integers(1, 4))), replace=False)
        for c in changed:
            # A door changes state, or a floor tile becomes a door (a barricade of desks) and back.
            flat_tiles[c] = Tile.DOOR if r.random() < 0.8 else Tile.FLOOR
            flat_doors[c] = r.integers(0, 5) if flat_tiles[c] == Tile.DOOR else 0
        field.update_tiles(changed)
        full = distance_field(b, sources, walker, initial=initial)
        np.testing.assert_array_equal(np.isinf(field.distances), np.isinf(full))
        np.testing.assert_allclose(field.distances, full, rtol=1e-6, atol=1e-4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=maps, walker=walkers)
def test_walking_down_the_field_pays_exactly_the_distance(spec, walker):
    b = random_building(*spec)
    rng = np.random.default_rng(spec[0] + 3)
    sources = rng.choice(b.tiles.size, size=2, replace=False) if b.tiles.size >= 2 else np.array([0])
    field = DistanceField(b, sources, walker)
    d = field.distances.ravel().astype(np.float64)
    cost = field.costs
    start = np.flatnonzero(np.isfinite(d))
    pos = start.copy()
    paid = np.zeros(start.size)
    for _ in range(b.tiles.size):
        f0, y0, x0 = np.unravel_index(pos, b.shape)
        f1, y1, x1 = next_steps(field, b, f0, y0, x0)
        nxt = np.ravel_multi_index((f1, y1, x1), b.shape)
        moved = nxt != pos
        if not moved.any():
            break
        step = np.where(f1 != f0, walker.stairs_cost_m, np.hypot(y1 - y0, x1 - x0) * b.tile_m)
        paid += np.where(moved, cost[pos] + step, 0.0)
        pos = nxt
    # Everyone ends on a source, having paid exactly the distance the field promised.
    assert np.isin(pos, sources).all()
    np.testing.assert_allclose(paid + d[pos], d[start], rtol=1e-6, atol=1e-4)
