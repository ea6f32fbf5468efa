"""Floor plans: read plain-text maps and Tiled JSON maps, and assemble them into one `Building`.

Legend of a plain-text map (one character per tile; 1 tile = `tile_m` metres, 1 m by default):

====  =====================================================================
``#`` wall
``.`` floor
`` `` (space) void: nothing there, e.g. around the footprint of an upper floor
``+`` door, closed
``/`` door, open
``&`` door, locked
``=`` window (see through, not walk through)
``0``-``9`` stairs; the same digit on adjacent floors is one stairwell
``>`` exit to the outside
letter  a room label: a floor tile that names the open space around it
====  =====================================================================

A room is every walkable tile reachable from its label without crossing a wall, door, window or
void. Letters must be declared in the scenario's ``rooms`` table of that floor. Walkable space with no
label becomes a corridor named after its floor.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from hyosan.building.model import Building, DoorState, Room, Tile
from hyosan.errors import UserInputError

__all__ = [
    "LEGEND",
    "MAX_MAP_BYTES",
    "MAX_TILES",
    "FloorPlan",
    "FloorSpec",
    "RoomSpec",
    "assemble_building",
    "building_from_text",
    "read_floor_plan",
]

LEGEND: dict[str, str] = {
    "#": "wall",
    ".": "floor",
    " ": "void",
    "+": "door (closed)",
    "/": "door (open)",
    "&": "door (locked)",
    "=": "window",
    "0-9": "stairs (the digit is the stairwell id)",
    ">": "exit",
    "a-z, A-Z": "room label (declared in the scenario)",
}

# Refuse absurd maps before reading them: a school floor of 2,000 x 2,000 m is already a city.
MAX_MAP_BYTES = 8_000_000
MAX_TILES = 20_000_000  # over all floors, after padding to one shape

_SYMBOL_TILE = {
    "#": Tile.WALL,
    ".": Tile.FLOOR,
    " ": Tile.VOID,
    "+": Tile.DOOR,
    "/": Tile.DOOR,
    "&": Tile.DOOR,
    "=": Tile.WINDOW,
    ">": Tile.EXIT,
}
_SYMBOL_DOOR = {"+": DoorState.CLOSED, "/": DoorState.OPEN, "&": DoorState.LOCKED}
_ORTHOGONAL = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass(frozen=True)
class RoomSpec:
    """A room label declared for a floor: what the letter means."""

    name: str
    light: bool = True


@dataclass(frozen=True)
class FloorSpec:
    """One floor as the scenario declares it. Floors are listed bottom to top."""

    name: str
    map: Path
    rooms: dict[str, RoomSpec] = field(default_factory=dict)
    layer: str | None = None  # Tiled maps: name of the tile layer; default the first one
    corridor_light: bool = True


@dataclass
class FloorPlan:
    """The symbols of one floor, as read from its file, with where they came from."""

    file: Path
    symbols: list[str]  # one string per map row, all of the same width

    @property
    def rows(self) -> int:
        return len(self.symbols)

    @property
    def cols(self) -> int:
        return len(self.symbols[0]) if self.symbols else 0


def read_floor_plan(spec: FloorSpec) -> FloorPlan:
    """Read a floor's map file (plain text, or Tiled JSON if it ends in .tmj/.json)."""
    path = Path(spec.map)
    if not path.is_file():
        raise UserInputError(f"floor {spec.name!r}: map file not found", path)
    size = path.stat().st_size
    if size > MAX_MAP_BYTES:
        raise UserInputError(
            f"floor {spec.name!r}: map file is {size:,} bytes, more than the {MAX_MAP_BYTES:,} "
            "hyosan reads (about 2,800 x 2,800 tiles); is this really one floor of a building?",
            path,
        )
    if path.suffix.lower() in (".tmj", ".json"):
        return _read_tiled(path, spec)
    return _read_text(path, spec)


