"""The browser replay of a school run: one self-contained replay.html with the run's data embedded.

The page needs no server and no network: the style, the script and the data are all inside the file.
The data is one JSON document in a ``<script type="application/json" id="replay-data">`` block; long
numeric columns (trajectories, counts, the room of every tile) are base64 of little-endian typed
arrays, described as ``{"dtype": "uint16", "data": "..."}`` so the browser maps them straight onto
``Uint16Array`` and friends. `read_replay_data` and `decode_array` read them back in Python.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from hyosan.building.model import DoorState
from hyosan.results import Results, atomic_write

__all__ = [
    "REPLAY_FORMAT",
    "STATES",
    "decode_array",
    "read_replay_data",
    "replay_data",
    "write_replay",
]

REPLAY_FORMAT = 1  # bump when the embedded data changes shape; the page checks it
# The order of hyosan.school.codes.State: trajectories store these codes.
STATES = ("healthy", "bitten", "zombie", "hambie", "dead", "escaped", "rescued")

# The time slider runs at one simulated second per unit while the school is busy, and faster across
# quiet stretches (few people moving, no event), so that the busy first hour of a three-day run is not
# a sliver at its left end. Activity is judged per minute.
BUSY_WINDOW_S = 60
BUSY_MOVERS = 0.1  # a minute in which this share of everyone moves (or at least 10 people) is busy
# Events too frequent or too small to hold the slider at normal pace on their own (a scream, a door).
MINOR_EVENTS = frozenset(
    {"scream", "panic", "freeze", "grief", "door_open", "door_close", "hold_door", "wait", "abandon", "unbarricade"}
)
BUSY_MARGIN_WINDOWS = 2  # minutes kept at normal pace around any busy minute
QUIET_MIN_S = 10 * 60  # shorter quiet stretches play at normal pace
QUIET_SHOWN_S = 2 * 60  # slider length of a 10-minute quiet stretch; longer ones grow with log2 of their length

# Events that tell the whole school's story: they get a marker on the time slider.
WORLD_EVENT_LABELS = {
    "patient_zero": "Patient zero",
    "seal": "The army seals the school",
    "close_exits": "Exits closed",
    "open_exits": "Exits open",
    "power_cut": "Power cut",
    "power_on": "Power back",
    "rescue_arrives": "Rescue arrives",
    "rescue_leaves": "Rescue leaves",
    "announcement": "Announcement",
    "phone_call": "Phone call",
}
DOOR_EVENTS = {
    "door_open": DoorState.OPEN,
    "door_close": DoorState.CLOSED,
    "barricade": DoorState.BARRICADED,
    "breach": DoorState.BROKEN,
}
DOOR_SYMBOLS = {"/": DoorState.OPEN, "+": DoorState.CLOSED, "&": DoorState.LOCKED, "%": DoorState.BARRICADED}
_SPACE_SYMBOLS = ".>0123456789"  # floor, exit and stairs: the tiles rooms are made of

_DATA_BLOCK = re.compile(r'<script type="application/json" id="replay-data">(?P<json>.*?)</script>', flags=re.DOTALL)


def write_replay(results: Results, path: str | Path) -> Path:
    """Write the replay of `results` as one self-contained HTML file at `path` (atomically).

    The same results give a byte-identical file.
    """
    path = Path(path)
    page = render_page(replay_data(results))
    atomic_write(path, lambda tmp: tmp.write_bytes(page.encode("utf-8")))
    return path


def render_page(data: dict[str, Any]) -> str:
    """The HTML page: the template with its style, script and `data` put inline."""
    assets = resources.files("hyosan") / "data" / "replay"
    template = (assets / "replay.html").read_text(encoding="utf-8")
    # `<` is escaped inside the JSON so that no string in it can close the script element.
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    parts = {
        "TITLE": html.escape(data["title"]),
        "STYLE": (assets / "replay.css").read_text(encoding="utf-8"),
        "SCRIPT": (assets / "replay.js").read_text(encoding="utf-8"),
        "DATA": payload,
    }
    # One pass, so that text put in is never searched for placeholders again.
    return re.sub(r"@@(TITLE|STYLE|SCRIPT|DATA)@@", lambda m: parts[m.group(1)], template)


def read_replay_data(page: str | Path) -> dict[str, Any]:
    """The data embedded in a replay page, given as a `Path` to it or as the page's text."""
    text = page.read_text(encoding="utf-8") if isinstance(page, Path) else page
    found = _DATA_BLOCK.search(text)
    if found is None:
        raise ValueError("no replay data block in this page")
    return json.loads(found.group("json"))


