"""From a validated scenario to the world it describes: the building, cross-checks, and a description."""

from __future__ import annotations

import copy
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from hyosan.building.floorplan import FloorSpec, RoomSpec, assemble_building, read_floor_plan
from hyosan.building.model import Building, DoorState, Tile
from hyosan.errors import UserInputError
from hyosan.scenario import Scenario

__all__ = ["ROLES", "WorldDescription", "build_building", "count_people", "describe_world"]

ROLES = ("student", "teacher", "staff", "soldier")
MAX_ROSTER_BYTES = 50_000_000
_DOOR_STATES = {
    "open": DoorState.OPEN,
    "closed": DoorState.CLOSED,
    "locked": DoorState.LOCKED,
    "barricaded": DoorState.BARRICADED,
}


@dataclass
class WorldDescription:
    """What `hyosan check` prints: the shape of the world a scenario describes."""

    scenario: str
    description: str
    floors: list[tuple[str, int, int, int]]  # name, rows, cols, walkable tiles
    rooms: list[tuple[str, str, int, bool]]  # name, floor, area in tiles, light
    doors: Counter[str]
    stairwells: dict[int, list[str]]  # stairwell id -> floor names
    exits: int
    capacity: int
    people: Counter[str]
    tile_m: float
    events: list[tuple[float, str, str]] = field(default_factory=list)  # at (s), kind, where


def build_building(scenario: Scenario) -> Building:
    """Read the scenario's floor plans into a `Building` and apply its door settings.

    Each call returns a building of its own (a run changes its doors); the plans are read once per
    scenario content (its hash covers the map files), so a sweep's runs do not read them again.
    """
    key = scenario.content_hash()
    built = _BUILT.get(key)
    if built is None:
        built = _read_building(scenario)
        # Shared by every copy (see `_copy_building`): read-only, so that no run can change it for the next.
        built.stairs.flags.writeable = False
        _BUILT[key] = built
        if len(_BUILT) > 4:
            _BUILT.popitem(last=False)
    return _copy_building(built)


def _copy_building(built: Building) -> Building:
    """A copy of `built` a run may change: its arrays copied, the immutable parts shared.

    Quicker than a deep copy (rooms are frozen), and the shared stairs array keeps the stair links
    that `hyosan.building.navigation` caches by that array valid from one run to the next.
    """
    fresh = copy.copy(built)
    for name, value in vars(built).items():  # (every array and list, whatever fields `Building` gains)
        if isinstance(value, np.ndarray) and value is not built.stairs:
            setattr(fresh, name, value.copy(order="K"))
        elif isinstance(value, list):
            setattr(fresh, name, list(value))
    return fresh


_BUILT: OrderedDict[str, Building] = OrderedDict()