def assemble_building(
    name: str, floors: Sequence[FloorSpec], plans: Sequence[FloorPlan], tile_m: float = 1.0
) -> Building:
    """Turn validated floor plans into one `Building`, checking doors, stairs, rooms and reachability."""
    if not floors:
        raise UserInputError("the building has no floors: add at least one [[world.floors]]")
    rows = max(p.rows for p in plans)
    cols = max(p.cols for p in plans)
    n_tiles = len(plans) * rows * cols
    if n_tiles > MAX_TILES:
        raise UserInputError(
            f"the building would have {n_tiles:,} tiles ({len(plans)} floors of {rows} x {cols}), "
            f"more than the {MAX_TILES:,} hyosan allows"
        )
    shape = (len(plans), rows, cols)
    tiles = np.full(shape, Tile.VOID, dtype=np.uint8)
    door_state = np.zeros(shape, dtype=np.uint8)
    stair_id = np.full(shape, -1, dtype=np.int8)
    labels: list[dict[str, list[tuple[int, int]]]] = []

    for f, (spec, plan) in enumerate(zip(floors, plans, strict=True)):
        found: dict[str, list[tuple[int, int]]] = {}
        for y, line in enumerate(plan.symbols):
            for x, ch in enumerate(line):
                tile = _SYMBOL_TILE.get(ch)
                if tile is not None:
                    tiles[f, y, x] = tile
                    if ch in _SYMBOL_DOOR:
                        door_state[f, y, x] = _SYMBOL_DOOR[ch]
                elif ch.isdigit():
                    tiles[f, y, x] = Tile.STAIRS
                    stair_id[f, y, x] = int(ch)
                elif ch.isalpha() and ch.isascii():
                    if ch not in spec.rooms:
                        declared = ", ".join(sorted(spec.rooms)) or "none"
                        raise UserInputError(
                            f"floor {spec.name!r}: room label {ch!r} is not declared in the scenario's "
                            f"rooms for this floor (declared: {declared})",
                            plan.file,
                            y + 1,
                            x + 1,
                        )
                    tiles[f, y, x] = Tile.FLOOR
                    found.setdefault(ch, []).append((y, x))
                else:
                    raise UserInputError(
                        f"floor {spec.name!r}: unknown map symbol {ch!r}; expected one of "
                        + ", ".join(f"'{k}' {v}" for k, v in LEGEND.items()),
                        plan.file,
                        y + 1,
                        x + 1,
                    )
        for label in spec.rooms:
            if label not in found:
                raise UserInputError(
                    f"floor {spec.name!r}: room {label!r} ({spec.rooms[label].name}) is declared "
                    "but its label does not appear on the map",
                    plan.file,
                )
        labels.append(found)

    for f, plan in enumerate(plans):
        _check_doors(tiles[f], plan, floors[f].name)

    room_of, rooms = _find_rooms(tiles, floors, plans, labels)
    stairs = _link_stairs(tiles, stair_id, floors, plans)
    building = Building(
        name=name,
        floor_names=[s.name for s in floors],
        tiles=tiles,
        room_of=room_of,
        rooms=rooms,
        door_state=door_state,
        barricade_strength=np.zeros(shape, dtype=np.float32),
        stairs=stairs,
        stair_id=stair_id,
        tile_m=tile_m,
    )
    _check_reachable(building, plans)
    return building


def building_from_text(
    floors: Sequence[tuple[str, str, dict[str, RoomSpec] | None]] | Sequence[str],
    name: str = "building",
    tile_m: float = 1.0,
) -> Building:
    """Build from map text in memory: a list of map strings, or of (floor name, map text, rooms).

    Handy for tests, notebooks and examples; errors name the floor as ``<floor>`` instead of a file.
    """
    specs, plans = [], []
    for i, item in enumerate(floors):
        if isinstance(item, str):
            floor_name, text, rooms = f"{i + 1}F", item, None
        else:
            floor_name, text, rooms = item
        if rooms is None:  # declare every letter on the map as a room named after it
            rooms = {
                ch: RoomSpec(f"{floor_name} room {ch}") for ch in sorted(set(text)) if ch.isalpha() and ch.isascii()
            }
        spec = FloorSpec(floor_name, Path(f"<{floor_name}>"), rooms)
        lines = text.strip("\n").splitlines()
        width = max(len(line) for line in lines)
        specs.append(spec)
        plans.append(FloorPlan(Path(f"<{floor_name}>"), [line.ljust(width) for line in lines]))
    return assemble_building(name, specs, plans, tile_m)


# --- readers -----------------------------------------------------------------------------------


def _read_text(path: Path, spec: FloorSpec) -> FloorPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            f"floor {spec.name!r}: map is not UTF-8 text (byte {exc.start}); expected a plain-text "
            "map or a Tiled .tmj file",
            path,
        ) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # editors add trailing blank lines
    if not lines:
        raise UserInputError(f"floor {spec.name!r}: map is empty", path)
    width = len(lines[0])
    for y, line in enumerate(lines):
        if "\t" in line:
            raise UserInputError(
                f"floor {spec.name!r}: tab character in map; use spaces (void) or walls so columns line up",
                path,
                y + 1,
                line.index("\t") + 1,
            )
        if len(line) != width:
            raise UserInputError(
                f"floor {spec.name!r}: ragged map: this row has {len(line)} columns, the first row "
                f"has {width}; every row must have the same width (pad with spaces or walls)",
                path,
                y + 1,
                min(len(line), width) + 1,
            )
    return FloorPlan(path, lines)