def decode_array(spec: dict[str, str]) -> np.ndarray:
    """A typed array of the embedded data, e.g. ``decode_array(data["tracks"]["row"])``."""
    return np.frombuffer(base64.b64decode(spec["data"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<"))


def replay_data(results: Results) -> dict[str, Any]:
    """Everything the page shows, as a JSON-ready dict (see the module docstring for the encoding)."""
    world = results.world
    if not world or not world.get("maps"):
        raise ValueError("these results carry no world.json building to draw")
    floors = [str(f) for f in world["floors"]]
    tiles = _tile_grid(world["maps"])
    room_grid, labels = _rooms(tiles, world["rooms"])
    people = results.people.sort_values("id", kind="stable")
    n_people = len(people)
    tracks = _tracks(results.trajectories, n_people)
    events, strings, kinds = _events(results.events, floors, world["rooms"])
    doors, door_changes = _doors(tiles, results.events, floors, world["rooms"], room_grid)
    series = _series(results.timeseries)
    summary = results.summary
    duration = _number(summary.get("simulated_s"))
    last = max([0.0, *_maybe_max(results.trajectories["time_s"]), *_maybe_max(results.events["time_s"])])
    duration = max(duration if duration is not None else 0.0, last, *_maybe_max(results.timeseries["time_s"]))
    major = ~results.events["kind"].isin(MINOR_EVENTS) if len(results.events) else np.zeros(0, dtype=bool)
    knots_t, knots_u = _timeline(
        np.asarray(results.trajectories["time_s"], dtype=np.float64),
        np.concatenate([
            np.asarray(results.events["time_s"], dtype=np.float64)[np.asarray(major)] if len(results.events) else [],
            _count_changes(results.timeseries),
        ]),
        duration,
        n_people,
    )  # fmt: skip
    return {
        "format": REPLAY_FORMAT,
        "title": f"{summary.get('scenario', world.get('name', 'hyosan'))} · seed {summary.get('seed', '?')}",
        "scenario": str(summary.get("scenario", "")),
        "seed": summary.get("seed"),
        "duration_s": _plain_number(duration),
        "start_clock_s": _start_clock(results.timeseries),
        "frame_every_s": _frame_every(results.trajectories["time_s"]),
        "states": list(STATES),
        "world": {
            "name": str(world.get("name", "")),
            "tile_m": world.get("tile_m", 1),
            "floors": floors,
            "rows": int(tiles.shape[1]),
            "cols": int(tiles.shape[2]),
            "maps": [floor.tobytes().decode("latin-1") for floor in tiles],
            "rooms": [
                {"name": str(r["name"]), "floor": int(r["floor"]), "light": bool(r.get("light", True)), **labels[i]}
                for i, r in enumerate(world["rooms"])
            ],
            "room_grid": _pack(room_grid.ravel()),
        },
        "people": {
            "name": [_text(v) for v in people["name"]],
            "role": [_text(v) for v in people["role"]],
            "class": [_text(v) for v in people["class"]] if "class" in people else [""] * n_people,
            "named": [_flag(v) for v in people["named"]] if "named" in people else [False] * n_people,
            "fate": [_text(v) for v in people["fate"]] if "fate" in people else [""] * n_people,
            "fate_time_s": [_plain_number(_number(v)) for v in people.get("fate_time_s", [None] * n_people)],
            "fate_room": [_text(v) for v in people.get("fate_room", [""] * n_people)],
        },
        "ties": _ties(results.relationships),
        "tracks": tracks,
        "events": events,
        "event_kinds": kinds,
        "strings": strings,
        "doors": doors,
        "door_changes": door_changes,
        "series": series,
        "markers": _markers(results.events, summary),
        "timeline": {"t": knots_t, "u": knots_u},
    }


# --- helpers ----------------------------------------------------------------------------------------


def _pack(values: np.ndarray | list[Any], dtype: str | None = None) -> dict[str, str]:
    """Base64 of a little-endian typed array; integers take the smallest unsigned type that holds them."""
    array = np.asarray(values)
    if dtype is None:
        top = int(array.max()) if array.size else 0
        if array.size and int(array.min()) < 0:
            raise ValueError("negative values need an explicit signed dtype")
        dtype = "uint8" if top < 2**8 else "uint16" if top < 2**16 else "uint32"
    out = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "data": base64.b64encode(out.tobytes()).decode("ascii")}


def _times(values: np.ndarray) -> dict[str, str]:
    """Times as float32 when that is exact (whole or half seconds over a run of days), else float64."""
    values = np.asarray(values, dtype=np.float64)
    exact = np.array_equal(values.astype(np.float32).astype(np.float64), values)
    return _pack(values, "float32" if exact else "float64")


def _tile_grid(maps: list[list[str]]) -> np.ndarray:
    """The floor plans as one (floor, row, col) array of character codes, padded with void."""
    rows = max(len(m) for m in maps)
    cols = max((len(line) for m in maps for line in m), default=0)
    grid = np.full((len(maps), rows, cols), ord(" "), dtype=np.uint8)
    for f, lines in enumerate(maps):
        for y, line in enumerate(lines):
            codes = np.frombuffer(line.encode("ascii", errors="replace"), dtype=np.uint8)
            grid[f, y, : codes.size] = codes
    return grid


def _rooms(tiles: np.ndarray, rooms: list[dict[str, Any]]) -> tuple[np.ndarray, list[dict[str, float]]]:
    """The room of every tile (room index + 1; 0 for none) and where to write each room's name.

    Rooms are the open spaces between walls and doors, as the floor-plan reader finds them; each room of
    world.json names the space that holds its anchor tile.
    """
    space = np.isin(tiles, np.frombuffer(_SPACE_SYMBOLS.encode("ascii"), dtype=np.uint8))
    four = ndimage.generate_binary_structure(2, 1)
    regions = np.zeros(tiles.shape, dtype=np.int32)
    for f in range(tiles.shape[0]):
        regions[f], _ = ndimage.label(space[f], structure=four)
    grid = np.zeros(tiles.shape, dtype=np.int32)
    labels = []
    for i, room in enumerate(rooms):
        f, y, x = int(room["floor"]), int(room["row"]), int(room["col"])
        region = regions[f, y, x] if 0 <= y < tiles.shape[1] and 0 <= x < tiles.shape[2] else 0
        if region == 0:
            labels.append({"label_row": y + 0.5, "label_col": x + 0.5, "width": 1.0})
            continue
        where = np.argwhere(regions[f] == region)
        grid[f][regions[f] == region] = i + 1
        # The tile nearest the centre of mass keeps an L-shaped corridor's name on the corridor.
        centre = where.mean(axis=0)
        best = where[np.argmin(((where - centre) ** 2).sum(axis=1))]
        width = int(where[:, 1].max() - where[:, 1].min() + 1)
        labels.append({"label_row": float(best[0]) + 0.5, "label_col": float(best[1]) + 0.5, "width": float(width)})
    return grid, labels


def _tracks(trajectories: pd.DataFrame, n_people: int) -> dict[str, Any]:
    """Trajectory rows grouped by person (then time): row ``start[p]`` to ``start[p + 1]`` are person p's."""
    person = np.asarray(trajectories["person"], dtype=np.int64)
    if person.size and (person.min() < 0 or person.max() >= n_people):
        raise ValueError("trajectories name people who are not in the people table")
    time = np.asarray(trajectories["time_s"], dtype=np.float64)
    order = np.lexsort((time, person))
    counts = np.bincount(person, minlength=n_people) if person.size else np.zeros(n_people, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)])
    return {
        "start": _pack(start, "uint32"),
        "time": _times(time[order]),
        "floor": _pack(np.asarray(trajectories["floor"])[order]),
        "row": _pack(np.asarray(trajectories["row"])[order]),
        "col": _pack(np.asarray(trajectories["col"])[order]),
        "state": _pack(_state_codes(trajectories["state"])[order], "uint8"),
    }


