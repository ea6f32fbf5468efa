"""Navigation: distance fields over every floor of a building, shared by all agents and updated when a door changes.

A distance field holds, for every tile, the cost in metres of the cheapest walk from that tile to the
nearest source (a goal: exits, a refuge room, the roof, a zombie's prey). Agents walk it downhill with
`step_toward` / `next_steps`, so one field serves every agent with the same goal and the same kind of
body (`Walker`): thousands of agents cost one field, not one search each.

The graph is the tile grid of all floors: 8-connected moves on a floor (``tile_m`` straight, ``√2 tile_m``
diagonal, never cutting the corner of an impassable tile), the stairwell links of `Building.stairs` as
extra edges of ``Walker.stairs_cost_m`` (a flight is 6–8 m of walking), plus the walker's cost of
standing on a tile (`tile_costs`: 0 on floor, stairs and exits; a door costs what it takes to pass it in
its current state; ``inf`` is impassable). Formally, with ``len`` the edge length in metres::

    d[u] = min( initial[u] if u is a source,  cost[u] + min over edges u→v of (len(u, v) + d[v]) )

so every path that crosses a door pays its cost once, like walking through it; only the tile an agent
starts on is counted and the goal's is not (a source's own cost is never paid).

Why a hand-written Numba Dijkstra (4-ary heap with decrease-key, arrays reused between calls, the
grid graph implicit, never materialised) rather than a library: measured on the default Hyosan High
(6 floors x 70 x 158 = 66,360 tiles, 22,000 walkable, exits as sources, a person walking), 2 cores,
``python benchmarks/bench_navigation.py --repeat 50`` (best of 50):

====================================================================  =============
full field, all floors, hyosan Numba kernel                           1.8 ms
full field, ``scipy.sparse.csgraph.dijkstra`` (min_only, same graph)  2.1 ms
  + building that CSR graph, again after every door change            4.4 ms
``tcod.path.dijkstra2d``, one floor at a time, summed (no stairs)     4.3 ms
one door opened or closed, `DistanceField.update_tiles`: median       0.03 ms
  mean over all 370 toggles of the school's doors / worst toggle      0.05 / 1.0 ms
====================================================================  =============

scipy's C Dijkstra is as fast on a fixed graph but needs the sparse graph rebuilt whenever a door
changes (6.5 ms in all); tcod works one floor at a time, has no stairs, takes costs only as step
multipliers, and would become a runtime dependency. Only an own kernel updates a field
incrementally (`DistanceField`), which is what a run does most: a door closes somewhere and the
update touches the few tiles whose way out went through it, 60x cheaper than a recompute.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba as nb
import numpy as np

from hyosan.building.model import Building, DoorState, Tile

__all__ = [
    "PERSON",
    "ZOMBIE",
    "DistanceField",
    "Walker",
    "distance_field",
    "next_steps",
    "step_toward",
    "tile_costs",
    "update_fields",
]

_INF = np.inf


@dataclass(frozen=True)
class Walker:
    """Who walks: the extra cost (metres of walking it is worth) of crossing a door or window tile.

    A cost of ``inf`` makes the tile impassable. Floor, stairs and exit tiles cost nothing extra; walls
    and void are always impassable. A barricaded door costs
    ``door_barricaded_m + barricade_m_per_strength * barricade_strength`` (strength as in
    `Building.barricade_strength`, the time one zombie needs to break it, in seconds).
    """

    door_open_m: float = 0.0
    door_closed_m: float = 2.0  # stop, open it, pass: about 2 s of walking
    door_locked_m: float = _INF
    door_barricaded_m: float = _INF
    barricade_m_per_strength: float = 0.0
    door_broken_m: float = 0.0
    window_m: float = _INF  # glass: climbing through is a scenario option, not a default
    stairs_cost_m: float = 7.0  # one flight of stairs, as metres of level walking

    def __post_init__(self) -> None:
        for name in (
            "door_open_m",
            "door_closed_m",
            "door_locked_m",
            "door_barricaded_m",
            "barricade_m_per_strength",
            "door_broken_m",
            "window_m",
            "stairs_cost_m",
        ):
            value = getattr(self, name)
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"Walker.{name} must be a non-negative number of metres, got {value!r}")
        if not 0 < self.stairs_cost_m < math.inf:
            # Zero would let an agent stand on either end of a stairwell at the same distance, unable to descend.
            raise ValueError(f"Walker.stairs_cost_m must be positive and finite, got {self.stairs_cost_m!r}")


PERSON = Walker()
"""A person: opens closed doors (+2 m), cannot pass locked or barricaded doors or windows."""

ZOMBIE = Walker(
    # Breaking a door takes time (the scenario's door_break_time, 90 s): a zombie would rather walk
    # 30 m further to an open one, but takes the door when it is the only way.
    door_closed_m=30.0,
    door_locked_m=40.0,
    door_barricaded_m=40.0,
    barricade_m_per_strength=0.1,  # the default 600 s barricade adds 60 m
)
"""A zombie: walks through open or broken doors, breaks closed, locked and barricaded ones at a cost."""


def tile_costs(building: Building, walker: Walker = PERSON) -> np.ndarray:
    """Flat float32 cost of standing on each tile for ``walker`` (metres; ``inf`` = impassable)."""
    return _costs_of(building.tiles.ravel(), building.door_state.ravel(), building.barricade_strength.ravel(), walker)


def distance_field(
    building: Building,
    sources: np.ndarray,
    walker: Walker = PERSON,
    *,
    initial: np.ndarray | None = None,
    extra_cost_m: np.ndarray | None = None,
) -> np.ndarray:
    """(F, H, W) float32 metres from each tile to the cheapest source; ``inf`` where none is reachable.

    ``sources``: flat tile indices, or an (F, H, W) bool mask. ``initial``: a distance to start each
    source with (default 0), so a field can favour some goals or seed from another field. ``extra_cost_m``:
    flat per-tile costs added to `tile_costs` (for example a danger penalty near zombies).
    """
    graph = _Graph(building, walker, extra_cost_m)
    src, init = _sources(building, sources, initial)
    dist, _ = graph.solve(src, init, keep_parent=False)
    return dist.astype(np.float32).reshape(building.shape)


class DistanceField:
    """A distance field that stays exact while doors change, at the cost of the tiles that change.

    After changing ``building.door_state`` (or ``barricade_strength``, or a tile) at some tiles, call
    `update_tiles` with their flat indices. A cheaper tile relaxes outward from itself; a costlier one
    invalidates the tiles whose shortest path ran through it (its subtree in the shortest-path tree),
    which are then re-solved from their valid neighbours. The result equals a full recompute (up to
    float rounding between equally short paths). A change of ``extra_cost_m`` or of the stairs needs
    `recompute`. `distances` is cached between updates: copy it before writing into it.
    """

    def __init__(
        self,
        building: Building,
        sources: np.ndarray,
        walker: Walker = PERSON,
        *,
        initial: np.ndarray | None = None,
        extra_cost_m: np.ndarray | None = None,
    ) -> None:
        self.building = building
        self.walker = walker
        self.extra_cost_m = None if extra_cost_m is None else np.asarray(extra_cost_m, dtype=np.float64).ravel()
        self._graph = _Graph(building, walker, self.extra_cost_m)
        self.sources, init = _sources(building, sources, initial)
        n = building.tiles.size
        self._initial = np.full(n, _INF)
        np.minimum.at(self._initial, self.sources, init)
        self._dist, self._parent = self._graph.solve(self.sources, init)
        self._cached: np.ndarray | None = None

    @property
    def distances(self) -> np.ndarray:
        """(F, H, W) float32 metres to the cheapest source; ``inf`` where unreachable."""
        if self._cached is None:
            self._cached = self._dist.astype(np.float32).reshape(self.building.shape)
        return self._cached

    @property
    def costs(self) -> np.ndarray:
        """Flat float64 tile costs the field was last solved with (read-only view)."""
        view = self._graph.cost.view()
        view.flags.writeable = False
        return view

    def copy_for(self, building: Building) -> DistanceField:
        """This field for `building`, a copy of the one it was solved on (same tiles, doors and stairs).

        Equal to solving afresh on `building`, without the search: how each run of a sweep gets its
        own fields from one solved per scenario. The copy and this field update independently.
        """
        if building.tiles.shape != self.building.tiles.shape:
            raise ValueError(f"building has shape {building.tiles.shape}, the field {self.building.tiles.shape}")
        field = copy.copy(self)
        field.building = building
        field._graph = copy.copy(self._graph)
        field._graph.cost = self._graph.cost.copy()  # `update_tiles` rewrites costs in place
        field.sources = self.sources.copy()
        field._initial = self._initial.copy()
        field._dist = self._dist.copy()
        field._parent = self._parent.copy()
        field._cached = None
        return field

    def update_tiles(self, flat_indices: np.ndarray) -> int:
        """Re-read these tiles from the building and bring the field up to date; returns tiles invalidated."""
        return update_fields([self], flat_indices)[0]

    def write_distances(self, out: np.ndarray, unreachable: float = _INF) -> None:
        """`distances` written into ``out`` (C-contiguous float32, a value a tile), ``unreachable`` where not finite.

        One pass over the field, without the float32 copy `distances` keeps: what a caller that holds
        its own table of fields needs after every update.
        """
        if out.dtype != np.float32 or out.size != self._dist.size or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float32 array of {self._dist.size} tiles")
        _write_finite(self._dist, out.reshape(-1), float(unreachable))

    def _apply(self, changed: np.ndarray, walker_cost: np.ndarray) -> int:
        """Bring the field up to date after the sorted, checked tiles ``changed`` now cost ``walker_cost``."""
        new_cost = walker_cost if self.extra_cost_m is None else walker_cost + self.extra_cost_m[changed]
        g = self._graph
        heap, heap_key, pos, queue, mark = _workspace(self._dist.size)
        n_invalid = _update(
            self._dist,
            self._parent,
            g.cost,
            self._initial,
            changed,
            new_cost,
            g.rows,
            g.cols,
            g.tile_m,
            g.stairs_m,
            g.stair_ptr,
            g.stair_to,
            heap,
            heap_key,
            pos,
            queue,
            mark,
        )
        self._cached = None
        return int(n_invalid)

    def recompute(self) -> None:
        """Solve from scratch with the building as it is now (after many changes, or a new walker)."""
        self._graph = _Graph(self.building, self.walker, self.extra_cost_m)
        init = self._initial[self.sources]
        self._dist, self._parent = self._graph.solve(self.sources, init)
        self._cached = None


def update_fields(fields: Sequence[DistanceField], flat_indices: np.ndarray) -> list[int]:
    """`DistanceField.update_tiles` for several fields at once; returns the tiles invalidated in each.

    The tiles are checked once, and their new costs read from the building once for all the fields
    on that building with the same walker (a school keeps several goal fields for people, and
    updates them all whenever a door changes).
    """
    changed = np.unique(np.asarray(flat_indices, dtype=np.int64).ravel())
    if changed.size == 0:
        return [0] * len(fields)
    if changed[0] < 0 or any(changed[-1] >= field._dist.size for field in fields):
        raise IndexError("update_tiles: flat tile index out of range")
    walker_costs: dict[tuple[int, Walker], tuple[Building, np.ndarray]] = {}
    invalidated = []
    for field in fields:
        b = field.building
        key = (id(b), field.walker)
        hit = walker_costs.get(key)
        if hit is None or hit[0] is not b:
            cost = _costs_of(
                b.tiles.ravel()[changed],
                b.door_state.ravel()[changed],
                b.barricade_strength.ravel()[changed],
                field.walker,
            ).astype(np.float64)
            hit = walker_costs[key] = (b, cost)
        invalidated.append(field._apply(changed, hit[1]))
    return invalidated


def step_toward(
    field: DistanceField | np.ndarray, building: Building, f: int, y: int, x: int, walker: Walker = PERSON
) -> tuple[int, int, int]:
    """The tile (floor, row, col) one move from (f, y, x) down the field; (f, y, x) itself at a goal or if stuck."""
    nf, ny, nx = next_steps(
        field, building, np.array([f], np.int64), np.array([y], np.int64), np.array([x], np.int64), walker
    )
    return int(nf[0]), int(ny[0]), int(nx[0])


def next_steps(
    field: DistanceField | np.ndarray,
    building: Building,
    floor: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    walker: Walker = PERSON,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For many agents at once: the next tile down the field (a neighbour on the floor or across stairs).

    Each agent takes the move that minimises ``len(move) + d[next]`` (the move its shortest path
    starts with) if that lowers its distance; agents at a goal, in a local pit or cut off stay. With a
    `DistanceField` the field's own walker and costs are used and ``walker`` is ignored.
    """
    if isinstance(field, DistanceField):
        g = field._graph
        dist = field._dist
    else:
        g = _Graph(building, walker, None)
        dist = np.asarray(field, dtype=np.float64).ravel()
        if dist.size != building.tiles.size:
            raise ValueError(f"field has {dist.size} tiles, the building {building.tiles.size}")
    floor, row, col = _positions(building, floor, row, col)
    out_f = np.empty_like(floor)
    out_y = np.empty_like(row)
    out_x = np.empty_like(col)
    _next_steps(
        dist,
        g.cost,
        g.rows,
        g.cols,
        g.tile_m,
        g.stairs_m,
        g.stair_ptr,
        g.stair_to,
        floor,
        row,
        col,
        out_f,
        out_y,
        out_x,
    )
    return out_f, out_y, out_x


