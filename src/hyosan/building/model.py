"""The physical school as arrays: tiles per floor, rooms, doors, stairs and exits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

__all__ = ["Building", "DoorState", "Room", "Tile"]


class Tile(IntEnum):
    """What a tile is made of. Stored as uint8 in `Building.tiles`."""

    VOID = 0  # nothing there (outside the footprint of an upper floor)
    WALL = 1
    FLOOR = 2
    DOOR = 3  # its state lives in `Building.door_state`
    WINDOW = 4  # glass: see through, not walk through
    STAIRS = 5  # linked to the floor above/below through `Building.stairs`
    EXIT = 6  # walkable; stepping on it leaves the building


class DoorState(IntEnum):
    """State of a door tile. Stored as uint8 in `Building.door_state`."""

    OPEN = 0
    CLOSED = 1
    LOCKED = 2
    BARRICADED = 3  # closed and blocked; `Building.barricade_strength` says how much
    BROKEN = 4  # smashed: passable like an open door, cannot be closed again


WALKABLE_TILES = (Tile.FLOOR, Tile.STAIRS, Tile.EXIT)
# By tile value: a table look-up is many times quicker than `np.isin`, and set-up asks often.
_WALKABLE = np.zeros(256, dtype=np.bool_)
_WALKABLE[list(WALKABLE_TILES)] = True


@dataclass(frozen=True)
class Room:
    """A named open space bounded by walls, doors and windows."""

    name: str
    floor: int  # index into Building.floor_names
    light: bool  # lights on at the start
    label: str | None  # map symbol that marked it; None for unlabelled corridors
    anchor: tuple[int, int]  # (row, col) of a tile inside, 0-based
    area_tiles: int


@dataclass
class Building:
    """A multi-floor building: every floor padded to one (rows, cols) shape so a tile has one flat index.

    Flat index of tile (f, y, x) is ``(f * rows + y) * cols + x``.
    """

    name: str
    floor_names: list[str]
    tiles: np.ndarray  # (F, H, W) uint8, Tile
    room_of: np.ndarray  # (F, H, W) int32, index into `rooms`, -1 for walls/doors/windows/void
    rooms: list[Room]
    door_state: np.ndarray  # (F, H, W) uint8, DoorState where tiles == DOOR, 0 elsewhere
    barricade_strength: np.ndarray  # (F, H, W) float32, newtons-equivalent; 0 if not barricaded
    stairs: np.ndarray  # (n, 2) int64 flat indices: tile a on one floor links tile b on the next
    stair_id: np.ndarray  # (F, H, W) int8, stairwell symbol digit, -1 elsewhere
    tile_m: float = 1.0
    room_light: np.ndarray = field(init=False)  # (n_rooms,) bool, lights on/off per room

    def __post_init__(self) -> None:
        self.room_light = np.array([r.light for r in self.rooms], dtype=np.bool_)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.tiles.shape  # type: ignore[return-value]

    @property
    def n_floors(self) -> int:
        return self.tiles.shape[0]

    def flat(self, f: int, y: int, x: int) -> int:
        _, h, w = self.tiles.shape
        return (f * h + y) * w + x

    def unflat(self, i: int) -> tuple[int, int, int]:
        _, h, w = self.tiles.shape
        f, rest = divmod(int(i), h * w)
        y, x = divmod(rest, w)
        return f, y, x

    @property
    def walkable(self) -> np.ndarray:
        """(F, H, W) bool: tiles a person can stand on (doors excluded; they depend on state)."""
        return _WALKABLE[self.tiles]

    @property
    def exits(self) -> np.ndarray:
        """Flat indices of exit tiles."""
        return np.flatnonzero(self.tiles == Tile.EXIT)

    @property
    def doors(self) -> np.ndarray:
        """(n, 3) int (floor, row, col) of every door tile."""
        return np.argwhere(self.tiles == Tile.DOOR)

    def light(self) -> np.ndarray:
        """(F, H, W) bool: is this tile lit now? Doors and windows take the light of a lit neighbour room."""
        lit = np.zeros(self.tiles.shape, dtype=np.bool_)
        inside = self.room_of >= 0
        lit[inside] = self.room_light[self.room_of[inside]]
        # Doors/windows/walls: lit if any 4-neighbour is lit, so a zombie in a doorway is seen.
        spill = lit.copy()
        spill[:, 1:, :] |= lit[:, :-1, :]
        spill[:, :-1, :] |= lit[:, 1:, :]
        spill[:, :, 1:] |= lit[:, :, :-1]
        spill[:, :, :-1] |= lit[:, :, 1:]
        return np.where(inside, lit, spill)

    def room_index(self, name: str) -> int:
        for i, r in enumerate(self.rooms):
            if r.name == name:
                return i
        raise KeyError(name)

    def capacity(self, people_per_tile: float) -> int:
        """How many people fit standing on walkable tiles at the given density."""
        area_m2 = int(self.walkable.sum()) * self.tile_m**2
        return int(area_m2 * people_per_tile)