def _state_codes(states: pd.Series) -> np.ndarray:
    if isinstance(states.dtype, pd.CategoricalDtype) or not pd.api.types.is_integer_dtype(states):
        lookup = {name: code for code, name in enumerate(STATES)}
        return np.array([lookup[str(s)] for s in states], dtype=np.uint8)
    return np.asarray(states, dtype=np.uint8)


def _events(
    events: pd.DataFrame, floors: list[str], rooms: list[dict[str, Any]]
) -> tuple[dict[str, list[Any]], list[str], list[str]]:
    """Events as columns; kinds, rooms and notes are indices into the `kinds` and `strings` tables."""
    strings: list[str] = []
    string_index: dict[str, int] = {}
    kinds: list[str] = []
    kind_index: dict[str, int] = {}

    def intern(text: str, table: list[str], index: dict[str, int]) -> int:
        if not text:
            return -1
        if text not in index:
            index[text] = len(table)
            table.append(text)
        return index[text]

    for room in rooms:  # room names first, in building order: stable across runs of one scenario
        intern(str(room["name"]), strings, string_index)
    floor_index = {name: f for f, name in enumerate(floors)}
    columns: dict[str, list[Any]] = {
        k: [] for k in ("time", "kind", "person", "other", "floor", "row", "col", "room", "note")
    }
    for e in events.to_dict(orient="records"):
        columns["time"].append(_plain_number(float(e["time_s"])))
        columns["kind"].append(intern(_text(e["kind"]), kinds, kind_index))
        columns["person"].append(int(e["person"]))
        columns["other"].append(int(e["other"]))
        columns["floor"].append(floor_index.get(_text(e["floor"]), -1))
        columns["row"].append(int(e["row"]))
        columns["col"].append(int(e["col"]))
        columns["room"].append(intern(_text(e["room"]), strings, string_index))
        columns["note"].append(intern(_text(e["note"]), strings, string_index))
    return columns, strings, kinds


