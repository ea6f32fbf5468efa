"""Floor plans: the text legend, Tiled maps, rooms, stairs, and every map mistake a user can make."""

import base64
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from hyosan.building import DoorState, Tile
from hyosan.building.floorplan import MAX_MAP_BYTES, building_from_text
from hyosan.scenario import load_scenario
from hyosan.world import build_building

GOOD_1F = """\
##########
#a...#b..#
#....+...>
#1...#...#
##########
"""
GOOD_2F = """\
##########
#c...&d..#
#....#...#
#1...=...#
##########
"""


def make_scenario(tmp_path: Path, maps: dict[str, str], extra: str = "", rooms: dict[str, str] | None = None) -> Path:
    """Write a two-floor scenario with the given map texts; `rooms` maps floor -> inline rooms table."""
    rooms = rooms or {
        "1F": '{ a = { name = "Lab" }, b = { name = "Hall" } }',
        "2F": '{ c = { name = "Class" }, d = { name = "Library", light = false } }',
    }
    text = 'name = "t"\n[world]\n'
    for floor, body in maps.items():
        (tmp_path / f"{floor}.txt").write_text(body, encoding="utf-8")
        text += f'[[world.floors]]\nname = "{floor}"\nmap = "{floor}.txt"\nrooms = {rooms.get(floor, "{}")}\n'
    text += "[people]\nstudents = 10\n" + extra
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_text_maps_become_one_building(tmp_path):
    b = build_building(load_scenario(make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})))
    assert b.shape == (2, 5, 10)
    assert b.floor_names == ["1F", "2F"]
    assert b.tiles[0, 0, 0] == Tile.WALL and b.tiles[0, 1, 2] == Tile.FLOOR
    assert b.tiles[0, 2, 5] == Tile.DOOR and b.door_state[0, 2, 5] == DoorState.CLOSED
    assert b.tiles[1, 1, 5] == Tile.DOOR and b.door_state[1, 1, 5] == DoorState.LOCKED
    assert b.tiles[1, 3, 5] == Tile.WINDOW
    assert b.tiles[0, 2, 9] == Tile.EXIT
    names = [r.name for r in b.rooms]
    assert {"Lab", "Hall", "Class", "Library"} <= set(names)
    lab = b.rooms[b.room_index("Lab")]
    assert lab.area_tiles == 12  # 4 x 3 room, stairs included
    assert not b.rooms[b.room_index("Library")].light
    light = b.light()
    assert not light[1, 1, 7] and light[1, 1, 2]
    # Stairwell 1 links (0,3,1) and (0,2,1)... to the same spots upstairs.
    links = {tuple(map(b.unflat, pair)) for pair in b.stairs}
    assert ((0, 3, 1), (1, 3, 1)) in links


def test_stairs_link_to_the_nearest_tile_of_the_same_stairwell():
    b = building_from_text(["#####\n#1.>#\n#####", "#####\n#..1#\n#####"])
    assert [tuple(map(b.unflat, p)) for p in b.stairs] == [((0, 1, 1), (1, 1, 3))]


def test_unlabelled_space_becomes_a_corridor_and_labels_spanning_spaces_merge():
    b = building_from_text(["#######\n#a+a+.>\n#######"])
    names = [r.name for r in b.rooms]
    assert names.count("1F room a") == 1
    assert b.rooms[b.room_index("1F room a")].area_tiles == 2
    assert "1F corridor" in names


def test_capacity_counts_walkable_area_at_the_given_density():
    b = building_from_text(["#####\n#...>\n#####"], tile_m=2.0)
    assert b.capacity(people_per_tile=1.5) == int(4 * 4 * 1.5)


