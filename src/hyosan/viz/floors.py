"""Floor snapshots: where everyone is, in which state, and how every door stands at a moment of a run.

`state_at` and `doors_at` rebuild a moment from the results folder (trajectories.parquet keeps a row only
when a person moved or changed state; events.jsonl says when doors opened, shut, were barricaded or broke).
`FloorView` draws every floor side by side in one figure and redraws only the data that changed, so the
animation reuses it frame after frame; `draw_floors` and `write_snapshot` draw one moment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyosan.building.model import DoorState, Tile
from hyosan.errors import UserInputError
from hyosan.results import atomic_write
from hyosan.viz.curves import _RC, STATE_COLOURS, STATES, RunClock, _focus_end, _new_figure, png_bytes_options

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hyosan.results import Results

__all__ = [
    "DOOR_EVENT_STATES",
    "DOOR_STYLES",
    "TILE_COLOURS",
    "FloorPlan",
    "FloorView",
    "RunTimeline",
    "check_time",
    "doors_at",
    "draw_floors",
    "named_people",
    "pick_floors",
    "state_at",
    "write_snapshot",
]

TILE_COLOURS: dict[str, str] = {
    "void": "#ffffff",
    "wall": "#58595b",
    "floor": "#f1ede6",
    "window": "#b9d7ea",
    "stairs": "#cbc1ad",
    "exit": "#F0E442",  # Okabe–Ito yellow, the one colour the states leave free
}

DOOR_STYLES: dict[str, dict[str, str | float | None]] = {
    # colour: the door's tile; marker: drawn over it, `size` tiles wide, for the states that matter most.
    "open": {"colour": "#e4d5b7", "marker": None, "size": 0.0},
    "closed": {"colour": "#a0703f", "marker": None, "size": 0.0},
    "locked": {"colour": "#3b220d", "marker": None, "size": 0.0},
    "barricaded": {"colour": "#3b220d", "marker": "s", "size": 1.7, "face": "#6b3e1a", "edge": "#000000"},
    "broken": {"colour": "#e4d5b7", "marker": "X", "size": 2.0, "face": "#333333", "edge": "#ffffff"},
}
"""How each door state (`hyosan.building.model.DoorState`, lower-cased) is drawn."""

DOOR_EVENT_STATES: dict[str, DoorState] = {
    "door_open": DoorState.OPEN,
    "door_close": DoorState.CLOSED,
    "barricade": DoorState.BARRICADED,
    "breach": DoorState.BROKEN,
    # (``unbarricade`` names a room, not a door: see `_door_changes`.)
    # Spellings a later kernel may log; accepted so old pictures keep working with new runs.
    "door_opened": DoorState.OPEN,
    "door_closed": DoorState.CLOSED,
    "door_locked": DoorState.LOCKED,
    "lock": DoorState.LOCKED,
    "unlock": DoorState.CLOSED,
    "door_broken": DoorState.BROKEN,
}
"""Event kinds that change a door, and the state the door is in afterwards."""

GENERATED_NAME = re.compile(r"^(Student|Teacher|Staff|Soldier) \d+$")

_DRAW_ORDER = ("dead", "healthy", "hambie", "bitten", "zombie")  # later ones on top; escaped/rescued are gone
_NAMED_LABELS_MAX = 40  # more names than this would hide the map


def state_at(results: Results, time_s: float) -> pd.DataFrame:
    """Every person's floor, row, col (0-based) and state at `time_s`, one row per person id.

    A person's last trajectory row at or before `time_s`; before their first row, the first row (the
    trajectories start with everyone's place one tick into the run). `floor` is the floor index
    (-1 for a person the trajectories never saw) and `floor_name` its name.
    """
    timeline = RunTimeline(results)
    floor, row, col, state = timeline.people_at(time_s)
    names = np.array([*FloorPlan.from_results(results).names, ""], dtype=object)
    return pd.DataFrame(
        {
            "floor": floor.astype(np.int64),
            "floor_name": names[floor],
            "row": row.astype(np.int64),
            "col": col.astype(np.int64),
            "state": pd.Categorical.from_codes(state, categories=list(STATES)),
        },
        index=pd.RangeIndex(len(floor), name="person"),
    )


def doors_at(results: Results, time_s: float) -> np.ndarray:
    """Door states at `time_s` as a (floors, rows, cols) int8 array: a `DoorState` code, -1 where no door."""
    return RunTimeline(results).doors_at(time_s).copy()


def check_time(results: Results, text: str, option: str = "--time") -> float:
    """Seconds into the run for a user's time (``01:30``, ``45 min``...); a UserInputError if outside the run."""
    from hyosan.units import format_duration, parse_quantity

    try:
        seconds = parse_quantity(text, "duration")
    except ValueError as exc:
        raise UserInputError(f"{option} {text}: {exc}") from None
    end = run_end(results)
    if not 0.0 <= seconds <= end + 1e-9:
        raise UserInputError(
            f"{option} {text}: outside the run, which covers 0:00:00 to {format_duration(end)} "
            "(times count from the start of the run)"
        )
    return seconds


