"""Results of a school run: time series, events, fates and summary, saved atomically and loaded back."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan.building.model import Building, DoorState, Tile
from hyosan.errors import UserInputError

__all__ = ["RELATIONSHIP_COLUMNS", "RESULT_FILES", "Results", "atomic_write", "load_results", "world_json"]

RELATIONSHIP_COLUMNS = ["person", "other", "kind", "weight"]

RESULT_FILES = (
    "summary.json",
    "timeseries.parquet",
    "timeseries.csv",
    "events.jsonl",
    "people.csv",
    "trajectories.parquet",
    "world.json",
)


@dataclass
class Results:
    """Everything a run produced. `save` writes the results folder; `load_results` reads it back."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    events: pd.DataFrame
    people: pd.DataFrame
    trajectories: pd.DataFrame
    world: dict[str, Any] = field(default_factory=dict)  # the building as drawn: floors, rooms (see `world_json`)
    # Who is tied to whom: person and other are people.csv ids; kind is friend, best_friend, crush,
    # rival, bully (person bullies other), sibling, parent (person is other's parent) or teacher
    # (person teaches other); weight in [0, 1] is the strength of the tie.
    relationships: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RELATIONSHIP_COLUMNS))
    run_info: dict[str, Any] = field(default_factory=dict)  # wall time etc.: kept out of summary.json

    def save(self, folder: str | Path) -> Path:
        """Write every results file into `folder`, each atomically (a crash leaves no half-written file)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "summary.json", lambda p: p.write_text(_json(self.summary)))
        atomic_write(folder / "timeseries.parquet", lambda p: self.timeseries.to_parquet(p, index=False))
        atomic_write(
            folder / "timeseries.csv",
            lambda p: self.timeseries.to_csv(p, index=False, float_format="%.6g"),
        )
        atomic_write(folder / "events.jsonl", lambda p: p.write_text(_jsonl(self.events)))
        atomic_write(folder / "people.csv", lambda p: self.people.to_csv(p, index=False, float_format="%.6g"))
        atomic_write(folder / "trajectories.parquet", lambda p: self.trajectories.to_parquet(p, index=False))
        atomic_write(folder / "world.json", lambda p: p.write_text(_json(self.world)))
        atomic_write(
            folder / "relationships.csv",
            lambda p: self.relationships.to_csv(p, index=False, float_format="%.6g"),
        )
        if self.run_info:
            atomic_write(folder / "run-info.json", lambda p: p.write_text(_json(self.run_info)))
        # What a person looks at first: the curves and the replay (written last, from the tables above).
        from hyosan.people.story import write_story
        from hyosan.viz.curves import write_curves
        from hyosan.viz.replay import write_replay

        write_curves(self, folder / "curves.png")
        write_story(self, folder / "story.md")
        if self.world:
            write_replay(self, folder / "replay.html")
        return folder


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by `Results.save`."""
    folder = Path(folder)
    missing = [name for name in RESULT_FILES if not (folder / name).is_file()]
    if missing:
        raise UserInputError(f"not a complete hyosan results folder: missing {', '.join(missing)}", folder)
    events_text = (folder / "events.jsonl").read_text()
    events = pd.DataFrame([json.loads(line) for line in events_text.splitlines() if line.strip()])
    info_path = folder / "run-info.json"
    ties_path = folder / "relationships.csv"  # absent from folders written before ties existed
    relationships = pd.read_csv(ties_path) if ties_path.is_file() else pd.DataFrame(columns=RELATIONSHIP_COLUMNS)
    return Results(
        summary=json.loads((folder / "summary.json").read_text()),
        timeseries=pd.read_parquet(folder / "timeseries.parquet"),
        events=events,
        people=pd.read_csv(folder / "people.csv", keep_default_na=False),
        trajectories=pd.read_parquet(folder / "trajectories.parquet"),
        world=json.loads((folder / "world.json").read_text()),
        relationships=relationships,
        run_info=json.loads(info_path.read_text()) if info_path.is_file() else {},
    )


def world_json(building: Building, door_state: np.ndarray | None = None) -> dict[str, Any]:
    """The building as a results folder keeps it, so plots and replays need no scenario file.

    ``maps``: per floor, one string per row in the floor-plan legend (doors in their starting state;
    a barricaded door is ``%``), all floors padded to one size; ``rooms``: name, floor index, anchor
    row and column (0-based), light at the start; ``stairs``: linked tile pairs as [floor, row, col].
    `door_state` overrides the building's current door states (pass the ones at the start of a run).
    """
    doors = building.door_state if door_state is None else door_state
    symbol = {Tile.VOID: " ", Tile.WALL: "#", Tile.FLOOR: ".", Tile.WINDOW: "=", Tile.EXIT: ">"}
    door_symbol = {
        DoorState.OPEN: "/",
        DoorState.CLOSED: "+",
        DoorState.LOCKED: "&",
        DoorState.BARRICADED: "%",
        DoorState.BROKEN: "/",
    }
    maps = []
    for f in range(building.n_floors):
        rows = []
        for y in range(building.shape[1]):
            line = []
            for x in range(building.shape[2]):
                tile = Tile(int(building.tiles[f, y, x]))
                if tile == Tile.DOOR:
                    line.append(door_symbol[DoorState(int(doors[f, y, x]))])
                elif tile == Tile.STAIRS:
                    line.append(str(int(building.stair_id[f, y, x])))
                else:
                    line.append(symbol[tile])
            rows.append("".join(line))
        maps.append(rows)
    return {
        "name": building.name,
        "tile_m": building.tile_m,
        "floors": list(building.floor_names),
        "maps": maps,
        "rooms": [
            {"name": r.name, "floor": r.floor, "row": r.anchor[0], "col": r.anchor[1], "light": r.light}
            for r in building.rooms
        ],
        "stairs": [[list(building.unflat(a)), list(building.unflat(b))] for a, b in building.stairs],
    }


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _jsonl(events: pd.DataFrame) -> str:
    records = events.to_dict(orient="records")
    return "".join(json.dumps(_plain(r), ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and value.is_integer() and key != "time_s":
            value = int(value)
        out[key] = value
    return out