def tiled_map(rows: list[str], encoding: str = "csv") -> dict:
    symbols = sorted({ch for row in rows for ch in row if ch != " "})
    gid = {ch: i + 1 for i, ch in enumerate(symbols)}
    data = [gid.get(ch, 0) for row in rows for ch in row]
    layer = {"type": "tilelayer", "name": "Floor", "width": len(rows[0]), "height": len(rows), "data": data}
    if encoding == "zlib":
        layer["encoding"] = "base64"
        layer["compression"] = "zlib"
        layer["data"] = base64.b64encode(zlib.compress(np.array(data, dtype="<u4").tobytes())).decode()
    return {
        "type": "map",
        "orientation": "orthogonal",
        "width": len(rows[0]),
        "height": len(rows),
        "infinite": False,
        "layers": [{"type": "objectgroup", "name": "notes"}, layer],
        "tilesets": [
            {
                "firstgid": 1,
                "name": "legend",
                "tiles": [
                    {"id": i - 1, "properties": [{"name": "symbol", "type": "string", "value": ch}]}
                    for ch, i in gid.items()
                ],
            }
        ],
    }


@pytest.mark.parametrize("encoding", ["csv", "zlib"])
def test_tiled_maps_give_the_same_building_as_text_maps(tmp_path, encoding):
    text_path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    text_b = build_building(load_scenario(text_path))
    tiled_dir = tmp_path / "tiled"
    tiled_dir.mkdir()
    for floor, body in (("1F", GOOD_1F), ("2F", GOOD_2F)):
        rows = body.splitlines()
        (tiled_dir / f"{floor}.tmj").write_text(json.dumps(tiled_map(rows, encoding)))
    text = text_path.read_text().replace('.txt"', '.tmj"')
    (tiled_dir / "s.toml").write_text(text)
    tiled_b = build_building(load_scenario(tiled_dir / "s.toml"))
    for name in ("tiles", "door_state", "room_of", "stair_id", "stairs"):
        assert np.array_equal(getattr(text_b, name), getattr(tiled_b, name)), name
    assert [r.name for r in text_b.rooms] == [r.name for r in tiled_b.rooms]


def test_a_tile_layer_inside_a_group_is_read_by_its_path(tmp_path):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    plain = build_building(load_scenario(path))
    doc = tiled_map(GOOD_2F.splitlines())
    floor_layer = doc["layers"].pop(1)
    doc["layers"].append({"type": "group", "name": "school", "layers": [floor_layer, {**floor_layer, "name": "Desks"}]})
    (tmp_path / "2F.tmj").write_text(json.dumps(doc))
    text = path.read_text().replace('"2F.txt"', '"2F.tmj"\nlayer = "school/Floor"')
    path.write_text(text)
    grouped = build_building(load_scenario(path))
    assert np.array_equal(plain.tiles, grouped.tiles)


# --- every map mistake: one clear message with file:row:col, exit code 2 ------------------------

MAP_MISTAKES = [
    # (1F map, 2F map, expected message fragment, file, row, col)
    (GOOD_1F.replace("#1...#...#\n", "#1...#...\n"), GOOD_2F, "ragged map", "1F.txt", 4, 10),
    (GOOD_1F.replace("#a...#", "#a.?.#"), GOOD_2F, "unknown map symbol '?'", "1F.txt", 2, 4),
    (GOOD_1F.replace("#a...#", "#a.\t.#"), GOOD_2F, "tab character", "1F.txt", 2, 4),
    (GOOD_1F.replace("#1...", "#2..."), GOOD_2F, "stairs 2 link nowhere", "1F.txt", 4, 2),
    (GOOD_1F, GOOD_2F.replace("#c...&d..#", "#c..&#d..#"), "door is not between two walkable tiles", "2F.txt", 2, 5),
    (GOOD_1F, GOOD_2F.replace("#c...&d..#", "#c...#d..#"), "'Library' cannot be reached", "2F.txt", 2, 7),
    (GOOD_1F.replace("#a...#", "#a.z.#"), GOOD_2F, "room label 'z' is not declared", "1F.txt", 2, 4),
    (GOOD_1F.replace("##########", "#####+####", 1), GOOD_2F, "door is not between", "1F.txt", 1, 6),
    (GOOD_1F.replace("#....+...>", "#........>"), GOOD_2F, "are in the same open space", "1F.txt", 2, 7),
    (
        GOOD_1F,
        GOOD_2F.replace("#1...", "#2..."),
        "stairs 1 link nowhere; put a '1' on the same stairwell of floor '2F'",
        "1F.txt",
        4,
        2,
    ),
    (GOOD_1F.replace(">", "#"), GOOD_2F, "no exit", "1F.txt", None, None),
    (
        GOOD_1F.replace("a", "."),
        GOOD_2F,
        "room 'a' (Lab) is declared but its label does not appear",
        "1F.txt",
        None,
        None,
    ),
]