def run_end(results: Results) -> float:
    """Seconds simulated by the run."""
    ts = results.timeseries
    last = float(ts["time_s"].iloc[-1]) if len(ts) else 0.0
    return max(float(results.summary.get("simulated_s") or 0.0), last)


def pick_floors(results: Results, floors: str | Sequence[str] | None) -> list[int]:
    """Indices of the floors named in `floors` (``"1F,2F"`` or a list); every floor when None."""
    names = FloorPlan.from_results(results).names
    if floors is None:
        return list(range(len(names)))
    wanted = [f.strip() for f in floors.split(",")] if isinstance(floors, str) else [str(f).strip() for f in floors]
    wanted = [f for f in wanted if f]
    unknown = [f for f in wanted if f not in names]
    if unknown or not wanted:
        raise UserInputError(
            f"--floors: unknown floor {', '.join(repr(f) for f in unknown) or '(none given)'}; "
            f"this run has {', '.join(names)}"
        )
    return sorted({names.index(f) for f in wanted})


def named_people(results: Results) -> np.ndarray:
    """Boolean per person: a named character rather than a generated placeholder such as "Student 12"."""
    people = results.people
    if "named" in people:
        return people["named"].astype(str).str.lower().isin(["true", "1", "yes"]).to_numpy()
    names = people["name"].astype(str) if "name" in people else pd.Series([""] * len(people))
    return (~names.str.match(GENERATED_NAME.pattern) & (names.str.strip() != "")).to_numpy()


def draw_floors(
    results: Results,
    time_s: float,
    *,
    floors: str | Sequence[str] | None = None,
    fig: Figure | None = None,
    curves: bool = True,
) -> Figure:
    """Draw every floor (or `floors`) at `time_s` into `fig` (a new 16 x 9 in figure when None)."""
    view = FloorView(results, floors=floors, fig=fig, curves=curves)
    view.update(time_s)
    return view.fig


def write_snapshot(
    results: Results, time_s: float, path: str | Path, *, floors: str | Sequence[str] | None = None, dpi: int = 120
) -> Path:
    """Draw the floors at `time_s` as a PNG at `path`, atomically; same results and time, same bytes."""
    from matplotlib import rc_context

    path = Path(path)
    with rc_context(_RC):
        fig = draw_floors(results, time_s, floors=floors)
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, **png_bytes_options()))
    return path


# --- the building as drawn -----------------------------------------------------------------------------------