def _read_building(scenario: Scenario) -> Building:
    specs = [
        FloorSpec(
            name=f.name,
            map=f.map,
            rooms={k: RoomSpec(v.name, v.light) for k, v in f.rooms.items()},
            layer=f.layer,
            corridor_light=scenario.world.corridor_light,
        )
        for f in scenario.world.floors
    ]
    names = [f.name for f in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise scenario.error(
                f"floor name {name!r} is used twice; floor names must be unique",
                "world",
                "floors",
                i,
                "name",
            )
    plans = []
    for i, spec in enumerate(specs):
        try:
            plans.append(read_floor_plan(spec))
        except UserInputError as exc:
            if exc.message.endswith("map file not found"):
                # Point at the scenario line that names the missing file: that is what to fix.
                raise scenario.error(
                    f"floor {spec.name!r}: map file not found: {spec.map}",
                    "world",
                    "floors",
                    i,
                    "map",
                ) from None
            raise
    building = assemble_building(scenario.name, specs, plans, scenario.world.tile_m)
    _apply_doors(scenario, building)
    _check_events(scenario, building)
    return building


def count_people(scenario: Scenario) -> Counter[str]:
    """People by role: the counts, with the named people (characters, roster) counted in (see `role_counts`)."""
    people = scenario.people
    if people.roster is None and not people.characters:
        counts = Counter(
            {
                "student": people.students,
                "teacher": people.teachers,
                "staff": people.staff,
                "soldier": people.soldiers,
            }
        )
        return +counts
    return _roster_roles(scenario)


def describe_world(scenario: Scenario, building: Building | None = None) -> WorldDescription:
    """Build (if needed) and summarise the world of a scenario, checking that its people fit."""
    building = building or build_building(scenario)
    people = count_people(scenario)
    capacity = building.capacity(scenario.world.max_density)
    total = sum(people.values())
    if total > capacity:
        raise scenario.error(
            f"{total:,} people do not fit: the building holds {capacity:,} at {scenario.world.max_density:g} "
            "people per square metre (world.max_density); add floors or reduce the people",
            "people",
        )
    walkable = building.walkable
    floors = [
        (name, *_floor_extent(building.tiles[f]), int(walkable[f].sum())) for f, name in enumerate(building.floor_names)
    ]
    rooms = [(r.name, building.floor_names[r.floor], r.area_tiles, r.light) for r in building.rooms]
    door_tiles = building.tiles == Tile.DOOR
    doors = Counter(DoorState(int(s)).name.lower() for s in building.door_state[door_tiles])
    stairwells: dict[int, list[str]] = {}
    for f, name in enumerate(building.floor_names):
        for sid in np.unique(building.stair_id[f][building.stair_id[f] >= 0]):
            stairwells.setdefault(int(sid), []).append(name)
    events = [(e.at, e.kind, e.room or "") for e in scenario.events]
    return WorldDescription(
        scenario=scenario.name,
        description=scenario.description,
        floors=floors,
        rooms=rooms,
        doors=doors,
        stairwells=dict(sorted(stairwells.items())),
        exits=int(building.exits.size),
        capacity=capacity,
        people=people,
        tile_m=building.tile_m,
        events=events,
    )


# --- helpers -----------------------------------------------------------------------------------


def _floor_extent(tiles: np.ndarray) -> tuple[int, int]:
    used = np.argwhere(tiles != Tile.VOID)
    if used.size == 0:
        return 0, 0
    return int(used[:, 0].max()) + 1, int(used[:, 1].max()) + 1


def _apply_doors(scenario: Scenario, building: Building) -> None:
    floor_index = {name: i for i, name in enumerate(building.floor_names)}
    _, rows, cols = building.shape
    for i, door in enumerate(scenario.world.doors):
        if door.floor not in floor_index:
            raise scenario.error(
                f"no floor named {door.floor!r}; floors: {', '.join(building.floor_names)}",
                "world",
                "doors",
                i,
                "floor",
            )
        f, y, x = floor_index[door.floor], door.row - 1, door.col - 1
        if not (y < rows and x < cols) or building.tiles[f, y, x] != Tile.DOOR:
            raise scenario.error(
                f"world.doors[{i}]: floor {door.floor!r} row {door.row} column {door.col} is not a door on the map",
                "world",
                "doors",
                i,
            )
        building.door_state[f, y, x] = _DOOR_STATES[door.state]
        if door.state == "barricaded":
            strength = (
                door.barricade_strength if door.barricade_strength is not None else 4 * scenario.zombie.door_break_time
            )
            building.barricade_strength[f, y, x] = strength
        elif door.barricade_strength is not None:
            raise scenario.error(
                "barricade_strength only applies to barricaded doors",
                "world",
                "doors",
                i,
                "barricade_strength",
            )


def _check_events(scenario: Scenario, building: Building) -> None:
    names = [r.name for r in building.rooms]
    for i, event in enumerate(scenario.events):
        for key in ("room", "taken_to"):
            value = getattr(event, key)
            if value is not None and value not in names:
                import difflib

                hint = difflib.get_close_matches(value, names, n=1)
                did = f"; did you mean {hint[0]!r}?" if hint else ""
                raise scenario.error(f"events[{i}].{key}: no room named {value!r}{did}", "events", i, key)
        if event.at > scenario.run.duration:
            raise scenario.error(
                f"events[{i}] happens at {event.at:g} s, after the end of the run ({scenario.run.duration:g} s)",
                "events",
                i,
                "at",
            )


def _roster_roles(scenario: Scenario) -> Counter[str]:
    from hyosan.people.roster import role_counts  # reads and checks the roster, ties and characters files

    return role_counts(scenario)