# --- helpers -------------------------------------------------------------------------------------------------


def _costs_of(tiles: np.ndarray, doors: np.ndarray, strength: np.ndarray, walker: Walker) -> np.ndarray:
    if strength.dtype.kind != "f":
        strength = strength.astype(np.float64)  # what ``np.maximum(strength, 0.0)`` would make of it
    # The barricade term in the strength's own precision, as NumPy computes ``m * strength`` with a
    # Python float m: the same float32 rounding as before this was a kernel.
    per_strength = strength.dtype.type(walker.barricade_m_per_strength)
    cost = np.empty(tiles.shape, dtype=np.float32)
    _costs_kernel(
        tiles.ravel(),
        doors.ravel(),
        strength.ravel(),
        _door_costs(walker),
        per_strength,
        strength.dtype.type(0),
        walker.barricade_m_per_strength > 0,
        np.float32(walker.window_m),
        cost.reshape(-1),
    )
    return cost


_DOOR_COSTS: dict[Walker, np.ndarray] = {}


def _door_costs(walker: Walker) -> np.ndarray:
    """Float64 cost of a door tile by its state code, kept per walker (frozen, so a key by value)."""
    by_state = _DOOR_COSTS.get(walker)
    if by_state is None:
        by_state = np.full(256, walker.door_closed_m, dtype=np.float64)  # unknown states: a closed door
        by_state[DoorState.OPEN] = walker.door_open_m
        by_state[DoorState.CLOSED] = walker.door_closed_m
        by_state[DoorState.LOCKED] = walker.door_locked_m
        by_state[DoorState.BARRICADED] = walker.door_barricaded_m
        by_state[DoorState.BROKEN] = walker.door_broken_m
        if len(_DOOR_COSTS) >= 16:
            _DOOR_COSTS.clear()
        _DOOR_COSTS[walker] = by_state
    return by_state