@pytest.mark.parametrize(("first", "second", "fragment", "file", "row", "col"), MAP_MISTAKES)
def test_map_mistakes_are_one_clear_message(tmp_path, cli, first, second, fragment, file, row, col):
    path = make_scenario(tmp_path, {"1F": first, "2F": second})
    result = cli("check", path)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    where = str(tmp_path / file) + (f":{row}:{col}:" if row else ":")
    assert f"error: {where}" in result.stderr, result.stderr
    assert fragment in result.stderr


def test_missing_map_file_points_at_the_scenario_line(tmp_path, cli):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    (tmp_path / "2F.txt").unlink()
    result = cli("check", path)
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "map file not found" in result.stderr


def test_duplicate_room_names_are_refused(tmp_path, cli):
    rooms = {
        "1F": '{ a = { name = "Lab" }, b = { name = "Hall" } }',
        "2F": '{ c = { name = "Lab" }, d = { name = "Library" } }',
    }
    result = cli("check", make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F}, rooms=rooms))
    assert result.exit_code == 2 and "room name 'Lab' is used twice" in result.stderr


def test_a_huge_text_map_is_refused_before_it_is_read(tmp_path, cli):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    with (tmp_path / "2F.txt").open("r+b") as fh:  # sparse file: costs no disk
        fh.truncate(MAX_MAP_BYTES + 1)
    result = cli("check", path)
    assert result.exit_code == 2 and "more than the" in result.stderr


def test_a_million_by_million_tiled_map_is_refused_from_its_header(tmp_path, cli):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    doc = tiled_map(GOOD_2F.splitlines())
    doc["width"] = doc["height"] = 10**6
    (tmp_path / "2F.tmj").write_text(json.dumps(doc))
    path.write_text(path.read_text().replace('"2F.txt"', '"2F.tmj"'))
    result = cli("check", path)
    assert result.exit_code == 2 and "1000000 x 1000000 tiles" in result.stderr


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(orientation="isometric"), "only 'orthogonal'"),
        (lambda d: d["tilesets"][0]["tiles"].pop(), "has no 'symbol' property"),
        (lambda d: d["layers"][1]["data"].pop(), "expected width x height"),
        (lambda d: d["tilesets"].__setitem__(0, {"firstgid": 1, "source": "legend.tsx"}), "embed the tileset"),
        (lambda d: d.__setitem__("layers", []), "no tile layer"),
        # A second tile layer (furniture, say) and no `layer` key: refused with the names, not guessed.
        (lambda d: d["layers"].append({**d["layers"][1], "name": "Desks"}), "2 tile layers ['Floor', 'Desks']"),
    ],
)
def test_tiled_mistakes(tmp_path, cli, mutate, fragment):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    doc = tiled_map(GOOD_2F.splitlines())
    mutate(doc)
    (tmp_path / "2F.tmj").write_text(json.dumps(doc))
    path.write_text(path.read_text().replace('"2F.txt"', '"2F.tmj"'))
    result = cli("check", path)
    assert result.exit_code == 2, result.stderr
    assert str(tmp_path / "2F.tmj") in result.stderr and fragment in result.stderr


def test_broken_tiled_json_gives_line_and_column(tmp_path, cli):
    path = make_scenario(tmp_path, {"1F": GOOD_1F, "2F": GOOD_2F})
    (tmp_path / "2F.tmj").write_text('{\n  "width": 3,\n  oops\n}')
    path.write_text(path.read_text().replace('"2F.txt"', '"2F.tmj"'))
    result = cli("check", path)
    assert result.exit_code == 2 and f"{tmp_path / '2F.tmj'}:3:3:" in result.stderr