def _doors(
    tiles: np.ndarray,
    events: pd.DataFrame,
    floors: list[str],
    rooms: list[dict[str, Any]],
    room_grid: np.ndarray,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The door tiles with their states at the start, and every later change of state, in time order.

    Kernel door events name the door's tile. Pulling down barricades (``unbarricade``, when a rescue
    calls people out) is logged once per room: every barricaded door that opens onto that room becomes
    a plain closed door, as in the simulation.
    """
    symbols = {ord(s): int(state) for s, state in DOOR_SYMBOLS.items()}
    where = np.argwhere(np.isin(tiles, list(symbols)))
    index = {(int(f), int(y), int(x)): k for k, (f, y, x) in enumerate(where)}
    state = np.array([symbols[int(tiles[f, y, x])] for f, y, x in where], dtype=np.uint8)
    initial = state.copy()
    room_of_name = {str(r["name"]): i for i, r in enumerate(rooms)}
    floor_index = {name: f for f, name in enumerate(floors)}
    _, H, W = tiles.shape
    change_t: list[float] = []
    change_door: list[int] = []
    change_state: list[int] = []
    for e in events.to_dict(orient="records"):
        kind = _text(e["kind"])
        targets: list[int] = []
        if kind in DOOR_EVENTS:
            key = (floor_index.get(_text(e["floor"]), -1), int(e["row"]) - 1, int(e["col"]) - 1)
            if key in index:
                targets = [index[key]]
            new = int(DOOR_EVENTS[kind])
        elif kind == "unbarricade" and _text(e["room"]) in room_of_name:
            room = room_of_name[_text(e["room"])] + 1
            new = int(DoorState.CLOSED)
            for k, (f, y, x) in enumerate(where):
                if state[k] != DoorState.BARRICADED:
                    continue
                around = [(y + dy, x + dx) for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))]
                if any(0 <= yy < H and 0 <= xx < W and room_grid[f, yy, xx] == room for yy, xx in around):
                    targets.append(k)
        for k in targets:
            state[k] = new
            change_t.append(float(e["time_s"]))
            change_door.append(k)
            change_state.append(new)
    doors = {
        "floor": _pack(where[:, 0] if where.size else []),
        "row": _pack(where[:, 1] if where.size else []),
        "col": _pack(where[:, 2] if where.size else []),
        "state": _pack(initial, "uint8"),
    }
    changes = {
        "time": _times(np.asarray(change_t, dtype=np.float64)),
        "door": _pack(np.asarray(change_door, dtype=np.int64), "uint32"),
        "state": _pack(np.asarray(change_state, dtype=np.int64), "uint8"),
    }
    return doors, changes


def _series(timeseries: pd.DataFrame) -> dict[str, Any]:
    """The whole school's counts per state at every record time (drawn under the time slider)."""
    counts = {
        state: _pack(np.asarray(timeseries[state], dtype=np.int64), "uint32") for state in STATES if state in timeseries
    }
    return {"time": _times(np.asarray(timeseries["time_s"], dtype=np.float64)), "counts": counts}