_FLOOR, _STAIRS, _EXIT = int(Tile.FLOOR), int(Tile.STAIRS), int(Tile.EXIT)
_WINDOW, _DOOR, _BARRICADED = int(Tile.WINDOW), int(Tile.DOOR), int(DoorState.BARRICADED)


@nb.njit(cache=True)
def _costs_kernel(tiles, doors, strength, by_state, per_strength, zero, barricades_cost, window_m, out):
    """Per tile, the cost `tile_costs` documents, as float32 (a few tiles a door change: no array temporaries)."""
    for i in range(tiles.size):
        t = tiles[i]
        if t in (_FLOOR, _STAIRS, _EXIT):
            out[i] = 0.0
        elif t == _WINDOW:
            out[i] = window_m
        elif t == _DOOR:
            state = doors[i]
            if state > 255:
                raise IndexError("door state out of range")
            c = by_state[state]  # a negative code counts from the end, as NumPy indexing does
            if barricades_cost and state == _BARRICADED:
                s = strength[i]
                if s < zero:  # (NaN stays NaN, as with np.maximum)
                    s = zero
                c += per_strength * s
            out[i] = c
        else:
            out[i] = np.inf


def _positions(
    building: Building, floor: np.ndarray, row: np.ndarray, col: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agent positions as int64 arrays, checked to lie in the building (kernels do not bounds-check)."""
    floor = np.ascontiguousarray(floor, dtype=np.int64).ravel()
    row = np.ascontiguousarray(row, dtype=np.int64).ravel()
    col = np.ascontiguousarray(col, dtype=np.int64).ravel()
    if not floor.shape == row.shape == col.shape:
        raise ValueError("floor, row and col must have one entry per agent")
    for name, values, size in zip(("floor", "row", "col"), (floor, row, col), building.shape, strict=True):
        if values.size and (values.min() < 0 or values.max() >= size):
            raise IndexError(f"agent {name} out of range 0..{size - 1}")
    return floor, row, col


def _sources(building: Building, sources: np.ndarray, initial: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    src = np.asarray(sources)
    if src.dtype == np.bool_:
        if src.shape != building.shape:
            raise ValueError(f"source mask has shape {src.shape}, the building {building.shape}")
        src = np.flatnonzero(src)
    src = src.astype(np.int64).ravel()
    if src.size and (src.min() < 0 or src.max() >= building.tiles.size):
        raise IndexError("distance field: source tile index out of range")
    if initial is None:
        init = np.zeros(src.size, dtype=np.float64)
    else:
        init = np.broadcast_to(np.asarray(initial, dtype=np.float64), src.shape).copy()
        if np.isnan(init).any():
            raise ValueError("distance field: initial distances must not be NaN")
    return src, init


class _Graph:
    """The implicit tile graph for one walker: costs per tile and the stairwell links as CSR."""

    def __init__(self, building: Building, walker: Walker, extra_cost_m: np.ndarray | None) -> None:
        _, self.rows, self.cols = building.shape
        self.tile_m = float(building.tile_m)
        self.stairs_m = float(walker.stairs_cost_m)
        cost = tile_costs(building, walker).astype(np.float64)
        if extra_cost_m is not None:
            extra = np.asarray(extra_cost_m, dtype=np.float64).ravel()
            if extra.size != cost.size:
                raise ValueError(f"extra_cost_m has {extra.size} tiles, the building {cost.size}")
            if np.isnan(extra).any() or (extra < 0).any():
                raise ValueError("extra_cost_m must be non-negative (Dijkstra needs non-negative costs)")
            cost += extra
        self.cost = cost
        self.stair_ptr, self.stair_to = _stair_links(building)

    def solve(self, src: np.ndarray, init: np.ndarray, keep_parent: bool = True) -> tuple[np.ndarray, np.ndarray]:
        n = self.cost.size
        dist = np.full(n, _INF)
        heap, heap_key, pos, scratch, _ = _workspace(n)
        parent = np.full(n, -1, dtype=np.int64) if keep_parent else scratch
        _solve(dist, parent, self.cost, src, init, self.rows, self.cols, self.tile_m, self.stairs_m,
               self.stair_ptr, self.stair_to, heap, heap_key, pos)  # fmt: skip
        return dist, parent


_WORKSPACE: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


def _workspace(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Search arrays for a building of n tiles, shared by every field and reused between calls.

    (heap, heap_key, pos, scratch, mark); between calls ``pos`` is all -1 and ``mark`` all False.
    Fresh half-megabyte arrays would cost a page fault per 4 KiB on first touch, which is most of
    the time of a small update, and each field would carry 40 bytes a tile of them. Kernels hold the
    GIL, so two threads never use these at once.
    """
    work = _WORKSPACE.get(n)
    if work is None:
        if len(_WORKSPACE) >= 8:
            _WORKSPACE.clear()
        work = (
            np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.float64),
            np.full(n, -1, dtype=np.int64),
            np.empty(n, dtype=np.int64),
            np.zeros(n, dtype=np.bool_),
        )
        _WORKSPACE[n] = work
    return work