def _read_tiled(path: Path, spec: FloorSpec) -> FloorPlan:
    """Read an orthogonal Tiled map; tiles carry a custom string property ``symbol`` from the legend."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise UserInputError(f"floor {spec.name!r}: not valid Tiled JSON: {exc}", path, line, col) from None
    if not isinstance(doc, dict) or doc.get("type", "map") != "map":
        raise UserInputError(f"floor {spec.name!r}: expected a Tiled map object", path)
    if doc.get("orientation", "orthogonal") != "orthogonal":
        raise UserInputError(
            f"floor {spec.name!r}: Tiled map orientation is {doc.get('orientation')!r}; only "
            "'orthogonal' maps are supported",
            path,
        )
    if doc.get("infinite"):
        raise UserInputError(f"floor {spec.name!r}: infinite Tiled maps are not supported", path)
    width, height = doc.get("width"), doc.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        raise UserInputError(f"floor {spec.name!r}: Tiled map needs positive integer width and height", path)
    if width * height > MAX_TILES:
        raise UserInputError(
            f"floor {spec.name!r}: Tiled map is {width} x {height} tiles, more than the {MAX_TILES:,} hyosan allows",
            path,
        )
    symbols = _tiled_symbols(doc, path, spec)
    named = _tiled_tile_layers(doc.get("layers", []), "")
    names = [name for name, _ in named]
    if not named:
        raise UserInputError(f"floor {spec.name!r}: Tiled map has no tile layer", path)
    if spec.layer is not None:
        chosen = [la for name, la in named if name == spec.layer]
        if not chosen:
            raise UserInputError(
                f"floor {spec.name!r}: no tile layer named {spec.layer!r} (tile layers: {names})", path
            )
        layer = chosen[0]
    elif len(named) > 1:
        # Guessing would silently build the wrong floor from a map with a decoration or furniture layer.
        raise UserInputError(
            f"floor {spec.name!r}: the Tiled map has {len(named)} tile layers {names}; "
            f'say which one is the floor plan with layer = "{names[0]}"',
            path,
        )
    else:
        layer = named[0][1]
    gids = _tiled_layer_gids(layer, width * height, path, spec)
    rows = []
    for y in range(height):
        row = []
        for x in range(width):
            gid = gids[y * width + x] & 0x0FFFFFFF  # clear flip/rotation flags
            if gid == 0:
                row.append(" ")
                continue
            ch = symbols.get(gid)
            if ch is None:
                raise UserInputError(
                    f"floor {spec.name!r}: tile id {gid} has no 'symbol' property in its tileset; give "
                    "every tile a string property 'symbol' with its legend character",
                    path,
                    y + 1,
                    x + 1,
                )
            row.append(ch)
        rows.append("".join(row))
    return FloorPlan(path, rows)


def _tiled_symbols(doc: dict, path: Path, spec: FloorSpec) -> dict[int, str]:
    symbols: dict[int, str] = {}
    for ts in doc.get("tilesets", []):
        if "source" in ts:
            raise UserInputError(
                f"floor {spec.name!r}: external tileset {ts['source']!r}; embed the tileset in the map "
                "(Tiled: Map > Embed Tileset)",
                path,
            )
        first = int(ts.get("firstgid", 1))
        for tile in ts.get("tiles", []):
            for prop in tile.get("properties", []):
                if prop.get("name") == "symbol":
                    value = str(prop.get("value", ""))
                    if len(value) != 1:
                        raise UserInputError(
                            f"floor {spec.name!r}: tile {tile.get('id')} of tileset "
                            f"{ts.get('name')!r} has symbol {value!r}; expected one legend character",
                            path,
                        )
                    symbols[first + int(tile["id"])] = value
    return symbols


def _tiled_tile_layers(layers: list, prefix: str) -> list[tuple[str, dict]]:
    """Tile layers in drawing order, those inside group layers named "group/layer"."""
    found = []
    for la in layers:
        name = f"{prefix}{la.get('name', '')}"
        if la.get("type") == "tilelayer":
            found.append((name, la))
        elif la.get("type") == "group":
            found += _tiled_tile_layers(la.get("layers", []), f"{name}/")
    return found


def _tiled_layer_gids(layer: dict, n: int, path: Path, spec: FloorSpec) -> list[int]:
    data = layer.get("data")
    if layer.get("encoding") == "base64":
        raw = base64.b64decode(data or "")
        compression = layer.get("compression", "")
        if compression == "zlib":
            raw = zlib.decompress(raw)
        elif compression == "gzip":
            raw = gzip.decompress(raw)
        elif compression:
            raise UserInputError(
                f"floor {spec.name!r}: Tiled layer compression {compression!r} is not supported; "
                "use CSV, or base64 with zlib or gzip",
                path,
            )
        gids = np.frombuffer(raw, dtype="<u4").tolist()
    else:
        gids = data
    if not isinstance(gids, list) or len(gids) != n:
        got = len(gids) if isinstance(gids, list) else type(gids).__name__
        raise UserInputError(
            f"floor {spec.name!r}: tile layer {layer.get('name')!r} has {got} tiles; expected width x height = {n}",
            path,
        )
    return [int(g) for g in gids]


# --- checks and derived structure --------------------------------------------------------------


def _check_doors(tiles: np.ndarray, plan: FloorPlan, floor: str) -> None:
    """A door must join two walkable tiles on opposite sides (north-south or west-east)."""
    open_space = np.isin(tiles, (Tile.FLOOR, Tile.STAIRS, Tile.EXIT, Tile.DOOR))
    rows, cols = tiles.shape
    for y, x in np.argwhere(tiles == Tile.DOOR):

        def ok(dy: int, dx: int, y: int = y, x: int = x) -> bool:
            yy, xx = y + dy, x + dx
            return 0 <= yy < rows and 0 <= xx < cols and bool(open_space[yy, xx])

        if not ((ok(-1, 0) and ok(1, 0)) or (ok(0, -1) and ok(0, 1))):
            raise UserInputError(
                f"floor {floor!r}: door is not between two walkable tiles; expected floor on both "
                "sides, north and south or west and east",
                plan.file,
                int(y) + 1,
                int(x) + 1,
            )


def _find_rooms(
    tiles: np.ndarray,
    floors: Sequence[FloorSpec],
    plans: Sequence[FloorPlan],
    labels: list[dict[str, list[tuple[int, int]]]],
) -> tuple[np.ndarray, list[Room]]:
    room_of = np.full(tiles.shape, -1, dtype=np.int32)
    rooms: list[Room] = []
    names: dict[str, tuple[Path, int, int]] = {}
    four = ndimage.generate_binary_structure(2, 1)
    for f, spec in enumerate(floors):
        space = np.isin(tiles[f], (Tile.FLOOR, Tile.STAIRS, Tile.EXIT))
        regions, n_regions = ndimage.label(space, structure=four)
        region_room: dict[int, str] = {}
        for label, where in labels[f].items():
            for y, x in where:
                r = int(regions[y, x])
                other = region_room.get(r)
                if other is not None and other != label:
                    raise UserInputError(
                        f"floor {spec.name!r}: room labels {other!r} ({spec.rooms[other].name}) and "
                        f"{label!r} ({spec.rooms[label].name}) are in the same open space; separate "
                        "the rooms with walls or doors",
                        plans[f].file,
                        y + 1,
                        x + 1,
                    )
                region_room[r] = label
        sizes = ndimage.sum_labels(space, regions, index=np.arange(1, n_regions + 1)).astype(int)
        label_rooms: dict[str, int] = {}
        corridors = 0
        for r in range(1, n_regions + 1):
            label = region_room.get(r)
            if label is not None and label in label_rooms:
                # A label written on several disjoint spaces: they are one room.
                room_of[f][regions == r] = label_rooms[label]
                continue
            where = np.argwhere(regions == r)
            anchor = (int(where[0][0]), int(where[0][1]))
            if label is not None:
                rs = spec.rooms[label]
                name, light = rs.name, rs.light
                anchor = labels[f][label][0]
            else:
                corridors += 1
                name, light = f"{spec.name} corridor", spec.corridor_light
                if corridors > 1:
                    name = f"{spec.name} corridor {corridors}"
            if name in names:
                pf, py, px = names[name]
                raise UserInputError(
                    f"floor {spec.name!r}: room name {name!r} is used twice (also at {pf}:{py}:{px}); "
                    "room names must be unique in the building",
                    plans[f].file,
                    anchor[0] + 1,
                    anchor[1] + 1,
                )
            names[name] = (plans[f].file, anchor[0] + 1, anchor[1] + 1)
            idx = len(rooms)
            rooms.append(Room(name, f, light, label, anchor, int(sizes[r - 1])))
            room_of[f][regions == r] = idx
            if label is not None:
                label_rooms[label] = idx
        # Merge the area of a label's disjoint spaces into its Room record.
        for idx in label_rooms.values():
            area = int((room_of[f] == idx).sum())
            if area != rooms[idx].area_tiles:
                r0 = rooms[idx]
                rooms[idx] = Room(r0.name, r0.floor, r0.light, r0.label, r0.anchor, area)
    return room_of, rooms


def _link_stairs(
    tiles: np.ndarray, stair_id: np.ndarray, floors: Sequence[FloorSpec], plans: Sequence[FloorPlan]
) -> np.ndarray:
    """Link each stair tile to the same stairwell on the floor above: same spot, else the nearest tile."""
    n_floors, rows, cols = tiles.shape
    links: list[tuple[int, int]] = []
    for f in range(n_floors):
        for sid in np.unique(stair_id[f][stair_id[f] >= 0]):
            here = np.argwhere(stair_id[f] == sid)
            below = f > 0 and bool((stair_id[f - 1] == sid).any())
            above = f + 1 < n_floors and bool((stair_id[f + 1] == sid).any())
            if not below and not above:
                y, x = here[0]
                neighbours = (
                    " or ".join(repr(floors[g].name) for g in (f - 1, f + 1) if 0 <= g < n_floors)
                    or "another floor (this building has one floor)"
                )
                raise UserInputError(
                    f"floor {floors[f].name!r}: stairs {int(sid)} link nowhere; put a '{int(sid)}' on "
                    f"the same stairwell of floor {neighbours}",
                    plans[f].file,
                    int(y) + 1,
                    int(x) + 1,
                )
            if not above:
                continue
            there = np.argwhere(stair_id[f + 1] == sid)
            for y, x in here:
                if stair_id[f + 1, y, x] == sid:
                    ty, tx = y, x
                else:
                    d2 = (there[:, 0] - y) ** 2 + (there[:, 1] - x) ** 2
                    ty, tx = there[int(np.argmin(d2))]
                a = (f * rows + int(y)) * cols + int(x)
                b = ((f + 1) * rows + int(ty)) * cols + int(tx)
                links.append((a, b))
            # Tiles above with no partner directly below still need a way down.
            for ty, tx in there:
                if stair_id[f, ty, tx] != sid:
                    d2 = (here[:, 0] - ty) ** 2 + (here[:, 1] - tx) ** 2
                    y, x = here[int(np.argmin(d2))]
                    a = (f * rows + int(y)) * cols + int(x)
                    b = ((f + 1) * rows + int(ty)) * cols + int(tx)
                    links.append((a, b))
    return np.array(sorted(set(links)), dtype=np.int64).reshape(-1, 2)


def _check_reachable(building: Building, plans: Sequence[FloorPlan]) -> None:
    """Every room must connect to an exit when every door can be opened (or broken)."""
    exits = building.exits
    if exits.size == 0:
        raise UserInputError("the building has no exit: put at least one '>' on a floor plan", plans[0].file)
    passable = np.isin(building.tiles, (Tile.FLOOR, Tile.STAIRS, Tile.EXIT, Tile.DOOR)).ravel()
    n = passable.size
    idx = np.arange(n).reshape(building.shape)
    src, dst = [], []
    for a, b in ((idx[:, :-1, :], idx[:, 1:, :]), (idx[:, :, :-1], idx[:, :, 1:])):
        a, b = a.ravel(), b.ravel()
        keep = passable[a] & passable[b]
        src.append(a[keep])
        dst.append(b[keep])
    src.append(building.stairs[:, 0])
    dst.append(building.stairs[:, 1])
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    s, d = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(s.size, dtype=np.int8), (s, d)), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    reachable_components = np.unique(component[exits])
    for room in building.rooms:
        y, x = room.anchor
        i = building.flat(room.floor, y, x)
        if component[i] not in reachable_components:
            raise UserInputError(
                f"floor {building.floor_names[room.floor]!r}: room {room.name!r} cannot be reached: "
                "no path of floor, doors and stairs joins it to an exit",
                plans[room.floor].file,
                y + 1,
                x + 1,
            )