@dataclass
class FloorPlan:
    """world.json as arrays: tile kinds and starting door states per floor, and the rooms."""

    names: list[str]
    tiles: np.ndarray  # (F, H, W) uint8 `Tile`
    doors: np.ndarray  # (F, H, W) int8 `DoorState` at the start, -1 where no door
    rooms: list[dict]

    @classmethod
    def from_results(cls, results: Results) -> FloorPlan:
        world = results.world
        maps: list[list[str]] = world.get("maps") or []
        names = [str(n) for n in world.get("floors", [])] or [f"floor {i + 1}" for i in range(len(maps))]
        height = max((len(m) for m in maps), default=0)
        width = max((len(r) for m in maps for r in m), default=0)
        codes = np.full((len(maps), height, width), ord(" "), dtype=np.uint8)
        for f, rows in enumerate(maps):
            for y, line in enumerate(rows):
                codes[f, y, : len(line)] = np.frombuffer(line.encode("ascii", "replace"), dtype=np.uint8)
        return cls(
            names=names, tiles=_TILE_OF_SYMBOL[codes], doors=_DOOR_OF_SYMBOL[codes], rooms=world.get("rooms", [])
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.tiles.shape  # type: ignore[return-value]


_TILE_OF_SYMBOL = np.full(256, Tile.FLOOR, dtype=np.uint8)  # unknown symbols: letters of room labels
_TILE_OF_SYMBOL[ord(" ")] = Tile.VOID
_TILE_OF_SYMBOL[ord("#")] = Tile.WALL
_TILE_OF_SYMBOL[ord("=")] = Tile.WINDOW
_TILE_OF_SYMBOL[ord(">")] = Tile.EXIT
_TILE_OF_SYMBOL[[ord(c) for c in "0123456789"]] = Tile.STAIRS
_TILE_OF_SYMBOL[[ord(c) for c in "/+&%"]] = Tile.DOOR
_DOOR_OF_SYMBOL = np.full(256, -1, dtype=np.int8)
for _symbol, _state in (("/", DoorState.OPEN), ("+", DoorState.CLOSED), ("&", DoorState.LOCKED)):
    _DOOR_OF_SYMBOL[ord(_symbol)] = _state
_DOOR_OF_SYMBOL[ord("%")] = DoorState.BARRICADED


# --- a run over time -----------------------------------------------------------------------------------------


class RunTimeline:
    """People's places and states and the doors' states at any time of a run.

    Moving forward in time applies only the rows between the last time asked and the new one, so an
    animation costs one pass over the trajectories in all; going back starts over from the beginning.
    """

    def __init__(self, results: Results, plan: FloorPlan | None = None) -> None:
        self.plan = plan or FloorPlan.from_results(results)
        tr = results.trajectories
        order = np.argsort(tr["time_s"].to_numpy(), kind="stable")
        self._t = tr["time_s"].to_numpy(dtype=float)[order]
        self._person = tr["person"].to_numpy(dtype=np.int64)[order]
        self._rows = np.stack(
            [
                tr["floor"].to_numpy(dtype=np.int64)[order],
                tr["row"].to_numpy(dtype=np.int64)[order],
                tr["col"].to_numpy(dtype=np.int64)[order],
                pd.Categorical(tr["state"].astype(str), categories=list(STATES)).codes.astype(np.int64)[order],
            ],
            axis=1,
        )
        n = max(len(results.people), int(self._person.max()) + 1 if self._person.size else 0)
        self._start = np.full((n, 4), -1, dtype=np.int64)
        seen, first = np.unique(self._person, return_index=True)
        self._start[seen] = self._rows[first]
        self._people = self._start.copy()
        self._people_upto = 0  # rows applied to `_people`

        self._door_t, self._door_flat, self._door_state = _door_changes(results, self.plan)
        self._doors = self.plan.doors.copy()
        self._doors_upto = 0

    def people_at(self, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views of (floor, row, col, state code) per person at `time_s`; valid until the next call."""
        upto = int(np.searchsorted(self._t, time_s + 1e-9, side="right"))
        if upto < self._people_upto:
            self._people[:] = self._start
            self._people_upto = 0
        _apply_last(self._people, self._person, self._rows, self._people_upto, upto)
        self._people_upto = upto
        p = self._people
        return p[:, 0], p[:, 1], p[:, 2], p[:, 3]

    def doors_at(self, time_s: float) -> np.ndarray:
        """Door states at `time_s` (a view, valid until the next call): `DoorState` code, -1 where no door."""
        upto = int(np.searchsorted(self._door_t, time_s + 1e-9, side="right"))
        if upto < self._doors_upto:
            self._doors[:] = self.plan.doors
            self._doors_upto = 0
        flat = self._doors.reshape(-1)
        _apply_last(flat[:, None], self._door_flat, self._door_state[:, None], self._doors_upto, upto)
        self._doors_upto = upto
        return self._doors


def _apply_last(target: np.ndarray, key: np.ndarray, values: np.ndarray, start: int, stop: int) -> None:
    """target[key[i]] = values[i] for i in start..stop, the last row winning when a key repeats."""
    if stop <= start:
        return
    keys = key[start:stop][::-1]
    unique, first_in_reversed = np.unique(keys, return_index=True)
    target[unique] = values[stop - 1 - first_in_reversed]


def _door_changes(results: Results, plan: FloorPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, flat tile index and new state of every logged change of a door, in time order.

    Kernel events name a door's tile. ``unbarricade`` (a rescue calls people out of their refuge) names a
    room: each door of that room barricaded at that moment becomes a plain closed door, as in the model.
    """
    ev = results.events
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    if not len(ev) or not {"kind", "floor", "row", "col", "time_s"} <= set(ev.columns) or not plan.tiles.size:
        return empty
    ev = ev.iloc[np.argsort(ev["time_s"].to_numpy(dtype=float), kind="stable")]
    doors = ev[ev["kind"].isin(DOOR_EVENT_STATES.keys())]
    floor = doors["floor"].map({name: i for i, name in enumerate(plan.names)})
    row = pd.to_numeric(doors["row"], errors="coerce") - 1  # events count rows and columns from 1
    col = pd.to_numeric(doors["col"], errors="coerce") - 1
    F, H, W = plan.shape
    ok = (floor.notna() & row.between(0, H - 1) & col.between(0, W - 1)).to_numpy()
    doors = doors[ok]
    t = doors["time_s"].to_numpy(dtype=float)
    flat = np.ravel_multi_index(
        (floor[ok].to_numpy(dtype=np.int64), row[ok].to_numpy(dtype=np.int64), col[ok].to_numpy(dtype=np.int64)),
        (F, H, W),
    )
    state = doors["kind"].map({k: int(v) for k, v in DOOR_EVENT_STATES.items()}).to_numpy(dtype=np.int8)
    cleared = ev[ev["kind"] == "unbarricade"]
    if not len(cleared):
        return t, flat, state
    # Which doors an unbarricade clears depends on the doors' states then: replay the changes in order.
    doors_of_room = _doors_of_rooms(plan)
    now = plan.doors.reshape(-1).copy()
    changes: list[tuple[float, int, int]] = []
    k = 0
    for when, room in zip(cleared["time_s"].to_numpy(dtype=float), cleared["room"].astype(str), strict=True):
        while k < t.size and t[k] <= when:
            now[flat[k]] = state[k]
            changes.append((float(t[k]), int(flat[k]), int(state[k])))
            k += 1
        targets = doors_of_room.get(room, np.zeros(0, dtype=np.int64))
        targets = targets[now[targets] == DoorState.BARRICADED]
        now[targets] = DoorState.CLOSED
        changes += [(when, int(d), int(DoorState.CLOSED)) for d in targets]
    changes += zip(t[k:].tolist(), flat[k:].tolist(), state[k:].tolist(), strict=True)
    out_t, out_flat, out_state = zip(*changes, strict=True) if changes else ((), (), ())
    return np.array(out_t, dtype=float), np.array(out_flat, dtype=np.int64), np.array(out_state, dtype=np.int8)


def _doors_of_rooms(plan: FloorPlan) -> dict[str, np.ndarray]:
    """Flat indices of the door tiles next to each named room's open space."""
    from scipy import ndimage

    F, H, W = plan.shape
    open_space = np.isin(plan.tiles, (Tile.FLOOR, Tile.STAIRS, Tile.EXIT))
    regions = np.stack([ndimage.label(open_space[f])[0] for f in range(F)]) if F else np.zeros((0, H, W), int)
    # For every door tile, the regions on its four sides.
    door = np.argwhere(plan.doors >= 0)
    sides = []
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        y, x = door[:, 1] + dy, door[:, 2] + dx
        inside = (y >= 0) & (y < H) & (x >= 0) & (x < W)
        sides.append(np.where(inside, regions[door[:, 0], np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)], 0))
    sides = np.stack(sides, axis=1) if door.size else np.zeros((0, 4), dtype=np.int64)
    flat = np.ravel_multi_index(tuple(door.T), plan.shape) if door.size else np.zeros(0, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for room in plan.rooms:
        f, r, c = int(room.get("floor", -1)), int(room.get("row", -1)), int(room.get("col", -1))
        if 0 <= f < F and 0 <= r < H and 0 <= c < W and regions[f, r, c]:
            touching = (door[:, 0] == f) & (sides == regions[f, r, c]).any(axis=1)
            out[str(room.get("name", ""))] = flat[touching]
    return out


# --- drawing -------------------------------------------------------------------------------------------------


@dataclass
class _Layout:
    """Where each shown floor sits in the mosaic: its crop of the map and its offset, in tiles."""

    floors: list[int]
    crop: np.ndarray  # (n_floors_total, 4) row0, row1, col0, col1 (exclusive ends)
    offset: np.ndarray  # (n_floors_total, 2) mosaic row, col of the crop's corner; -1 if not shown
    size: tuple[int, int]  # mosaic rows, cols


_GAP = 3  # tiles between floors
_TITLE_ROWS = 4  # tiles above each floor for its name


class FloorView:
    """A figure of the floors side by side, with a clock, live counts and an optional small curves panel.

    Build it once, then call `update(time_s)` for each moment: only the data of the artists change.
    `render()` returns the frame as pixels; from the second call on it redraws only what moves over a
    saved background (blitting), which is what makes animations fast.
    """

    def __init__(
        self,
        results: Results,
        *,
        floors: str | Sequence[str] | None = None,
        fig: Figure | None = None,
        size_in: tuple[float, float] = (16.0, 9.0),
        dpi: float = 100,
        curves: bool = True,
        span: tuple[float, float] | None = None,
    ) -> None:
        self.results = results
        self.plan = FloorPlan.from_results(results)
        self.timeline = RunTimeline(results, self.plan)
        self.clock = RunClock(results)
        self.fig = fig if fig is not None else _new_figure(*size_in, dpi=dpi)
        shown = pick_floors(results, floors)
        area = (0.77 * self.fig.get_figwidth()) / (0.86 * self.fig.get_figheight())
        self.layout = _pack(self.plan, shown, target_aspect=area)
        n = len(self.timeline._start)
        named = named_people(results)
        self._named = np.resize(named, n) if named.size else np.zeros(n, dtype=bool)
        self._names = np.resize(results.people["name"].astype(str).to_numpy(), n) if len(results.people) else None
        angle = np.arange(n) * 2.399963229728653  # golden angle: a crowd on one tile spreads evenly
        radius = 0.3 * np.sqrt((np.arange(n) * ((math.sqrt(5.0) - 1.0) / 2.0)) % 1.0)
        self._jitter = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        self._moving: list = []  # artists whose data change from one moment to the next
        self._background = None
        self._build_floors()
        self._build_people()
        self._build_sidebar(curves, span)
        self._shown_doors: np.ndarray | None = None

    # -- per frame ----------------------------------------------------------------------------------------

    def update(self, time_s: float) -> None:
        """Show the moment `time_s` seconds into the run."""
        floor, row, col, state = self.timeline.people_at(time_s)
        self._update_doors(self.timeline.doors_at(time_s))
        lay = self.layout
        f = np.maximum(floor, 0)
        on_map = (floor >= 0) & (lay.offset[f, 0] >= 0)
        xy = np.stack(
            [
                col - lay.crop[f, 2] + lay.offset[f, 1] + self._jitter[:, 0],
                row - lay.crop[f, 0] + lay.offset[f, 0] + self._jitter[:, 1],
            ],
            axis=1,
        )
        for name, artist in self._dots.items():
            artist.set_offsets(xy[on_map & (state == STATES.index(name))])
        counts = np.bincount(state[state >= 0], minlength=len(STATES))
        for k, text in enumerate(self._count_texts):
            text.set_text(f"{counts[k]:,}")
        self._update_floor_titles(floor, state)
        self._update_names(xy, on_map, state)
        self._title.set_text(
            f"{self.results.summary.get('scenario', 'run')} · seed {self.results.summary.get('seed', '?')}   "
            f"{self.clock.text(time_s)}   (+{_elapsed(time_s)})"
        )
        if self._curve_lines:
            upto = int(np.searchsorted(self._curve_t, time_s, side="right"))
            for line, name in zip(self._curve_lines, STATES, strict=True):
                line.set_data(self._curve_t[:upto], self._curve_counts[name][:upto])
            self._cursor.set_xdata([time_s, time_s])

    def render(self) -> np.ndarray:
        """The figure as an (height, width, 3) uint8 array (a view, valid until the next call)."""
        if not hasattr(self.fig.canvas, "copy_from_bbox"):  # a figure from elsewhere: render it with Agg
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(self.fig)
        canvas = self.fig.canvas
        if self._background is None:
            for artist in self._moving:
                artist.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._background)
        for artist in self._moving:
            self.fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())[:, :, :3]

    # -- building the figure ------------------------------------------------------------------------------

    def _build_floors(self) -> None:
        plan, lay = self.plan, self.layout
        self.ax = self.fig.add_axes((0.005, 0.01, 0.77, 0.9))
        self.ax.set_axis_off()
        self.ax.set_anchor("NW")  # the floors hang from under the title; spare room goes below
        rows, cols = lay.size
        palette = _palette()
        mosaic = np.empty((rows, cols, 3), dtype=np.uint8)
        mosaic[:] = palette["void"]
        tile_rgb = np.array([palette[k] for k in _TILE_KEYS], dtype=np.uint8)
        door_ys, door_xs, door_flat = [], [], []
        for f in lay.floors:
            r0, r1, c0, c1 = lay.crop[f]
            oy, ox = lay.offset[f]
            mosaic[oy : oy + r1 - r0, ox : ox + c1 - c0] = tile_rgb[plan.tiles[f, r0:r1, c0:c1]]
            fy, fx = np.nonzero(plan.doors[f, r0:r1, c0:c1] >= 0)
            door_ys.append(fy + oy)
            door_xs.append(fx + ox)
            door_flat.append(np.ravel_multi_index((np.full(fy.size, f), fy + r0, fx + c0), plan.shape))
        self._door_xy = np.stack([np.concatenate(door_xs), np.concatenate(door_ys)], axis=1).astype(float)
        self._door_flat = np.concatenate(door_flat)
        self.ax.imshow(mosaic, interpolation="nearest", extent=(-0.5, cols - 0.5, rows - 0.5, -0.5), zorder=0)
        self.ax.set_xlim(-0.5, cols - 0.5)
        self.ax.set_ylim(rows - 0.5, -0.5)
        self.ax.set_aspect("equal")
        self._tile_pt = _tile_points(self.ax, rows, cols)
        # Doors are square marks one tile wide over the map, so that a door that changes costs no redraw of it.
        self._door_rgba = np.array(
            [[*(_palette()[f"door_{s.name.lower()}"] / 255.0), 1.0] for s in DoorState], dtype=float
        )
        self._door_tiles = self.ax.scatter(
            self._door_xy[:, 0], self._door_xy[:, 1], s=self._tile_pt**2, marker="s", linewidths=0, zorder=1
        )
        self._door_marks = {}
        for state in (DoorState.BARRICADED, DoorState.BROKEN):
            style = DOOR_STYLES[state.name.lower()]
            # A few tiles wide when tiles are tiny, so a barricade shows; about one tile when they are large.
            across = max(min(float(style["size"]) * self._tile_pt, 6.0), 0.9 * self._tile_pt)
            self._door_marks[int(state)] = self.ax.scatter(
                np.zeros(0),
                np.zeros(0),
                s=across**2,
                marker=style["marker"],
                c=style["face"],
                edgecolors=style["edge"],
                linewidths=0.4,
                zorder=2,
            )
        self._floor_titles = {}
        for f in lay.floors:
            oy, ox = lay.offset[f]
            self._floor_titles[f] = self.ax.text(
                ox, oy - 0.8, plan.names[f], fontsize=9, fontweight="bold", va="bottom", ha="left", color="#222222"
            )
        self._moving += [self._door_tiles, *self._door_marks.values(), *self._floor_titles.values()]
        self._room_labels()

    def _room_labels(self) -> None:
        """Short names at the middle of each room big enough to hold them; corridors and landings stay bare."""
        from scipy import ndimage

        plan, lay = self.plan, self.layout
        font_pt = float(np.clip(self._tile_pt * 1.9, 4.0, 8.0))
        open_space = np.isin(plan.tiles, (Tile.FLOOR, Tile.STAIRS, Tile.EXIT))
        regions = {f: ndimage.label(open_space[f])[0] for f in lay.floors}
        boxes = {f: ndimage.find_objects(regions[f]) for f in lay.floors}
        placed = []
        for room in plan.rooms:
            f, r, c = int(room.get("floor", -1)), int(room.get("row", -1)), int(room.get("col", -1))
            if f in regions and 0 <= r < plan.shape[1] and 0 <= c < plan.shape[2] and regions[f][r, c]:
                placed.append((f, r, c, int(regions[f][r, c]), str(room.get("name", ""))))
        rooms_in_region: dict[tuple[int, int], int] = {}
        for f, _, _, region, _ in placed:
            rooms_in_region[(f, region)] = rooms_in_region.get((f, region), 0) + 1
        for f, r, c, region, name in placed:
            label = _short_room_name(name)
            if not label:
                continue
            box = boxes[f][region - 1]
            height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
            cy, cx = float(r), float(c)
            if rooms_in_region[(f, region)] == 1:
                my, mx = (box[0].start + box[0].stop - 1) / 2, (box[1].start + box[1].stop - 1) / 2
                if regions[f][round(my), round(mx)] == region:  # not for a ring-shaped yard, whose middle is elsewhere
                    cy, cx = my, mx
            lines = _fit(label, width * self._tile_pt, height * self._tile_pt, font_pt)
            if lines is None:
                continue
            r0, _, c0, _ = lay.crop[f]
            oy, ox = lay.offset[f]
            self.ax.text(
                cx - c0 + ox,
                cy - r0 + oy,
                lines,
                fontsize=font_pt,
                ha="center",
                va="center",
                color="#6b6b6b",
                zorder=1,
                linespacing=0.95,
            )

    def _build_people(self) -> None:
        from matplotlib import patheffects

        across = min(0.95 * self._tile_pt, 8.0)
        self._dots = {}
        for z, name in enumerate(_DRAW_ORDER):
            self._dots[name] = self.ax.scatter(
                np.zeros(0),
                np.zeros(0),
                s=(across * (0.75 if name == "dead" else 1.0)) ** 2,
                c=STATE_COLOURS[name],
                marker="o",
                linewidths=0,
                zorder=3 + z,
            )
        self._named_ids = np.flatnonzero(self._named)[:_NAMED_LABELS_MAX]
        outline = [patheffects.withStroke(linewidth=1.6, foreground="white")]
        self._name_texts = [
            self.ax.text(
                0,
                0,
                str(self._names[person]) if self._names is not None else str(person),
                fontsize=6,
                color="#111111",
                ha="left",
                va="bottom",
                zorder=10,
                path_effects=outline,
                visible=False,
            )
            for person in self._named_ids
        ]
        self._moving += [*self._dots.values(), *self._name_texts]

    def _build_sidebar(self, curves: bool, span: tuple[float, float] | None) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = self.fig
        self._title = fig.text(0.01, 0.965, "", fontsize=13, fontweight="bold", va="center", ha="left")
        # The people's key is laid out by hand: its counts change every frame, its names and dots never do.
        x0, y0, dy = 0.8, 0.9, 0.03
        fig.text(x0 - 0.005, y0 + 0.005, "people", fontsize=9, va="bottom", ha="left")
        self._count_texts = []
        for k, state in enumerate(STATES):
            y = y0 - (k + 0.5) * dy
            fig.add_artist(
                Line2D(
                    [x0 + 0.004],
                    [y],
                    ls="",
                    marker="o",
                    markersize=7,
                    markerfacecolor=STATE_COLOURS[state],
                    markeredgewidth=0,
                    transform=fig.transFigure,
                )
            )
            fig.text(x0 + 0.014, y, state, fontsize=9, va="center", ha="left")
            self._count_texts.append(fig.text(x0 + 0.12, y, "", fontsize=9, va="center", ha="right"))
        palette = {k: _hex(v) for k, v in _palette().items()}
        handles: list = [Patch(facecolor=palette[k], edgecolor="#999999", lw=0.4) for k in _KEY_TILES]
        for state in DoorState:
            style = DOOR_STYLES[state.name.lower()]
            if style["marker"]:
                handles.append(
                    Line2D(
                        [],
                        [],
                        ls="",
                        marker=style["marker"],
                        markersize=7,
                        markerfacecolor=style["face"],
                        markeredgecolor=style["edge"],
                        markeredgewidth=0.5,
                    )
                )
            else:
                handles.append(Patch(facecolor=style["colour"], edgecolor="#999999", lw=0.4))
        fig.legend(
            handles,
            list(_KEY_TILES) + [f"door {s.name.lower()}" for s in DoorState],
            loc="upper left",
            bbox_to_anchor=(x0 - 0.01, y0 - (len(STATES) + 1) * dy),
            frameon=False,
            fontsize=8,
            title="building",
            title_fontsize=9,
            alignment="left",
            handlelength=1.2,
        )
        self._moving += [self._title, *self._count_texts]
        self._curve_lines = []
        if not curves:
            return
        ts = self.results.timeseries
        self._curve_t = ts["time_s"].to_numpy(dtype=float) if len(ts) else np.zeros(0)
        self._curve_counts = {s: (ts[s].to_numpy() if s in ts else np.zeros(len(ts))) for s in STATES}
        lo, hi = (
            span if span is not None else (0.0, _focus_end(self._curve_t, self._curve_counts, run_end(self.results)))
        )
        hi = max(hi, lo + 60.0)
        ax = fig.add_axes((0.815, 0.07, 0.17, 0.2))
        for s in STATES:
            ax.plot(self._curve_t, self._curve_counts[s], color=STATE_COLOURS[s], lw=0.8, alpha=0.18)
        self._curve_lines = [ax.plot([], [], color=STATE_COLOURS[s], lw=1.4)[0] for s in STATES]
        self._cursor = ax.axvline(lo, color="#333333", lw=0.8)
        ax.set_xlim(lo, hi)
        top = max((int(c.max()) for c in self._curve_counts.values() if c.size), default=1)
        ax.set_ylim(0, max(top, 1) * 1.05)
        ticks = self.clock.ticks(lo, hi, 3)
        ax.set_xticks(ticks, [self.clock.short(v) for v in ticks])
        ax.tick_params(labelsize=7)
        ax.set_title("people per state", fontsize=8, loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        self._moving += [*self._curve_lines, self._cursor]

    # -- per-frame helpers --------------------------------------------------------------------------------

    def _update_doors(self, doors: np.ndarray) -> None:
        state = doors.reshape(-1)[self._door_flat]
        if self._shown_doors is not None and np.array_equal(state, self._shown_doors):
            return
        self._shown_doors = state.copy()
        self._door_tiles.set_facecolor(self._door_rgba[np.maximum(state, 0)])
        for code, artist in self._door_marks.items():
            artist.set_offsets(self._door_xy[state == code])

    def _update_floor_titles(self, floor: np.ndarray, state: np.ndarray) -> None:
        inside = (floor >= 0) & (state >= 0)
        per = np.zeros((len(self.plan.names), len(STATES)), dtype=np.int64)
        np.add.at(per, (floor[inside], state[inside]), 1)
        living = per[:, [STATES.index(s) for s in ("healthy", "bitten", "hambie")]].sum(axis=1)
        zombies = per[:, STATES.index("zombie")]
        for f, text in self._floor_titles.items():
            plural = "" if zombies[f] == 1 else "s"
            text.set_text(f"{self.plan.names[f]}   {living[f]:,} living · {zombies[f]:,} zombie{plural}")

    def _update_names(self, xy: np.ndarray, on_map: np.ndarray, state: np.ndarray) -> None:
        gone = (state == STATES.index("escaped")) | (state == STATES.index("rescued"))
        for person, text in zip(self._named_ids, self._name_texts, strict=True):
            visible = bool(on_map[person] and not gone[person])
            text.set_visible(visible)
            if visible:
                text.set_position((xy[person, 0] + 0.6, xy[person, 1] - 0.4))


_KEY_TILES = ("wall", "window", "stairs", "exit")


_TILE_NAMES = {Tile.VOID: "void", Tile.WALL: "wall", Tile.FLOOR: "floor", Tile.DOOR: "door_open",
               Tile.WINDOW: "window", Tile.STAIRS: "stairs", Tile.EXIT: "exit"}  # fmt: skip
_TILE_KEYS = [_TILE_NAMES[Tile(k)] for k in range(len(Tile))]  # palette key per Tile code


def _palette() -> dict[str, np.ndarray]:
    colours = dict(TILE_COLOURS)
    colours.update({f"door_{k}": v["colour"] for k, v in DOOR_STYLES.items()})
    return {k: np.array([int(v[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8) for k, v in colours.items()}


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def _pack(plan: FloorPlan, shown: list[int], target_aspect: float) -> _Layout:
    """Crop each floor to what is built and lay the floors out in rows, as large as the drawing area allows."""
    F = len(plan.names)
    crop = np.zeros((F, 4), dtype=np.int64)
    for f in shown:
        built = np.nonzero(plan.tiles[f] != Tile.VOID)
        if built[0].size:
            crop[f] = (built[0].min(), built[0].max() + 1, built[1].min(), built[1].max() + 1)
        else:
            crop[f] = (0, max(plan.shape[1], 1), 0, max(plan.shape[2], 1))
    heights = crop[:, 1] - crop[:, 0] + _TITLE_ROWS
    widths = crop[:, 3] - crop[:, 2]
    best: tuple[float, int] | None = None
    for per_row in range(1, len(shown) + 1):
        shelves = [shown[i : i + per_row] for i in range(0, len(shown), per_row)]
        total_w = max(sum(widths[s]) + _GAP * (len(s) - 1) for s in shelves)
        total_h = sum(max(heights[s]) for s in shelves) + _GAP * (len(shelves) - 1)
        scale = min(target_aspect / total_w, 1.0 / total_h)  # tile size in a 1 x target_aspect area
        if best is None or scale > best[0] * 1.0001:
            best = (scale, per_row)
    per_row = best[1] if best else 1
    offset = np.full((F, 2), -1, dtype=np.int64)
    y = 0
    total_w = 0
    for i in range(0, len(shown), per_row):
        shelf = shown[i : i + per_row]
        x = 0
        for f in shelf:
            offset[f] = (y + _TITLE_ROWS, x)
            x += widths[f] + _GAP
        total_w = max(total_w, x - _GAP)
        y += max(heights[shelf]) + _GAP
    return _Layout(floors=shown, crop=crop, offset=offset, size=(max(y - _GAP, 1), max(total_w, 1)))


def _tile_points(ax, rows: int, cols: int) -> float:
    """How many points one tile is wide once the mosaic is fitted in `ax` with equal aspect."""
    fig = ax.get_figure()
    box = ax.get_position()
    width_pt = box.width * fig.get_figwidth() * 72
    height_pt = box.height * fig.get_figheight() * 72
    return min(width_pt / cols, height_pt / rows)


def _short_room_name(name: str) -> str:
    """A label short enough for a small room: ``Classroom 2-3`` -> ``2-3``; no label for corridors."""
    lowered = name.lower()
    if not name or "corridor" in lowered or "landing" in lowered:
        return ""
    if "toilet" in lowered:
        return "WC"
    short = re.sub(r"^classroom\s+", "", name, flags=re.IGNORECASE)
    short = re.sub(r"^\d+F\s+", "", short)  # the floor is in the panel's title
    short = re.sub(r"\s*\((?:roof|east|west|north|south)\)$", "", short)
    short = re.sub(r"\s+room$", "", short, flags=re.IGNORECASE) if len(short) > 12 else short
    return short


def _fit(label: str, width_pt: float, height_pt: float, font_pt: float) -> str | None:
    """The label on one or two lines if it fits the room (with a margin), else None."""
    char_pt, line_pt = 0.6 * font_pt, 1.2 * font_pt
    room_w, room_h = 0.9 * width_pt, 0.9 * height_pt
    if len(label) * char_pt <= room_w and line_pt <= room_h:
        return label
    words = label.split()
    if len(words) > 1 and 2 * line_pt <= room_h:
        cut = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))))
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if max(len(first), len(second)) * char_pt <= room_w:
            return f"{first}\n{second}"
    return None


def _elapsed(seconds: float) -> str:
    total = round(seconds)
    h, rest = divmod(total, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
