"""Senses: who sees whom (line of sight, light, sight range) and how loud a noise is everywhere in the building.

Sight is tested pair by pair, never as a field of view per agent: a uniform-grid spatial hash (cells
about one sight range wide) gives each observer the few targets within range, and a line is traced
only for those, nearest first, until one is visible. Lines are integer Bresenham lines on one floor,
made symmetric by accepting either direction's line (A sees B exactly when B sees A, all else equal);
a diagonal step through a crack between two opaque tiles is blocked. Walls, void and closed, locked or
barricaded doors block sight; floor, stairs, exits, windows and open or broken doors let it through.
Range depends on the light at the target: `SightParams.sight_range_lit_m` in a lit tile,
`SightParams.sight_range_dark_m` in the dark. `open_rectangles` splits each room into rectangles with
nothing opaque in them, within which everyone sees everyone: the school kernel traces no line there.

Why: a field of view per agent is the wrong shape of work. Measured on the default Hyosan High with
1,000 agents (500 people, 500 zombies on random walkable tiles, each side looking for the nearest of
the other), 2 cores, ``python benchmarks/bench_navigation.py --repeat 50`` (best of 50):

==========================================================  =======
both directions with the spatial hash (this module)         0.9 ms
python-tcod 21.2 ``compute_fov`` radius 15, once per agent  10.4 ms
==========================================================  =======

and tcod's field of view would still leave the nearest target to be found, on a floor at a time.

Sound is a Dijkstra over attenuation from the source (see `sound_levels` for the formula) that stops
at the hearing floor, on search arrays reused between calls: a 100 dB phone in classroom 2-5 costs
0.10 ms, a 40 dB whisper 0.01 ms (medians, ``python benchmarks/bench_navigation.py --repeat 50``).
`sound_field` also names the doors the search looked at: the field holds for as long as those doors
are as they were, whatever the others do. The school makes some 700 noises a run, so the kernel is
tuned, every step checked to give the same levels and doors to the bit: a table of spreading losses
instead of two log10 per tile, the heap keyed by the bits of the loss (integer compares), unsigned
indices (no test for negative indexing), and the eight neighbours of a tile with no door beside it
weighed without a branch. Measured on the 691 noises of a default run (seed 1), replayed alone on 2
cores: 64 ns per tile heard (215 µs a noise) where a plain search took 121 ns (410 µs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from hyosan.building.model import Building, DoorState, Tile
from hyosan.building.navigation import _DX, _DY, _positions, _stair_links
from hyosan.libm import log10

__all__ = [
    "LINE_CLEAR",
    "LINE_SHUT",
    "LINE_WALLED",
    "PERSON_SIGHT",
    "ZOMBIE_SIGHT",
    "SightParams",
    "SoundParams",
    "can_see",
    "line_of_sight",
    "nearest_visible",
    "open_rectangles",
    "search_into",
    "sound_field",
    "sound_levels",
    "sound_reach",
    "sound_search",
    "visible_pairs",
]


@dataclass(frozen=True)
class SightParams:
    """How far an observer sees: to a target in a lit tile, and to one in the dark (metres)."""

    sight_range_lit_m: float = 20.0
    sight_range_dark_m: float = 3.0

    def __post_init__(self) -> None:
        if not (0 <= self.sight_range_lit_m < math.inf and 0 <= self.sight_range_dark_m < math.inf):
            raise ValueError(f"sight ranges must be finite and non-negative, got {self}")


PERSON_SIGHT = SightParams(sight_range_lit_m=30.0, sight_range_dark_m=4.0)
"""A person (the scenario's ``people.sight_range_*`` defaults)."""

ZOMBIE_SIGHT = SightParams(sight_range_lit_m=25.0, sight_range_dark_m=2.0)
"""A zombie: sees well in the light, barely in the dark (the scenario's ``zombie.sight_range_*`` defaults)."""


@dataclass(frozen=True)
class SoundParams:
    """How a noise travels through the building. Levels in dB, distances in metres.

    Defaults: absorption of a furnished school interior (hard corridors carry sound far, but people,
    furniture and turns soak some of it up: 0.3 dB/m); a block or brick partition wall loses about
    40 dB per wall tile crossed; a closed wooden classroom door about 20 dB (a barricade of desks
    adds a little); closed glass 25 dB; each flight of stairs 10 dB on top of its length.
    """

    reference_m: float = 1.0  # `level_db` of a source is its level at this distance
    absorption_db_per_m: float = 0.3
    wall_loss_db: float = 40.0
    door_closed_loss_db: float = 20.0
    door_locked_loss_db: float = 20.0
    door_barricaded_loss_db: float = 25.0
    window_loss_db: float = 25.0
    stairs_loss_db: float = 10.0  # per flight, on top of spreading and absorption over `stairs_length_m`
    stairs_length_m: float = 7.0
    quietest_db: float = 15.0  # below this nobody reacts; the search stops here

    def __post_init__(self) -> None:
        for name in (
            "reference_m",
            "absorption_db_per_m",
            "wall_loss_db",
            "door_closed_loss_db",
            "door_locked_loss_db",
            "door_barricaded_loss_db",
            "window_loss_db",
            "stairs_loss_db",
            "stairs_length_m",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"SoundParams.{name} must be non-negative, got {value!r}")
        if not self.reference_m > 0:
            raise ValueError("SoundParams.reference_m must be positive")
        if math.isnan(self.quietest_db):
            raise ValueError("SoundParams.quietest_db must be a number")


def line_of_sight(building: Building, f: int, y0: int, x0: int, y1: int, x1: int) -> bool:
    """Can light travel between the centres of (f, y0, x0) and (f, y1, x1)? Symmetric; range is not checked."""
    n_floors, rows, cols = building.shape
    if not 0 <= f < n_floors:
        raise IndexError(f"floor {f} is not one of the building's {n_floors} floors")
    for y, x in ((y0, x0), (y1, x1)):
        if not (0 <= y < rows and 0 <= x < cols):
            raise IndexError(f"tile ({y}, {x}) is outside the {rows} x {cols} floor")
    return bool(
        _line_of_sight(building.tiles.ravel(), building.door_state.ravel(), f * rows * cols, cols, y0, x0, y1, x1)
    )


def can_see(
    building: Building,
    f: int,
    y0: int,
    x0: int,
    y1: int,
    x1: int,
    sight: SightParams = SightParams(),
    light: np.ndarray | None = None,
) -> bool:
    """Does an observer at (f, y0, x0) see a target at (f, y1, x1): in range for the target's light, and a clear line?"""
    lit = bool((building.light() if light is None else light)[f, y1, x1])
    reach = sight.sight_range_lit_m if lit else sight.sight_range_dark_m
    if math.hypot(y1 - y0, x1 - x0) * building.tile_m > reach:
        return False
    return line_of_sight(building, f, y0, x0, y1, x1)


def nearest_visible(
    building: Building,
    floor: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    observers: np.ndarray,
    targets: np.ndarray,
    sight: SightParams = SightParams(),
    *,
    light: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For every observer, the nearest target it sees: (agent index or -1, distance in metres or inf).

    ``floor``, ``row``, ``col``: positions of all agents; ``observers`` and ``targets``: bool masks over
    the same agents (an agent never sees itself). ``light``: `Building.light()`, computed if omitted.
    Non-observers get -1 / inf.
    """
    args = _sight_args(building, floor, row, col, observers, targets, sight, light)
    n = args[5].size
    nearest = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.inf, dtype=np.float32)
    _nearest_kernel(*args, nearest, distance)
    return nearest, distance


def visible_pairs(
    building: Building,
    floor: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    observers: np.ndarray,
    targets: np.ndarray,
    sight: SightParams = SightParams(),
    *,
    light: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (observer, target) pair in sight: three arrays (observer index, target index, metres), by observer."""
    args = _sight_args(building, floor, row, col, observers, targets, sight, light)
    capacity = max(64, 8 * int(np.count_nonzero(args[8])))
    while True:
        who = np.empty(capacity, dtype=np.int64)
        whom = np.empty(capacity, dtype=np.int64)
        metres = np.empty(capacity, dtype=np.float32)
        found = _pairs_kernel(*args, who, whom, metres)
        if found <= capacity:
            return who[:found], whom[:found], metres[:found]
        capacity = found  # the buffer was too small: run again with room for every pair


def open_rectangles(building: Building) -> np.ndarray:
    """(F, H, W) int32: the tiles of each room split into disjoint rectangles with nothing opaque in them; -1 elsewhere.

    Two tiles of one such rectangle always see each other (a line between them never leaves it), so a
    sight test between them needs no trace: the rectangles are a shortcut, never a change of who sees whom.
    """
    return _rectangles(building.room_of, building.tiles)


def sound_levels(
    building: Building,
    source_flat: int | np.ndarray,
    level_db: float,
    params: SoundParams = SoundParams(),
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """(F, H, W) float32 sound level in dB everywhere a noise of ``level_db`` (at ``reference_m``) is heard.

    The level at a tile is the source level minus the loss along the path of least loss to it::

        L = level_db − 20·log10(max(r, r0) / r0) − a·r − Σ wall_loss − Σ door_loss − Σ window_loss − k·stairs_loss

    where r is the length of the path in metres (``tile_m`` per straight step, ``√2·tile_m`` per
    diagonal, ``stairs_length_m`` per flight), r0 = ``reference_m``, a = ``absorption_db_per_m``, and
    the sums run over the wall, closed-door and window tiles the path enters (open and broken doors
    cost nothing) and the k flights of stairs it takes. Void blocks sound. A diagonal step is taken
    only between open tiles, so sound cannot slip through a crack between two walls.

    The path is found by Dijkstra on the total loss: each tile keeps the least-loss path found when it
    is settled (the spreading term makes the loss not quite additive, so this is the greedy choice,
    exact along any single corridor). The search stops once the loss exceeds
    ``level_db − quietest_db``; tiles it did not reach are ``-inf`` (silent).
    ``source_flat``: flat tile index of the noise, or several for one noise spread over tiles.
    ``out``: an (F, H, W) float32 array to write into instead of a new one (e.g. a row of a lure table).
    """
    return sound_field(building, source_flat, level_db, params, out=out)[0]


def sound_field(
    building: Building,
    source_flat: int | np.ndarray,
    level_db: float,
    params: SoundParams = SoundParams(),
    *,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`sound_levels`, and the flat indices of the door tiles whose state the levels depend on.

    Those are the doors the search looked at (beside a tile it reached, or on its way): a noise made
    again at the same place, with those doors as they were, spreads exactly the same way whatever the
    other doors do, which is what makes a cache of fields worth keeping.
    """
    if out is None:
        out = np.empty(building.shape, dtype=np.float32)
    _, doors_read = _search(building, source_flat, level_db, params, out, True)
    return out.reshape(building.shape), doors_read


def sound_reach(
    building: Building, source_flat: int, level_db: float, params: SoundParams, *, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`sound_field` written only where the noise reaches: returns (the flat indices of the tiles it
    reached, the door tiles it read), and leaves every other tile of `out` as it was.

    A noise reaches a few thousand of the default school's 66,360 tiles: a caller that keeps its fields
    as rows already silent (-inf) where the last noise did not reach, and clears only the tiles that
    noise reached, spares a write of the whole row per noise, and can keep a field as the reached
    tiles and their levels rather than a copy of the row (`SchoolSim._add_sound`).
    """
    return _search(building, source_flat, level_db, params, out, False)


# --- helpers -------------------------------------------------------------------------------------------------


def _search(
    building: Building, source_flat: int | np.ndarray, level_db: float, params: SoundParams, out: np.ndarray,
    clear: bool,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The sound search into `out` (all of it first set to -inf if `clear`); (reached tiles, door tiles read)."""
    n = building.tiles.size
    if isinstance(source_flat, (int, np.integer)):  # the usual single tile: no array round trip to check it
        src = np.array([source_flat], dtype=np.int64)
        if not 0 <= source_flat < n:
            raise IndexError("sound_levels: source tile index out of range")
    else:
        src = np.atleast_1d(np.asarray(source_flat, dtype=np.int64)).ravel()
        if src.size and (src.min() < 0 or src.max() >= n):
            raise IndexError("sound_levels: source tile index out of range")
    if out.dtype != np.float32 or out.size != n or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of {n} tiles")
    search = sound_search(building, params)
    n_doors, n_reached = search_into(search, src, float(level_db), out.reshape(-1), clear)
    touched, doors_read = search[6], search[9]  # (the kernel lists the tiles it reached, and the doors it read)
    return touched[:n_reached].copy(), doors_read[:n_doors].copy()


def sound_search(building: Building, params: SoundParams) -> tuple:
    """What a sound search in `building` reads besides its source, level and output, for `search_into`.

    Its work arrays (shared by every search of this size), the tiles, the doors (a flat view of
    ``building.door_state``: a caller that keeps the tuple sees the doors as they are when it searches,
    as long as the building keeps that array), the losses and the stairs. After a search, item 6 lists
    the tiles it reached and item 9 the door tiles it read (`search_into` returns how many of each).
    """
    # (Each attribute read once: the school calls this for every kernel call that may ring a noise.)
    shape = building.shape
    _, rows, cols = shape
    tiles = building.tiles.ravel()
    stair_ptr, stair_to = _stair_links(building)
    loss_by_tile, loss_by_state = _sound_losses(params)
    if tiles.dtype != np.uint8:  # `Tile` codes are bytes; any other value is open ground, as code 255 is
        tiles = np.where((tiles >= 0) & (tiles <= 255), tiles, 255).astype(np.uint8)
    return (
        *_sound_workspace(tiles.size),
        tiles,
        loss_by_tile,
        building.door_state.reshape(-1),
        loss_by_state,
        _sound_flags(shape, stair_ptr),
        rows,
        cols,
        float(building.tile_m),
        float(params.reference_m),
        float(params.absorption_db_per_m),
        float(params.stairs_loss_db),
        float(params.stairs_length_m),
        float(params.quietest_db),
        stair_ptr,
        stair_to,
    )


@nb.njit(cache=True)
def search_into(search, src, level_db, out, clear):
    """The sound search of `sound_search`'s tuple from the tiles `src` at `level_db` into the flat row `out`
    (all of it first set to -inf if `clear`, else only the tiles reached): (doors read, tiles reached)."""
    (loss, path_m, walls_db, heap, heap_key, pos, touched, door_seen, spread, doors_read, tiles, loss_by_tile, doors,
     loss_by_state, flags, rows, cols, tile_m, reference_m, absorption, stairs_db, stairs_m, quietest_db, stair_ptr,
     stair_to) = search  # fmt: skip
    return _sound_kernel(loss, path_m, walls_db, heap, heap_key, pos, touched, door_seen, spread, doors_read, tiles,
                         loss_by_tile, doors, loss_by_state, flags, rows, cols, tile_m, src, level_db, reference_m,
                         absorption, stairs_db, stairs_m, quietest_db, stair_ptr, stair_to, out, clear)  # fmt: skip


_WALL = int(Tile.WALL)
_VOID = int(Tile.VOID)
_DOOR = int(Tile.DOOR)
_WINDOW = int(Tile.WINDOW)
_CLOSED = int(DoorState.CLOSED)
_LOCKED = int(DoorState.LOCKED)
_BARRICADED = int(DoorState.BARRICADED)
assert (_LOCKED, _BARRICADED) == (_CLOSED + 1, _CLOSED + 2), "shut door states must be consecutive codes"


def _sight_args(building, floor, row, col, observers, targets, sight, light) -> tuple:
    _, rows, cols = building.shape
    floor, row, col = _positions(building, floor, row, col)
    observers = np.ascontiguousarray(observers, dtype=np.bool_).ravel()
    targets = np.ascontiguousarray(targets, dtype=np.bool_).ravel()
    if not (floor.shape == observers.shape == targets.shape):
        raise ValueError("observers and targets must be masks with one entry per agent")
    if light is not None and np.shape(light) != building.shape:
        raise ValueError(f"light has shape {np.shape(light)}, the building {building.shape}")
    if light is None:
        light = building.light()
    # Cells one sight range wide: an observer's candidates lie in its own cell and the 8 around it.
    cell = max(1, math.ceil(max(sight.sight_range_lit_m, sight.sight_range_dark_m) / building.tile_m))
    return (
        building.tiles.ravel(),
        building.door_state.ravel(),
        np.ascontiguousarray(light, dtype=np.bool_).ravel(),
        rows,
        cols,
        floor,
        row,
        col,
        observers,
        targets,
        float(building.tile_m),
        float(sight.sight_range_lit_m),
        float(sight.sight_range_dark_m),
        cell,
        building.n_floors,
    )


@nb.njit(cache=True, inline="always")
def _opaque(tiles, doors, i):
    t = tiles[i]
    if t == _WALL:
        return True
    if t == _VOID:
        return True
    if t == _DOOR:
        # CLOSED, LOCKED and BARRICADED are consecutive codes (asserted below the constants).
        return _CLOSED <= doors[i] <= _BARRICADED
    return False


# How a traced line ends: it reaches its end, a wall (or void) blocks it, or only shut doors do. A line
# a wall blocks stays blocked whatever the doors do (what `kernel._sees_across` remembers).
LINE_CLEAR, LINE_WALLED, LINE_SHUT = 0, 1, 2


@nb.njit(cache=True, _nrt=False)
def _trace(tiles, doors, base, cols, y0, x0, y1, x1, past_doors=False):
    """Bresenham from (y0, x0) to (y1, x1): is every tile strictly between them transparent? `LINE_CLEAR` if so,
    else what blocks the line: `LINE_WALLED` or `LINE_SHUT`. With `past_doors`, a line a shut door blocks
    is followed on, to tell whether a wall would block it too (then it is `LINE_WALLED`)."""
    dx = abs(x1 - x0)
    dy = abs(y1 - y0)
    sx = 1 if x1 > x0 else -1
    sy = 1 if y1 > y0 else -1
    err = dx - dy
    x = x0
    y = y0
    blocked = LINE_CLEAR
    while True:
        e2 = 2 * err
        step_x = e2 > -dy
        step_y = e2 < dx
        if step_x and step_y:
            # A diagonal step between two opaque tiles is a crack in a wall corner: no light.
            c1 = base + y * cols + x + sx
            c2 = base + (y + sy) * cols + x
            if _opaque(tiles, doors, c1) and _opaque(tiles, doors, c2):
                if tiles[c1] != _DOOR and tiles[c2] != _DOOR:
                    return LINE_WALLED
                if not past_doors:
                    return LINE_SHUT
                blocked = LINE_SHUT
        if step_x:
            err -= dy
            x += sx
        if step_y:
            err += dx
            y += sy
        if x == x1 and y == y1:
            return blocked
        here = base + y * cols + x
        if _opaque(tiles, doors, here):
            if tiles[here] != _DOOR:
                return LINE_WALLED
            if not past_doors:
                return LINE_SHUT
            blocked = LINE_SHUT


@nb.njit(cache=True, _nrt=False)
def _line_of_sight(tiles, doors, base, cols, y0, x0, y1, x1):
    if y0 == y1 and x0 == x1:
        return True
    # Bresenham's tie-breaks depend on direction; accepting either line makes sight symmetric.
    return (
        _trace(tiles, doors, base, cols, y0, x0, y1, x1) == LINE_CLEAR
        or _trace(tiles, doors, base, cols, y1, x1, y0, x0) == LINE_CLEAR
    )


@nb.njit(cache=True)
def _rectangles(room_of, tiles):
    # Greedy, in raster order: from the first tile not yet covered, as far right as the room goes, then as
    # far down as whole rows of it go. Corridors and classrooms come out as one or a few rectangles.
    n_floors, rows, cols = room_of.shape
    out = np.full(room_of.shape, -1, dtype=np.int32)
    k = 0
    for f in range(n_floors):
        for y in range(rows):
            for x in range(cols):
                r = room_of[f, y, x]
                if r < 0 or out[f, y, x] >= 0 or _opaque_kind(tiles[f, y, x]):
                    continue
                x1 = x
                while (
                    x1 + 1 < cols
                    and room_of[f, y, x1 + 1] == r
                    and out[f, y, x1 + 1] < 0
                    and not _opaque_kind(tiles[f, y, x1 + 1])
                ):
                    x1 += 1
                y1 = y
                while y1 + 1 < rows:
                    whole = True
                    for xx in range(x, x1 + 1):
                        if room_of[f, y1 + 1, xx] != r or out[f, y1 + 1, xx] >= 0 or _opaque_kind(tiles[f, y1 + 1, xx]):
                            whole = False
                            break
                    if not whole:
                        break
                    y1 += 1
                out[f, y : y1 + 1, x : x1 + 1] = k
                k += 1
    return out


@nb.njit(cache=True, inline="always")
def _opaque_kind(t):
    return t == _WALL or t == _VOID or t == _DOOR  # a door is opaque when shut: never part of a rectangle


@nb.njit(cache=True)
def _bucket_targets(floor, row, col, targets, cell, n_floors, cells_y, cells_x):
    """Counting sort of the targets into grid cells: CSR (start per cell, agent indices)."""
    n_cells = n_floors * cells_y * cells_x
    start = np.zeros(n_cells + 1, dtype=np.int64)
    for j in range(floor.size):
        if targets[j]:
            start[(floor[j] * cells_y + row[j] // cell) * cells_x + col[j] // cell + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    items = np.empty(start[n_cells], dtype=np.int64)
    for j in range(floor.size):
        if targets[j]:
            c = (floor[j] * cells_y + row[j] // cell) * cells_x + col[j] // cell
            items[fill[c]] = j
            fill[c] += 1
    return start, items


@nb.njit(cache=True)
def _candidates(i, floor, row, col, start, items, light, rows, cols, cell, cells_y, cells_x, tile_m, lit_m, dark_m,
                cand, cand_d2):  # fmt: skip
    """Targets within sight range of observer i (by the light at each target); returns how many."""
    f = floor[i]
    y = row[i]
    x = col[i]
    reach = math.ceil(max(lit_m, dark_m) / tile_m / cell)
    cy = y // cell
    cx = x // cell
    lit2 = lit_m * lit_m
    dark2 = dark_m * dark_m
    m2 = tile_m * tile_m
    base = f * rows * cols
    n = 0
    for gy in range(max(0, cy - reach), min(cells_y, cy + reach + 1)):
        for gx in range(max(0, cx - reach), min(cells_x, cx + reach + 1)):
            c = (f * cells_y + gy) * cells_x + gx
            for s in range(start[c], start[c + 1]):
                j = items[s]
                if j == i:
                    continue
                d2 = ((row[j] - y) ** 2 + (col[j] - x) ** 2) * m2
                if d2 > (lit2 if light[base + row[j] * cols + col[j]] else dark2):
                    continue
                cand[n] = j
                cand_d2[n] = d2
                n += 1
    return n


@nb.njit(cache=True)
def _nearest_kernel(tiles, doors, light, rows, cols, floor, row, col, observers, targets, tile_m, lit_m, dark_m, cell,
                    n_floors, nearest, distance):  # fmt: skip
    cells_y = (rows + cell - 1) // cell
    cells_x = (cols + cell - 1) // cell
    start, items = _bucket_targets(floor, row, col, targets, cell, n_floors, cells_y, cells_x)
    cand = np.empty(items.size + 1, dtype=np.int64)
    cand_d2 = np.empty(items.size + 1, dtype=np.float64)
    for i in range(floor.size):
        if not observers[i]:
            continue
        n = _candidates(i, floor, row, col, start, items, light, rows, cols, cell, cells_y, cells_x, tile_m, lit_m,
                        dark_m, cand, cand_d2)  # fmt: skip
        base = floor[i] * rows * cols
        # Nearest first, so only the candidates closer than the answer pay for a line.
        for _ in range(n):
            best = -1
            for k in range(n):
                if cand_d2[k] == np.inf:
                    continue
                if best < 0 or cand_d2[k] < cand_d2[best] or (cand_d2[k] == cand_d2[best] and cand[k] < cand[best]):
                    best = k
            if best < 0:
                break
            j = cand[best]
            if _line_of_sight(tiles, doors, base, cols, row[i], col[i], row[j], col[j]):
                nearest[i] = j
                distance[i] = math.sqrt(cand_d2[best])
                break
            cand_d2[best] = np.inf


@nb.njit(cache=True)
def _pairs_kernel(tiles, doors, light, rows, cols, floor, row, col, observers, targets, tile_m, lit_m, dark_m, cell,
                  n_floors, who, whom, metres):  # fmt: skip
    cells_y = (rows + cell - 1) // cell
    cells_x = (cols + cell - 1) // cell
    start, items = _bucket_targets(floor, row, col, targets, cell, n_floors, cells_y, cells_x)
    cand = np.empty(items.size + 1, dtype=np.int64)
    cand_d2 = np.empty(items.size + 1, dtype=np.float64)
    found = 0
    for i in range(floor.size):
        if not observers[i]:
            continue
        n = _candidates(i, floor, row, col, start, items, light, rows, cols, cell, cells_y, cells_x, tile_m, lit_m,
                        dark_m, cand, cand_d2)  # fmt: skip
        base = floor[i] * rows * cols
        for k in range(n):
            j = cand[k]
            if _line_of_sight(tiles, doors, base, cols, row[i], col[i], row[j], col[j]):
                if found < who.size:
                    who[found] = i
                    whom[found] = j
                    metres[found] = math.sqrt(cand_d2[k])
                found += 1
    return found


# Per sound parameters (frozen, so kept by identity): the dB lost entering a tile of each kind (walls,
# windows, void; 0 for open ground), -1 for doors, whose loss depends on their state, and the dB lost
# through a door in each state. Indexed by the tile and door codes themselves, so tiles edited in place
# need no check.
_SOUND_LOSSES: dict[int, tuple[SoundParams, np.ndarray, np.ndarray]] = {}


def _sound_losses(params: SoundParams) -> tuple[np.ndarray, np.ndarray]:
    hit = _SOUND_LOSSES.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1], hit[2]
    by_tile = np.zeros(256)
    by_tile[_WALL] = params.wall_loss_db
    by_tile[_VOID] = np.inf
    by_tile[_WINDOW] = params.window_loss_db
    by_tile[_DOOR] = -1.0
    by_state = np.full(256, params.door_closed_loss_db, dtype=np.float64)
    by_state[DoorState.OPEN] = 0.0
    by_state[DoorState.BROKEN] = 0.0
    by_state[DoorState.CLOSED] = params.door_closed_loss_db
    by_state[DoorState.LOCKED] = params.door_locked_loss_db
    by_state[DoorState.BARRICADED] = params.door_barricaded_loss_db
    if len(_SOUND_LOSSES) >= 16:
        _SOUND_LOSSES.clear()
    # Holding the parameters themselves keeps their id from being reused by others.
    _SOUND_LOSSES[id(params)] = (params, by_tile, by_state)
    return by_tile, by_state


_ON_BORDER = 1  # a tile in the first or last row or column of its floor: some neighbours are off the grid
_ON_STAIRS = 2  # a tile with flights of stairs
_SOUND_FLAGS: dict[int, tuple[np.ndarray, tuple[int, ...], np.ndarray]] = {}


def _sound_flags(shape: tuple[int, ...], stair_ptr: np.ndarray) -> np.ndarray:
    """Per tile, `_ON_BORDER` | `_ON_STAIRS`: one byte read per settled tile instead of its row, column and stair range.

    Kept per stair links (cached by `_stair_links` for as long as the stairs array lives) and grid shape.
    """
    hit = _SOUND_FLAGS.get(id(stair_ptr))
    if hit is not None and hit[0] is stair_ptr and hit[1] == shape:
        return hit[2]
    flags = np.zeros(shape, dtype=np.uint8)
    flags[:, 0, :] = flags[:, -1, :] = flags[:, :, 0] = flags[:, :, -1] = _ON_BORDER
    flags = flags.ravel()
    flags[np.diff(stair_ptr) > 0] |= _ON_STAIRS
    if len(_SOUND_FLAGS) >= 16:
        _SOUND_FLAGS.clear()
    _SOUND_FLAGS[id(stair_ptr)] = (stair_ptr, shape, flags)
    return flags


# The spreading loss 20·log10(q) of a path q reference lengths long, by q: a sound's paths are sums of
# the same few steps, so the same lengths come back tile after tile and sound after sound (the 691
# sounds of a default run meet 10,817), and a look-up in this table (direct-mapped by a hash of q's
# bits; both fields 0 until used, and q >= 1 is never 0) is cheaper than a log10: it takes an average
# sound of that run from 260 µs to 215 µs. It holds the very value the log10 gave: the same to the bit.
_SPREAD_SLOTS_LOG2 = 12
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of q's bits times 2^64/φ
_HASH_SHIFT = np.uint64(64 - _SPREAD_SLOTS_LOG2)

_SOUND_WORKSPACE: dict[int, tuple[np.ndarray, ...]] = {}


def _sound_workspace(n: int) -> tuple[np.ndarray, ...]:
    """Search arrays reused between sounds (``loss`` all inf and ``pos`` all -1 between calls).

    Fresh arrays would cost a page fault per 4 KiB touched, most of the time of a quiet sound.
    ``door_seen`` is all zeros between calls too; ``doors_read`` holds the doors the last call read.
    ``spread`` is the table of spreading losses (see `_SPREAD_SLOTS_LOG2`), kept from sound to sound.
    """
    work = _SOUND_WORKSPACE.get(n)
    if work is None:
        if len(_SOUND_WORKSPACE) >= 8:
            _SOUND_WORKSPACE.clear()
        index = np.int32 if n < 2**31 else np.int64  # heap and pos: half the bytes to pull in
        work = (
            np.full(n, np.inf),  # loss
            np.empty(n),  # path_m
            np.empty(n),  # walls_db
            np.empty(n, dtype=index),  # heap
            np.empty(n, dtype=np.int64),  # heap_key
            np.full(n, -1, dtype=index),  # pos
            np.empty(n, dtype=np.int64),  # touched
            np.zeros(n, dtype=np.uint8),  # door_seen
            np.zeros((1 << _SPREAD_SLOTS_LOG2, 2)),  # spread
            np.empty(n, dtype=np.int64),  # doors_read
        )
        _SOUND_WORKSPACE[n] = work
    return work


# The two straight neighbours (k < 4 in `_DY`, `_DX`) at the corners of each diagonal step k >= 4.
_CORNER_Y = np.array([0, 0, 0, 0, 0, 0, 1, 1], dtype=np.int64)
_CORNER_X = np.array([0, 0, 0, 0, 2, 3, 2, 3], dtype=np.int64)
# The lowest set bit of each byte: the next neighbour to push, in order, from a mask of them.
_LOWEST_BIT = np.array([0] + [(m & -m).bit_length() - 1 for m in range(1, 256)], dtype=np.int64)


@nb.njit(cache=True)
def _sound_kernel(loss, path_m, walls_db, heap, heap_key, pos, touched, door_seen, spread, doors_read, tiles,
                  loss_by_tile, doors, loss_by_state, flags, rows, cols, tile_m, src, level_db, reference_m,
                  absorption, stairs_db, stairs_m, quietest_db, stair_ptr, stair_to, out, clear):  # fmt: skip
    """Fill `out` (all of it first set to -inf if `clear`, else only the tiles reached); returns how many
    door tiles it read (listed first in `doors_read`) and how many tiles it reached (first in `touched`).

    A Dijkstra on the loss, the queue a 4-ary heap with decrease-key keyed by the bits of the loss (for
    losses >= 0, as all are, their order as integers is their order as floats, and an integer compare is
    cheaper). Every tile index is cast to unsigned: they are all in range, and a signed index would cost
    a test for Python's negative indexing on every access. The heap is written out here rather than
    called from `navigation._push` / `_pop`: an inlined Numba helper that takes arrays increfs and
    decrefs each of them on every call, atomic operations that took 8% of a profile of the search.
    """
    budget = level_db - quietest_db
    if clear:
        out[:] = -np.inf
    if budget < 0:
        return 0, 0
    n_doors = 0
    n_touched = 0
    size = 0
    for j in range(src.size):
        s = np.uint64(src[j])
        if loss[s] > 0.0:
            loss[s] = 0.0
            path_m[s] = 0.0
            walls_db[s] = 0.0
            touched[n_touched] = s
            n_touched += 1
            heap[size] = s  # key 0 ties with the keys above it: a push is an append
            heap_key[size] = 0
            pos[s] = size
            size += 1
    per_floor = rows * cols
    diag_m = tile_m * math.sqrt(2.0)
    step = np.empty(8, dtype=np.int64)  # flat offset of each neighbour
    for k in range(8):
        step[k] = _DY[k] * cols + _DX[k]
    enter_k = np.empty(8)
    total_k = np.empty(8)
    extra_k = np.empty(8)
    while size > 0:
        # Pop the least loss: the comparisons (first least child wins a tie, stop at a child >= the
        # moved key) are those of `navigation._pop`, so equal losses come out in the same order.
        u = heap[0]
        uu = np.uint64(u)
        pos[uu] = -1
        size -= 1
        if size > 0:
            last = heap[np.uint64(size)]
            key = heap_key[np.uint64(size)]
            i = 0
            while True:
                first = 4 * i + 1
                if first + 3 < size:  # four children: compared in pairs, without branches
                    k0 = heap_key[np.uint64(first)]
                    k1 = heap_key[np.uint64(first + 1)]
                    k2 = heap_key[np.uint64(first + 2)]
                    k3 = heap_key[np.uint64(first + 3)]
                    a = first + 1 if k1 < k0 else first
                    b = first + 3 if k3 < k2 else first + 2
                    ka = min(k0, k1)
                    kb = min(k2, k3)
                    best = b if kb < ka else a
                    best_key = min(ka, kb)
                else:
                    if first >= size:
                        break
                    best = first
                    best_key = heap_key[np.uint64(first)]
                    for c in range(first + 1, size):
                        if heap_key[np.uint64(c)] < best_key:
                            best_key = heap_key[np.uint64(c)]
                            best = c
                if best_key >= key:
                    break
                w = heap[np.uint64(best)]
                heap[np.uint64(i)] = w
                heap_key[np.uint64(i)] = best_key
                pos[np.uint64(w)] = i
                i = best
            heap[np.uint64(i)] = last
            heap_key[np.uint64(i)] = key
            pos[np.uint64(last)] = i
        out[uu] = level_db - loss[uu]
        loss[uu] = -1.0  # settled: no loss is below it, so no relaxation can pass for it either
        flag = flags[uu]
        path_u = path_m[uu]
        walls_u = walls_db[uu]
        # The four straight neighbours share one path length, the four diagonal ones another: their
        # spreading loss is looked up once per settled tile.
        r_straight = path_u + tile_m
        r_diag = path_u + diag_m
        spread_straight = _spread_db(r_straight, reference_m, spread)
        spread_diag = _spread_db(r_diag, reference_m, spread)
        # Which neighbours this tile improves, as a bit mask, with their losses: then pushed in order.
        improved = 0
        slow = True
        if not flag & _ON_BORDER:
            slow = False
            for k in range(8):
                enter = loss_by_tile[tiles[np.uint64(u + step[k])]]
                enter_k[k] = enter
                slow |= enter < 0.0
        if not slow:
            # No door among the neighbours, none off the grid: no door is read, so all eight can be
            # weighed without a branch (a settled one fails `total < loss`, its loss being -1).
            for k in range(8):
                v = np.uint64(u + step[k])
                extra = walls_u + enter_k[k]
                if k < 4:
                    total = extra + absorption * r_straight + spread_straight
                    passes = (total < loss[v]) & (total <= budget)
                else:  # a diagonal step only between open tiles
                    total = extra + absorption * r_diag + spread_diag
                    opened = (enter_k[_CORNER_Y[k]] <= 0.0) & (enter_k[_CORNER_X[k]] <= 0.0)
                    passes = (total < loss[v]) & (total <= budget) & opened
                total_k[k] = total
                extra_k[k] = extra
                improved |= passes << k
        else:
            # Beside a door or the edge of the grid: neighbour by neighbour, reading the doors a plain
            # search reads, in its order (none for a settled neighbour; a diagonal one reads its corners
            # first and stops at a shut one).
            y = 0
            x = 0
            if flag & _ON_BORDER:
                rest = u % per_floor
                y = rest // cols
                x = rest - y * cols
            for k in range(8):
                if flag & _ON_BORDER:
                    yy = y + _DY[k]
                    xx = x + _DX[k]
                    if yy < 0 or yy >= rows or xx < 0 or xx >= cols:
                        continue
                v = u + step[k]
                if loss[np.uint64(v)] < 0.0:
                    continue  # already settled
                if k >= 4:
                    # (The tile-or-door loss is written out at each of its four uses: as an inlined helper
                    # taking the arrays it cost 19% more a search, in reference counting.)
                    c = u + _DY[k] * cols
                    corner = loss_by_tile[tiles[np.uint64(c)]]
                    if corner < 0.0:
                        corner = loss_by_state[doors[np.uint64(c)]]
                        n_doors = _note_door(c, door_seen, doors_read, n_doors)
                    if corner > 0.0:
                        continue
                    c = u + _DX[k]
                    corner = loss_by_tile[tiles[np.uint64(c)]]
                    if corner < 0.0:
                        corner = loss_by_state[doors[np.uint64(c)]]
                        n_doors = _note_door(c, door_seen, doors_read, n_doors)
                    if corner > 0.0:
                        continue
                    r = r_diag
                    spread_k = spread_diag
                else:
                    r = r_straight
                    spread_k = spread_straight
                enter = loss_by_tile[tiles[np.uint64(v)]]
                if enter < 0.0:  # a door: its loss depends on its state
                    enter = loss_by_state[doors[np.uint64(v)]]
                    n_doors = _note_door(v, door_seen, doors_read, n_doors)
                extra = walls_u + enter
                total = extra + absorption * r + spread_k
                if total < loss[np.uint64(v)] and total <= budget:
                    total_k[k] = total
                    extra_k[k] = extra
                    improved |= 1 << k
        # Push the improved neighbours in order, then take the flights of stairs one by one, as a
        # plain search does (one push site for both: the heap code is written out only here).
        e = stair_ptr[uu] if flag & _ON_STAIRS else 0
        e_end = stair_ptr[uu + np.uint64(1)] if flag & _ON_STAIRS else 0
        while True:
            if improved:
                k = _LOWEST_BIT[improved]
                improved &= improved - 1
                v = u + step[k]
                total = total_k[k]
                extra = extra_k[k]
                r = r_straight if k < 4 else r_diag
            else:
                v = -1
                while e < e_end:
                    w = stair_to[e]
                    e += 1
                    if loss[np.uint64(w)] < 0.0:
                        continue  # already settled
                    r = path_u + stairs_m
                    enter = loss_by_tile[tiles[np.uint64(w)]]
                    if enter < 0.0:
                        enter = loss_by_state[doors[np.uint64(w)]]
                        n_doors = _note_door(w, door_seen, doors_read, n_doors)
                    extra = stairs_db
                    extra += walls_u + enter
                    total = extra + absorption * r + _spread_db(r, reference_m, spread)
                    if total < loss[np.uint64(w)] and total <= budget:
                        v = w
                        break
                if v < 0:
                    break
            vv = np.uint64(v)
            if loss[vv] == np.inf:
                touched[n_touched] = v
                n_touched += 1
            loss[vv] = total
            path_m[vv] = r
            walls_db[vv] = extra
            # Push, or lower the key of a tile already in the heap (as `navigation._push` does).
            key = np.float64(total).view(np.int64)
            i = pos[vv]
            if i < 0:
                i = size
                size += 1
            while i > 0:
                p = (i - 1) >> 2
                if heap_key[np.uint64(p)] <= key:
                    break
                w = heap[np.uint64(p)]
                heap[np.uint64(i)] = w
                heap_key[np.uint64(i)] = heap_key[np.uint64(p)]
                pos[np.uint64(w)] = i
                i = p
            heap[np.uint64(i)] = v
            heap_key[np.uint64(i)] = key
            pos[vv] = i
    # Leave the workspace clean for the next sound, at the cost of the tiles this one touched (all of
    # them were popped, which left their `pos` at -1 already).
    for i in range(n_touched):
        loss[np.uint64(touched[i])] = np.inf
    for i in range(n_doors):
        door_seen[doors_read[i]] = 0
    return n_doors, n_touched


@nb.njit(cache=True, inline="always")
def _spread_db(r, reference_m, spread):
    """20·log10(r / reference_m) past the reference distance, else 0, through the table `spread`."""
    if not r > reference_m:
        return 0.0
    q = r if reference_m == 1.0 else r / reference_m  # r / 1.0 is r: skip the division
    return _kept_db20(q, spread, _HASH_SHIFT)


@nb.njit(cache=True, inline="always")
def _kept_db20(q, table, shift):
    """20·log10(q) for q > 0, kept in `table` (2^(64 - shift) rows of (q, value), 0 until used) by q's bits.

    Direct-mapped by Fibonacci hashing of q's bits; it holds the very value the log10 gave. (libm's
    log10 as a plain call: `math.log10` was computed ahead of the table's test.)
    """
    h = (np.uint64(np.float64(q).view(np.int64)) * _HASH_MUL) >> shift
    if table[h, 0] == q:
        return table[h, 1]
    db = 20.0 * log10(q)
    table[h, 0] = q
    table[h, 1] = db
    return db


@nb.njit(cache=True, inline="always")
def _note_door(d, door_seen, doors_read, n_doors):
    if door_seen[d] == 0:
        door_seen[d] = 1
        doors_read[n_doors] = d
        n_doors += 1
    return n_doors