def _count_changes(timeseries: pd.DataFrame) -> np.ndarray:
    """Record times at which some count changed: someone was bitten, turned, stopped, got out."""
    present = [s for s in STATES if s in timeseries]
    if len(timeseries) < 2 or not present:
        return np.zeros(0)
    values = timeseries[present].to_numpy()
    changed = np.flatnonzero((values[1:] != values[:-1]).any(axis=1)) + 1
    return np.asarray(timeseries["time_s"], dtype=np.float64)[changed]


def _timeline(
    row_times: np.ndarray, moment_times: np.ndarray, duration: float, n_people: int
) -> tuple[list[float], list[float]]:
    """Knots of the piecewise-linear map from simulated time t to slider position u.

    A minute is busy when it holds one of `moment_times` (major events, changes of the counts) or at
    least `max(10, BUSY_MOVERS * everyone)` trajectory rows (people who moved or changed); busy minutes
    and `BUSY_MARGIN_WINDOWS` around them keep 1 unit per
    simulated second. A quiet stretch of length L (at least `QUIET_MIN_S`) shrinks to
    ``QUIET_SHOWN_S * (1 + log2(L / QUIET_MIN_S))``. Knots are whole seconds, so a whole-second slider
    position in a busy stretch maps back to exactly that second.
    """
    w = BUSY_WINDOW_S
    n_windows = max(1, math.ceil(duration / w))
    rows = np.bincount(np.clip(row_times // w, 0, n_windows - 1).astype(np.int64), minlength=n_windows)
    busy = rows >= max(10, math.ceil(BUSY_MOVERS * n_people))
    busy[np.clip(np.asarray(moment_times) // w, 0, n_windows - 1).astype(np.int64)] = True
    if BUSY_MARGIN_WINDOWS:
        busy = ndimage.binary_dilation(busy, iterations=BUSY_MARGIN_WINDOWS) if busy.any() else busy
    edges = np.flatnonzero(np.diff(np.concatenate([[1], busy.astype(np.int8), [1]])))
    quiet_runs = edges.reshape(-1, 2)  # [first quiet window, first busy window after it)
    knots_t, knots_u = [0.0], [0.0]
    end = float(max(1, math.ceil(duration)))
    for first, after in quiet_runs:
        t0, t1 = float(first * w), min(float(after * w), end)
        if t1 - t0 < QUIET_MIN_S:
            continue
        shown = float(round(min(t1 - t0, QUIET_SHOWN_S * (1 + math.log2((t1 - t0) / QUIET_MIN_S)))))
        if t0 > knots_t[-1]:
            knots_u.append(knots_u[-1] + t0 - knots_t[-1])
            knots_t.append(t0)
        knots_u.append(knots_u[-1] + shown)
        knots_t.append(t1)
    if end > knots_t[-1]:
        knots_u.append(knots_u[-1] + end - knots_t[-1])
        knots_t.append(end)
    return [_plain_number(t) for t in knots_t], [_plain_number(u) for u in knots_u]


def _markers(events: pd.DataFrame, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Moments worth a marker on the time slider: world events, the first bite, the fall of the school."""
    markers = []
    first_bite_seen = False
    for e in events.to_dict(orient="records"):
        kind = _text(e["kind"])
        t = _plain_number(float(e["time_s"]))
        where = _text(e["room"])
        if kind in WORLD_EVENT_LABELS:
            label = WORLD_EVENT_LABELS[kind]
            if kind == "patient_zero" and _text(e["name"]):
                label += f": {_text(e['name'])}"
            if where:
                label += f" ({where})"
            note = _text(e["note"])
            markers.append({"time": t, "kind": kind, "label": label + (f" — {note}" if note else "")})
        elif kind == "bite" and not first_bite_seen:
            first_bite_seen = True
            label = f"First bite: {_text(e['name'])} bitten by {_text(e['other_name'])}"
            markers.append({"time": t, "kind": "first_bite", "label": label + (f" in {where}" if where else "")})
    for key, kind, label in (
        ("school_fell_s", "school_fell", "The school falls: half of everyone is bitten"),
        ("last_survivor_s", "last_survivor", "The last survivor inside is bitten"),
    ):
        value = _number(summary.get(key))
        if value is not None:
            markers.append({"time": _plain_number(value), "kind": kind, "label": label})
    return sorted(markers, key=lambda m: m["time"])


def _ties(relationships: pd.DataFrame) -> dict[str, list[Any]]:
    ties: dict[str, list[Any]] = {"person": [], "other": [], "kind": [], "weight": []}
    for r in relationships.to_dict(orient="records"):
        person, other = _number(r.get("person")), _number(r.get("other"))
        if person is None or other is None:
            continue
        ties["person"].append(int(person))
        ties["other"].append(int(other))
        ties["kind"].append(_text(r.get("kind")))
        ties["weight"].append(_plain_number(_number(r.get("weight"))))
    return ties


def _start_clock(timeseries: pd.DataFrame) -> float | None:
    """Seconds since midnight of day 1 at simulated time 0, read from the first ``clock`` of the time series."""
    if "clock" not in timeseries or not len(timeseries):
        return None
    found = re.fullmatch(r"day (\d+) (\d+):(\d\d):(\d\d)", str(timeseries["clock"].iloc[0]).strip())
    if found is None:
        return None
    day, h, m, s = (int(v) for v in found.groups())
    return _plain_number((day - 1) * 86400 + h * 3600 + m * 60 + s - float(timeseries["time_s"].iloc[0]))


def _frame_every(times: pd.Series) -> float:
    """The trajectory sampling interval: the commonest gap between successive frame times."""
    frames = np.unique(np.asarray(times, dtype=np.float64))
    gaps = np.round(np.diff(frames), 6)
    if not gaps.size:
        return 10
    values, counts = np.unique(gaps, return_counts=True)
    return _plain_number(float(values[np.argmax(counts)]))


def _maybe_max(values: pd.Series) -> list[float]:
    return [float(np.max(values))] if len(values) else []


def _number(value: Any) -> float | None:
    """A number from a table cell that may be NaN, None, an empty string (CSV) or a numeric string."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _plain_number(value: float | None) -> float | int | None:
    """Whole numbers as int, so that the JSON says 600 rather than 600.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _flag(value: Any) -> bool:
    """A boolean cell as pandas keeps it (bool) or as a CSV read back gives it ("True")."""
    return str(value).strip().lower() in ("true", "1", "yes")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