_STAIR_CACHE: dict[int, tuple[np.ndarray, int, np.ndarray, np.ndarray]] = {}


def _stair_links(building: Building) -> tuple[np.ndarray, np.ndarray]:
    """Stairwell links both ways as CSR, cached per stairs array (never edited in place) so a quick search does not rebuild them."""
    key = id(building.stairs)
    hit = _STAIR_CACHE.get(key)
    n = building.tiles.size
    # Holding the array itself in the cache keeps its id from being reused by another array.
    if hit is not None and hit[0] is building.stairs and hit[1] == n:
        return hit[2], hit[3]
    ptr, to = _stair_csr(building.stairs, n)
    if len(_STAIR_CACHE) >= 16:
        _STAIR_CACHE.clear()
    _STAIR_CACHE[key] = (building.stairs, n, ptr, to)
    return ptr, to


def _stair_csr(stairs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.asarray(stairs, dtype=np.int64).reshape(-1, 2)
    a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(a, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, a + 1, 1)
    return np.cumsum(ptr), b[order].copy()


# Neighbour offsets: the 4 straight moves first, then the 4 diagonals.
_DY = np.array([-1, 1, 0, 0, -1, -1, 1, 1], dtype=np.int64)
_DX = np.array([0, 0, -1, 1, -1, 1, -1, 1], dtype=np.int64)


# The priority queue is a 4-ary heap with decrease-key: shallower than a binary heap, and its four
# children share a cache line; measured 27% faster than a binary heap on the default school.


@nb.njit(cache=True, inline="always")
def _push(heap, heap_key, pos, size, v, key):
    """Insert v with `key`, or lower its key if it is already in the heap; returns the new size."""
    i = pos[v]
    if i < 0:
        i = size
        size += 1
    while i > 0:
        p = (i - 1) >> 2
        if heap_key[p] <= key:
            break
        u = heap[p]
        heap[i] = u
        heap_key[i] = heap_key[p]
        pos[u] = i
        i = p
    heap[i] = v
    heap_key[i] = key
    pos[v] = i
    return size


@nb.njit(cache=True, inline="always")
def _pop(heap, heap_key, pos, size):
    """Remove and return the tile with the least key, and the new size."""
    v = heap[0]
    pos[v] = -1
    size -= 1
    if size > 0:
        last = heap[size]
        key = heap_key[size]
        i = 0
        while True:
            first = 4 * i + 1
            if first >= size:
                break
            best = first
            best_key = heap_key[first]
            for c in range(first + 1, min(first + 4, size)):
                if heap_key[c] < best_key:
                    best_key = heap_key[c]
                    best = c
            if best_key >= key:
                break
            heap[i] = heap[best]
            heap_key[i] = best_key
            pos[heap[i]] = i
            i = best
        heap[i] = last
        heap_key[i] = key
        pos[last] = i
    return v, size


@nb.njit(cache=True)
def _run(dist, parent, cost, rows, cols, tile_m, stairs_m, stair_ptr, stair_to, heap, heap_key, pos, size):
    """Dijkstra from whatever the heap holds until it is empty (keys are upper bounds of the distances)."""
    per_floor = rows * cols
    diag_m = tile_m * math.sqrt(2.0)
    while size > 0:
        u, size = _pop(heap, heap_key, pos, size)
        du = dist[u]
        rest = u % per_floor
        y = rest // cols
        x = rest - y * cols
        for k in range(8):
            yy = y + _DY[k]
            xx = x + _DX[k]
            if yy < 0 or yy >= rows or xx < 0 or xx >= cols:
                continue
            v = u + _DY[k] * cols + _DX[k]
            cv = cost[v]
            if cv == np.inf:
                continue
            if k >= 4:
                # No squeezing diagonally past the corner of a wall (or a door it cannot pass).
                if cost[u + _DY[k] * cols] == np.inf or cost[u + _DX[k]] == np.inf:
                    continue
                nd = du + diag_m + cv
            else:
                nd = du + tile_m + cv
            if nd < dist[v]:
                dist[v] = nd
                parent[v] = u
                size = _push(heap, heap_key, pos, size, v, nd)
        for e in range(stair_ptr[u], stair_ptr[u + 1]):
            v = stair_to[e]
            cv = cost[v]
            if cv == np.inf:
                continue
            nd = du + stairs_m + cv
            if nd < dist[v]:
                dist[v] = nd
                parent[v] = u
                size = _push(heap, heap_key, pos, size, v, nd)
    return size


@nb.njit(cache=True)
def _solve(dist, parent, cost, src, init, rows, cols, tile_m, stairs_m, stair_ptr, stair_to, heap, heap_key, pos):
    size = 0
    for i in range(src.size):
        s = src[i]
        if init[i] < dist[s]:
            dist[s] = init[i]
            size = _push(heap, heap_key, pos, size, s, init[i])
    _run(dist, parent, cost, rows, cols, tile_m, stairs_m, stair_ptr, stair_to, heap, heap_key, pos, size)


@nb.njit(cache=True, inline="always")
def _neighbour(u, k, rows, cols):
    """Flat index of u's k-th neighbour on its floor, -1 off the grid."""
    rest = u % (rows * cols)
    y = rest // cols + _DY[k]
    x = rest % cols + _DX[k]
    if y < 0 or y >= rows or x < 0 or x >= cols:
        return -1
    return u + _DY[k] * cols + _DX[k]


@nb.njit(cache=True)
def _update(dist, parent, cost, initial, changed, new_cost, rows, cols, tile_m, stairs_m, stair_ptr, stair_to,
            heap, heap_key, pos, queue, mark):  # fmt: skip
    n_queue = 0
    # 1. New costs; tiles that got costlier, and the ends of diagonals that a newly impassable
    #    corner now cuts, lose their distance if their shortest path used them.
    for i in range(changed.size):
        c = changed[i]
        old = cost[c]
        new = new_cost[i]
        if new == old:
            continue
        cost[c] = new
        if new < old:
            continue
        if not mark[c]:
            mark[c] = True
            queue[n_queue] = c
            n_queue += 1
        if new == np.inf:
            # Orthogonal neighbours (N, S, W, E) = k 0..3; diagonal pairs around c: N-W, N-E, S-W, S-E.
            for a in range(2):
                for b in range(2, 4):
                    p = _neighbour(c, a, rows, cols)
                    q = _neighbour(c, b, rows, cols)
                    if p < 0 or q < 0:
                        continue
                    if parent[q] == p and not mark[q]:
                        mark[q] = True
                        queue[n_queue] = q
                        n_queue += 1
                    if parent[p] == q and not mark[p]:
                        mark[p] = True
                        queue[n_queue] = p
                        n_queue += 1
    # 2. Everything downstream of an invalid tile in the shortest-path tree is invalid too.
    head = 0
    while head < n_queue:
        u = queue[head]
        head += 1
        for k in range(8):
            v = _neighbour(u, k, rows, cols)
            if v >= 0 and parent[v] == u and not mark[v]:
                mark[v] = True
                queue[n_queue] = v
                n_queue += 1
        for e in range(stair_ptr[u], stair_ptr[u + 1]):
            v = stair_to[e]
            if parent[v] == u and not mark[v]:
                mark[v] = True
                queue[n_queue] = v
                n_queue += 1
    for i in range(n_queue):
        v = queue[i]
        dist[v] = np.inf
        parent[v] = -1
    # 3. Re-seed: invalid sources restart from their initial distance; the valid tiles around the
    #    invalid region, and around every changed tile (new or cheaper edges), relax again.
    size = 0
    for i in range(n_queue):
        v = queue[i]
        if initial[v] < dist[v]:
            dist[v] = initial[v]
            size = _push(heap, heap_key, pos, size, v, dist[v])
        for k in range(8):
            u = _neighbour(v, k, rows, cols)
            if u >= 0 and not mark[u] and dist[u] < np.inf:
                size = _push(heap, heap_key, pos, size, u, dist[u])
        for e in range(stair_ptr[v], stair_ptr[v + 1]):
            u = stair_to[e]
            if not mark[u] and dist[u] < np.inf:
                size = _push(heap, heap_key, pos, size, u, dist[u])
    for i in range(changed.size):
        c = changed[i]
        for k in range(8):
            u = _neighbour(c, k, rows, cols)
            if u >= 0 and dist[u] < np.inf:
                size = _push(heap, heap_key, pos, size, u, dist[u])
        for e in range(stair_ptr[c], stair_ptr[c + 1]):
            u = stair_to[e]
            if dist[u] < np.inf:
                size = _push(heap, heap_key, pos, size, u, dist[u])
    for i in range(n_queue):
        mark[queue[i]] = False
    # 4. Dijkstra over the region that changes; it stops where distances no longer improve.
    _run(dist, parent, cost, rows, cols, tile_m, stairs_m, stair_ptr, stair_to, heap, heap_key, pos, size)
    return n_queue


@nb.njit(cache=True)
def _write_finite(dist, out, unreachable):
    # Casting each tile and testing the float32 it gave is what `astype` then `isfinite` do (a
    # distance beyond float32's range becomes inf there too), without the two temporary arrays.
    fill = np.float32(unreachable)
    for i in range(dist.size):
        d = np.float32(dist[i])
        out[i] = d if np.isfinite(d) else fill


@nb.njit(cache=True)
def _next_steps(dist, cost, rows, cols, tile_m, stairs_m, stair_ptr, stair_to, floor, row, col, out_f, out_y, out_x):
    per_floor = rows * cols
    diag_m = tile_m * math.sqrt(2.0)
    for i in range(floor.size):
        u = (floor[i] * rows + row[i]) * cols + col[i]
        best = u
        best_key = np.inf
        for k in range(8):
            v = _neighbour(u, k, rows, cols)
            if v < 0 or dist[v] == np.inf:
                continue
            if k >= 4:
                if cost[u + _DY[k] * cols] == np.inf or cost[u + _DX[k]] == np.inf:
                    continue
                key = dist[v] + diag_m
            else:
                key = dist[v] + tile_m
            if key < best_key:
                best_key = key
                best = v
        for e in range(stair_ptr[u], stair_ptr[u + 1]):
            v = stair_to[e]
            key = dist[v] + stairs_m
            if key < best_key:
                best_key = key
                best = v
        if best != u and dist[best] < dist[u]:
            u = best
        out_f[i] = u // per_floor
        out_y[i] = (u % per_floor) // cols
        out_x[i] = u % cols
