"""Senses: line of sight on known cases, light and sight range, the batched spatial-hash kernel, and sound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyosan.building import DoorState
from hyosan.building.floorplan import RoomSpec, building_from_text
from hyosan.building.model import Tile
from hyosan.building.senses import (
    PERSON_SIGHT,
    ZOMBIE_SIGHT,
    SightParams,
    SoundParams,
    can_see,
    line_of_sight,
    nearest_visible,
    open_rectangles,
    sound_field,
    sound_levels,
    sound_reach,
    visible_pairs,
)
from test_navigation import random_building

TWO_ROOMS = """\
###########
#....#....#
#....+....#
#....#....>
###########
"""

LONG_HALL = """\
##################################
#................................>
##################################
"""


def test_wall_blocks_sight_and_open_door_lets_it_through():
    b = building_from_text([TWO_ROOMS])
    assert line_of_sight(b, 0, 1, 1, 1, 4)  # same room
    assert not line_of_sight(b, 0, 1, 3, 1, 7)  # through the wall
    assert not line_of_sight(b, 0, 2, 3, 2, 7)  # through the closed door
    b.door_state[0, 2, 5] = DoorState.OPEN
    assert line_of_sight(b, 0, 2, 3, 2, 7)
    b.door_state[0, 2, 5] = DoorState.BROKEN
    assert line_of_sight(b, 0, 2, 1, 2, 9)
    for shut in (DoorState.LOCKED, DoorState.BARRICADED):
        b.door_state[0, 2, 5] = shut
        assert not line_of_sight(b, 0, 2, 3, 2, 7)


def test_window_lets_sight_through():
    b = building_from_text([TWO_ROOMS.replace("#....#....#\n#....+", "#....=....#\n#....+", 1)])
    assert line_of_sight(b, 0, 1, 2, 1, 8)
    assert not line_of_sight(b, 0, 3, 2, 3, 8)  # the row below is still wall


def test_no_sight_through_a_diagonal_crack():
    b = building_from_text(["######\n#..#.#\n#.#..#\n#....>\n######"])
    # (1,2) and (2,3) touch only at the corner between the walls (1,3) and (2,2).
    assert not line_of_sight(b, 0, 1, 2, 2, 3)


def test_line_of_sight_is_symmetric_on_known_case():
    b = building_from_text(["##########\n#........#\n#..#.....#\n#........>\n##########"])
    pts = [(y, x) for y in range(1, 4) for x in range(1, 9)]
    for a in pts:
        for c in pts:
            assert line_of_sight(b, 0, *a, *c) == line_of_sight(b, 0, *c, *a)


def test_dark_range_is_shorter_than_lit_range():
    rooms = {"a": RoomSpec("hall", light=True)}
    b = building_from_text([("1F", LONG_HALL.replace("#.", "#a", 1), rooms)])
    sight = SightParams(sight_range_lit_m=20.0, sight_range_dark_m=3.0)
    assert can_see(b, 0, 1, 1, 1, 11, sight)
    assert not can_see(b, 0, 1, 1, 1, 25, sight)  # beyond 20 m even in the light
    b.room_light[:] = False  # power cut
    assert not can_see(b, 0, 1, 1, 1, 11, sight)
    assert can_see(b, 0, 1, 1, 1, 4, sight)  # 3 m: still visible in the dark
    # Zombies see worse in the dark than people.
    assert can_see(b, 0, 1, 1, 1, 5, PERSON_SIGHT) and not can_see(b, 0, 1, 1, 1, 5, ZOMBIE_SIGHT)


def test_nearest_visible_picks_the_nearest_seen_target():
    b = building_from_text([TWO_ROOMS])
    # 0: observer in the west room; 1: target behind the wall (closer); 2: target far in the same room.
    floor = np.zeros(4, dtype=np.int64)
    row = np.array([2, 2, 1, 3])
    col = np.array([3, 6, 1, 9])
    observers = np.array([True, False, False, True])
    targets = np.array([False, True, True, False])
    nearest, metres = nearest_visible(b, floor, row, col, observers, targets, SightParams(20, 20))
    assert nearest.tolist() == [2, -1, -1, 1]
    assert metres[0] == pytest.approx(math.hypot(1, 2))
    assert metres[3] == pytest.approx(math.hypot(1, 3))
    assert np.isinf(metres[1])
    b.door_state[0, 2, 5] = DoorState.OPEN
    who, whom, metres = visible_pairs(b, floor, row, col, observers, targets, SightParams(20, 20))
    # (3, 9) -> (1, 1) threads the open doorway at (2, 5) too.
    assert sorted(zip(who.tolist(), whom.tolist(), strict=True)) == [(0, 1), (0, 2), (3, 1), (3, 2)]


def test_agents_on_other_floors_are_never_seen():
    b = building_from_text(["#####\n#1..>\n#####", "#####\n#1..#\n#####"])
    nearest, _ = nearest_visible(b, np.array([0, 1]), np.array([1, 1]), np.array([2, 2]),
                                 np.array([True, True]), np.array([True, True]))  # fmt: skip
    assert nearest.tolist() == [-1, -1]


def brute_force_pairs(b, floor, row, col, observers, targets, sight, light):
    pairs = {}
    for i in np.flatnonzero(observers):
        for j in np.flatnonzero(targets):
            if i == j or floor[i] != floor[j]:
                continue
            d = math.hypot(row[i] - row[j], col[i] - col[j]) * b.tile_m
            reach = sight.sight_range_lit_m if light[floor[j], row[j], col[j]] else sight.sight_range_dark_m
            if d <= reach and line_of_sight(b, int(floor[i]), int(row[i]), int(col[i]), int(row[j]), int(col[j])):
                pairs[(int(i), int(j))] = d
    return pairs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 2), st.integers(2, 25), st.integers(2, 25)),
    n_agents=st.integers(0, 40),
    lit=st.floats(0.5, 12.0),
    dark=st.floats(0.0, 6.0),
)
def test_batched_sight_matches_brute_force_on_random_maps(spec, n_agents, lit, dark):
    b = random_building(*spec)
    rng = np.random.default_rng(spec[0] + 7)
    floor = rng.integers(0, b.n_floors, n_agents)
    row = rng.integers(0, b.shape[1], n_agents)
    col = rng.integers(0, b.shape[2], n_agents)
    observers = rng.random(n_agents) < 0.6
    targets = rng.random(n_agents) < 0.6
    light = rng.random(b.shape) < 0.5
    sight = SightParams(lit, dark)
    expected = brute_force_pairs(b, floor, row, col, observers, targets, sight, light)
    who, whom, metres = visible_pairs(b, floor, row, col, observers, targets, sight, light=light)
    got = {(int(i), int(j)): float(m) for i, j, m in zip(who, whom, metres, strict=True)}
    assert got.keys() == expected.keys()
    for key, d in expected.items():
        assert got[key] == pytest.approx(d, rel=1e-5)
    nearest, dist = nearest_visible(b, floor, row, col, observers, targets, sight, light=light)
    for i in range(n_agents):
        seen = {j: d for (o, j), d in expected.items() if o == i}
        if not seen:
            assert nearest[i] == -1 and np.isinf(dist[i])
        else:
            assert dist[i] == pytest.approx(min(seen.values()), rel=1e-5)
            assert seen[int(nearest[i])] == pytest.approx(min(seen.values()), rel=1e-5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.tuples(st.integers(0, 2**32 - 1), st.just(1), st.integers(2, 20), st.integers(2, 20)), data=st.data())
def test_line_of_sight_is_symmetric_on_random_maps(spec, data):
    b = random_building(*spec)
    _, rows, cols = b.shape
    for _ in range(20):
        y0, y1 = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, rows - 1))
        x0, x1 = data.draw(st.integers(0, cols - 1)), data.draw(st.integers(0, cols - 1))
        assert line_of_sight(b, 0, y0, x0, y1, x1) == line_of_sight(b, 0, y1, x1, y0, x0)


# --- sound ---------------------------------------------------------------------------------------------------


def test_sound_falls_off_with_distance_by_the_documented_formula():
    b = building_from_text([LONG_HALL])
    params = SoundParams(absorption_db_per_m=0.3, quietest_db=-100.0)
    levels = sound_levels(b, b.flat(0, 1, 1), 80.0, params)
    assert levels.dtype == np.float32 and levels.shape == b.shape
    hall = levels[0, 1, 1:33].astype(np.float64)
    assert (np.diff(hall) < 0).all()
    r = np.arange(32, dtype=np.float64)
    expected = 80.0 - 20 * np.log10(np.maximum(r, 1.0)) - 0.3 * r
    np.testing.assert_allclose(hall, expected, atol=1e-4)
    # A wall tile beside the source is reached through the wall: one wall loss.
    assert levels[0, 0, 1] == pytest.approx(80.0 - params.wall_loss_db - 0.3, abs=1e-4)


def test_quiet_sound_stops_at_the_hearing_floor():
    b = building_from_text([LONG_HALL])
    params = SoundParams(quietest_db=20.0)
    loud = sound_levels(b, b.flat(0, 1, 1), 90.0, params)
    quiet = sound_levels(b, b.flat(0, 1, 1), 30.0, params)
    assert np.isfinite(quiet).sum() < np.isfinite(loud).sum()
    assert (quiet[np.isfinite(quiet)] >= 20.0).all()
    assert np.isneginf(quiet[0, 1, 30])
    assert np.isneginf(sound_levels(b, b.flat(0, 1, 1), 10.0, params)).all()


def test_closed_door_muffles_sound_more_than_an_open_one():
    b = building_from_text([TWO_ROOMS])
    src = b.flat(0, 2, 2)
    closed = sound_levels(b, src, 80.0)[0, 2, 8]
    b.door_state[0, 2, 5] = DoorState.OPEN
    opened = sound_levels(b, src, 80.0)[0, 2, 8]
    assert opened - closed == pytest.approx(SoundParams().door_closed_loss_db, abs=0.5)
    # Through a wall the sound is fainter still (next room, behind the wall, door still open).
    b.door_state[0, 2, 5] = DoorState.CLOSED
    wall = SoundParams(door_closed_loss_db=60.0)
    leak = sound_levels(b, src, 80.0, wall)[0, 2, 8]
    # The detour round the door frame is 6.8 m instead of 6 m: a little more spreading and absorption.
    assert leak < closed and leak == pytest.approx(opened - wall.wall_loss_db, abs=2.0)


def test_sound_is_lower_upstairs():
    b = building_from_text(["#######\n#1....>\n#######", "#######\n#1....#\n#######"])
    params = SoundParams(quietest_db=-50.0)
    levels = sound_levels(b, b.flat(0, 1, 4), 70.0, params)
    assert levels[1, 1, 4] < levels[0, 1, 4] - params.stairs_loss_db
    assert levels[1, 1, 1] < levels[0, 1, 1]
    # The far end upstairs: down the stairs' extra length and loss.
    r = 3 + params.stairs_length_m + 3
    expected = 70 - 20 * math.log10(r) - params.absorption_db_per_m * r - params.stairs_loss_db
    assert levels[1, 1, 4] == pytest.approx(expected, abs=1e-3)


# A random building of 1 to 3 floors, a source tile drawn from its seed, and a level of 0 to 140 dB.
_BUILDING_SPEC = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 15), st.integers(2, 15))
_noises = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
    given(spec=_BUILDING_SPEC, level=st.floats(0, 140))
)


def _building_and_source(spec: tuple[int, int, int, int]):
    b = random_building(*spec)
    return b, int(np.random.default_rng(spec[0]).integers(b.tiles.size))


@_noises
def test_sound_levels_are_bounded_and_fall_away_from_the_source(spec, level):
    b, src = _building_and_source(spec)
    params = SoundParams()
    levels = sound_levels(b, src, level, params)
    heard = levels[np.isfinite(levels)]
    assert (heard <= level + 1e-4).all() and (heard >= params.quietest_db - 1e-4).all()
    if level >= params.quietest_db:
        assert levels.ravel()[src] == pytest.approx(level)


@_noises
def test_a_sound_written_where_it_reaches_is_the_whole_field_there_and_nothing_elsewhere(spec, level):
    # The school keeps sound rows silent except where their last noise reached, and writes a new noise
    # only there (`sound_reach`): it must give exactly the field's levels on exactly its heard tiles.
    b, src = _building_and_source(spec)
    field, met = sound_field(b, src, level)
    row = np.full(b.tiles.size, 7.0, dtype=np.float32)  # a value no sound writes
    reached, met_too = sound_reach(b, src, level, SoundParams(), out=row)
    assert np.array_equal(np.sort(reached), np.flatnonzero(np.isfinite(field)))
    assert np.array_equal(row[reached], field.ravel()[reached])
    untouched = np.ones(b.tiles.size, dtype=bool)
    untouched[reached] = False
    assert (row[untouched] == 7.0).all()
    assert np.array_equal(met_too, met)


def test_bad_positions_are_refused():
    b = building_from_text([TWO_ROOMS])
    with pytest.raises(IndexError):
        nearest_visible(b, np.array([0]), np.array([99]), np.array([1]), np.array([True]), np.array([True]))
    with pytest.raises(ValueError):
        nearest_visible(b, np.array([0, 0]), np.array([1, 1]), np.array([1, 2]), np.array([True]), np.array([True]))
    with pytest.raises(IndexError):
        sound_levels(b, b.tiles.size, 80.0)


# --- open rectangles -----------------------------------------------------------------------------------


def test_open_rectangles_split_the_rooms_into_tiles_that_all_see_each_other():
    # The sight shortcut of the school kernel: two tiles of one rectangle need no line traced, so every
    # pair in one must see each other, and the rectangles must cover each room exactly once.
    from hyosan.scenario import load_scenario
    from hyosan.world import build_building

    b = build_building(load_scenario("hyosan-high"))
    rects = open_rectangles(b)
    covered = rects >= 0
    assert covered.any()
    assert not (covered & (b.room_of < 0)).any()
    assert not (covered & np.isin(b.tiles, [Tile.WALL, Tile.VOID, Tile.DOOR])).any()
    rng = np.random.default_rng(0)
    for k in rng.choice(rects.max() + 1, 60, replace=False):
        f, y, x = np.nonzero(rects == k)
        assert len(np.unique(f)) == 1 and len(np.unique(b.room_of[f, y, x])) == 1
        # A rectangle: its tiles fill their bounding box.
        assert len(f) == (y.max() - y.min() + 1) * (x.max() - x.min() + 1)
        for _ in range(20):
            i, j = rng.integers(0, len(f), 2)
            assert line_of_sight(b, int(f[i]), int(y[i]), int(x[i]), int(y[j]), int(x[j]))


def test_a_sound_field_names_the_doors_it_depends_on():
    # Changing a door the search never met leaves the field as it was; the doors it met are all doors.
    b = random_building(3, 2, 20, 30)
    rng = np.random.default_rng(1)
    doors = np.flatnonzero(b.tiles.ravel() == Tile.DOOR)
    open_tiles = np.flatnonzero(b.tiles.ravel() == Tile.FLOOR)
    for source in rng.choice(open_tiles, 20, replace=False):
        field, met = sound_field(b, int(source), 60.0)
        field = field.copy()
        assert np.isin(met, doors).all() and len(np.unique(met)) == len(met)
        unmet = np.setdiff1d(doors, met)
        saved = b.door_state.copy()
        b.door_state.ravel()[unmet] = rng.integers(0, 5, unmet.size)
        assert np.array_equal(sound_levels(b, int(source), 60.0), field)
        b.door_state[...] = saved
