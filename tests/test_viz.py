"""Static pictures of a run: curves.png, floor snapshots (state_at, doors_at) and animations, and their commands."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hyosan.building.model import DoorState, Tile
from hyosan.results import Results, load_results
from hyosan.scenario import load_scenario
from hyosan.school import EventKind, SchoolSim
from hyosan.school.sim import STATE_NAMES
from hyosan.viz.animate import GIF_MAX_FRAMES, frame_times, write_animation
from hyosan.viz.curves import STATE_COLOURS, STATES, WORLD_EVENT_LABELS, busy_until, write_curves
from hyosan.viz.floors import (
    DOOR_EVENT_STATES,
    FloorPlan,
    FloorView,
    RunTimeline,
    doors_at,
    draw_floors,
    named_people,
    state_at,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    """The tiny school, seed 3, as returned by the run and as saved in a results folder.

    (Seed 3: the outbreak lasts the whole run and the school is calm well before its end.)
    """
    results = SchoolSim.from_scenario("tiny-school", seed=3).run()
    folder = results.save(tmp_path_factory.mktemp("tiny") / "run")
    return results, folder


@pytest.fixture(scope="session")
def tiny_loaded(tiny: tuple[Results, Path]) -> Results:
    return load_results(tiny[1])


@pytest.fixture(scope="session")
def one_minute() -> Results:
    return SchoolSim.from_scenario("tiny-school", seed=1).run(until=60)


@pytest.fixture(scope="session")
def no_bites() -> Results:
    # Patient zero comes after the end of the run; the announcement at 00:30 still happens.
    scenario = load_scenario("tiny-school")
    later = [e.model_copy(update={"at": 3600.0}) if e.kind == "patient_zero" else e for e in scenario.events]
    results = SchoolSim(scenario.model_copy(update={"events": later}), seed=1).run(until=2400)
    assert results.summary["ever_bitten"] == 0
    return results


def _png_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.size


# --- the palette and the names the pictures rely on ---------------------------------------------------------------


def test_states_and_world_events_match_the_model():
    assert list(STATES) == STATE_NAMES
    assert set(STATE_COLOURS) == set(STATES)
    assert len(set(STATE_COLOURS.values())) == len(STATES), "two states share a colour"
    assert set(WORLD_EVENT_LABELS) == {k.name.lower() for k in EventKind if k >= 100}
    kernel_door_kinds = {k.name.lower() for k in (EventKind.DOOR_OPEN, EventKind.DOOR_CLOSE)}
    assert kernel_door_kinds | {"barricade", "breach"} <= set(DOOR_EVENT_STATES)


# --- curves.png ---------------------------------------------------------------------------------------------------


def test_curves_png_is_valid_and_identical_across_writes(tiny: tuple[Results, Path], tmp_path: Path):
    results, _ = tiny
    first = write_curves(results, tmp_path / "a.png")
    second = write_curves(results, tmp_path / "b.png")
    width, height = _png_size(first)
    assert 600 <= width <= 4000 and 300 <= height <= 3000
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"], "a temporary file was left behind"


def test_curves_of_a_loaded_run_match_the_run_itself(tiny: tuple[Results, Path], tiny_loaded: Results, tmp_path: Path):
    assert (
        write_curves(tiny[0], tmp_path / "a.png").read_bytes()
        == write_curves(tiny_loaded, tmp_path / "b.png").read_bytes()
    )


@pytest.mark.parametrize("run", ["one_minute", "no_bites"])
def test_curves_of_short_and_quiet_runs(run: str, request: pytest.FixtureRequest, tmp_path: Path):
    results = request.getfixturevalue(run)
    width, _ = _png_size(write_curves(results, tmp_path / "curves.png"))
    assert width > 0


# --- state_at and doors_at -----------------------------------------------------------------------------------


def test_state_at_the_end_agrees_with_the_fates(tiny_loaded: Results):
    end = tiny_loaded.summary["simulated_s"]
    people = state_at(tiny_loaded, end)
    assert len(people) == len(tiny_loaded.people)
    # A fate is the end state, told apart for those who left after a bite (escaped_bitten, rescued_bitten).
    assert people["state"].astype(str).tolist() == tiny_loaded.people["fate"].str.removesuffix("_bitten").tolist()
    assert set(people["floor_name"]) <= set(tiny_loaded.world["floors"])


@pytest.mark.parametrize("run", ["tiny", "one_minute"])
def test_state_at_counts_match_the_timeseries_at_every_record(run: str, request: pytest.FixtureRequest):
    results = request.getfixturevalue(run)
    results = results[0] if isinstance(results, tuple) else results
    timeline = RunTimeline(results)
    ts = results.timeseries
    assert len(ts) > 1
    for _, row in ts.iterrows():
        state = timeline.people_at(float(row["time_s"]))[3]
        counts = np.bincount(state, minlength=len(STATES))
        assert counts.tolist() == [int(row[s]) for s in STATES], f"at t={row['time_s']}"
    # Asked out of order, the timeline starts over and gives the same answer as state_at.
    middle = float(ts["time_s"].iloc[len(ts) // 2])
    again = state_at(results, middle)
    floor, rows, cols, state = timeline.people_at(middle)
    assert np.array_equal(again["state"].cat.codes.to_numpy(), state)
    assert np.array_equal(again[["floor", "row", "col"]].to_numpy(), np.stack([floor, rows, cols], axis=1))


def test_state_at_places_people_on_walkable_tiles(tiny_loaded: Results):
    plan = FloorPlan.from_results(tiny_loaded)
    for t in (0.0, 600.0, 3600.0):
        people = state_at(tiny_loaded, t)
        tiles = plan.tiles[people["floor"], people["row"], people["col"]]
        assert np.isin(tiles, (Tile.FLOOR, Tile.STAIRS, Tile.EXIT, Tile.DOOR)).all()


def test_doors_start_as_drawn_and_nobody_stands_in_a_shut_doorway(tiny_loaded: Results):
    plan = FloorPlan.from_results(tiny_loaded)
    start = doors_at(tiny_loaded, 0.0)
    assert np.array_equal(start >= 0, plan.tiles == Tile.DOOR)
    changes = tiny_loaded.events[tiny_loaded.events["kind"].isin(DOOR_EVENT_STATES)]
    assert len(changes), "the tiny school should log door changes"
    timeline = RunTimeline(tiny_loaded, plan)
    shut = (DoorState.CLOSED, DoorState.LOCKED, DoorState.BARRICADED)
    # Trajectory rows are taken after every event of their tick: people and doors are both exact there.
    for t in np.unique(tiny_loaded.trajectories["time_s"]):
        floor, row, col, state = timeline.people_at(t)
        doors = timeline.doors_at(t)
        inside = (state != STATES.index("escaped")) & (state != STATES.index("rescued"))
        assert not np.isin(doors[floor[inside], row[inside], col[inside]], shut).any(), f"at t={t}"
    # After the last logged change, each door is in the state that change left it in.
    final = doors_at(tiny_loaded, tiny_loaded.summary["simulated_s"])
    last = changes.groupby(["floor", "row", "col"]).tail(1)
    floors = [tiny_loaded.world["floors"].index(f) for f in last["floor"]]
    got = final[floors, last["row"] - 1, last["col"] - 1]
    assert got.tolist() == [int(DOOR_EVENT_STATES[k]) for k in last["kind"]]


def test_unbarricade_turns_a_rooms_barricades_into_closed_doors(tiny_loaded: Results):
    end = float(tiny_loaded.summary["simulated_s"])
    before = doors_at(tiny_loaded, end)
    barricaded = int((before == DoorState.BARRICADED).sum())
    assert barricaded, "the tiny school should barricade some doors"
    # A rescue calls everyone out: every room pulls down its barricades (the model logs one event per room).
    rooms = [r["name"] for r in tiny_loaded.world["rooms"]]
    cleared = pd.DataFrame({"time_s": end, "kind": "unbarricade", "room": rooms, "floor": "", "row": 0, "col": 0})
    events = pd.concat([tiny_loaded.events, cleared], ignore_index=True)
    after = doors_at(Results(**{**tiny_loaded.__dict__, "events": events}), end)
    assert not (after == DoorState.BARRICADED).any()
    assert (after == DoorState.CLOSED).sum() == (before == DoorState.CLOSED).sum() + barricaded
    assert np.array_equal(after >= 0, before >= 0)


def test_named_people_use_the_named_column_or_the_generated_names(tiny_loaded: Results):
    # Without the roster's `named` column (older results folders), generated placeholder names tell.
    people = tiny_loaded.people.drop(columns=["named"], errors="ignore")
    people.loc[0, "name"] = "Nam On-jo"
    people.loc[1, "name"] = "Student 7b"  # not the generated pattern
    renamed = Results(**{**tiny_loaded.__dict__, "people": people})
    named = named_people(renamed)
    assert named[0] and named[1] and not named[2:].any()
    people = people.assign(named=[i == 2 for i in range(len(people))])
    assert np.flatnonzero(named_people(Results(**{**tiny_loaded.__dict__, "people": people}))).tolist() == [2]


def test_floor_view_shows_only_the_chosen_floors(tiny_loaded: Results):
    view = FloorView(tiny_loaded, floors="2F", curves=False)
    view.update(1200.0)
    assert view.layout.floors == [1]
    shown = sum(len(d.get_offsets()) for d in view._dots.values())
    people = state_at(tiny_loaded, 1200.0)
    on_2f = (people["floor_name"] == "2F") & ~people["state"].isin(["escaped", "rescued"])
    assert shown == int(on_2f.sum())
    frame = view.render()
    assert frame.shape[2] == 3 and frame.dtype == np.uint8
    assert draw_floors(tiny_loaded, 0.0).get_axes()


# --- commands -------------------------------------------------------------------------------------------------


def test_snapshot_command_writes_a_png(cli, tiny: tuple[Results, Path], tmp_path: Path):
    out = tmp_path / "floors.png"
    result = cli("snapshot", tiny[1], "--time", "00:20", "--out", out, "--floors", "1F,2F")
    assert result.exit_code == 0, result.stderr
    assert "08:50:00" in result.stdout
    width, height = _png_size(out)
    assert width > height > 0


def test_snapshot_default_name_is_in_the_run_folder(cli, tiny: tuple[Results, Path]):
    result = cli("snapshot", tiny[1], "--time", "45 min")
    assert result.exit_code == 0, result.stderr
    _png_size(tiny[1] / "snapshot-0045.png")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--time", "05:00"], "outside the run"),
        (["--time", "soon"], "expected a duration"),
        (["--time", "00:10", "--floors", "9F"], "unknown floor '9F'"),
        (["--time", "00:10", "--out", "x.jpg"], "PNG"),
    ],
)
def test_snapshot_command_rejects_bad_input(cli, tiny: tuple[Results, Path], args: list[str], message: str):
    result = cli("snapshot", tiny[1], *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_snapshot_of_a_folder_that_is_not_a_run(cli, tmp_path: Path):
    for folder in (tmp_path, tmp_path / "missing"):
        result = cli("snapshot", folder, "--time", "00:10")
        assert result.exit_code == 2
        assert re.search(r"not a complete hyosan results folder|no such folder", result.stderr)
        assert "Traceback" not in result.stderr


def test_animate_writes_a_gif_with_one_frame_per_step(cli, tiny: tuple[Results, Path], tmp_path: Path):
    import imageio.v3 as iio

    out = tmp_path / "run.gif"
    result = cli("animate", tiny[1], "--out", out, "--from", "00:10", "--to", "00:12", "--step", "30s", "--quiet")
    assert result.exit_code == 0, result.stderr
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == len(frame_times(600, 720, 30)) == 5
    assert frames.shape[1:3] == (720, 1280)
    assert not np.array_equal(frames[0], frames[-1]), "the clock should move"


def test_animate_writes_an_mp4_that_ffmpeg_reads(tiny_loaded: Results, tmp_path: Path):
    import imageio_ffmpeg

    out = tmp_path / "run.mp4"
    seen: list[int] = []
    info = write_animation(
        tiny_loaded, out, fps=6, step_s=60, start_s=0, end_s=540, progress=lambda done, total: seen.append(done)
    )
    assert info.frames == 10 and seen == list(range(1, 11))
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 10
    assert seconds == pytest.approx(10 / 6, abs=0.2)
    assert [p.name for p in tmp_path.iterdir()] == ["run.mp4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "run.avi"], "cannot write .avi"),
        (["--out", "run.gif", "--step", "0.5 s"], "at least 1 s"),
        (["--out", "run.gif", "--from", "01:00", "--to", "00:30"], "comes before"),
        (["--out", "run.gif", "--to", "09:00"], "outside the run"),
    ],
)
def test_animate_rejects_bad_input(cli, tiny: tuple[Results, Path], tmp_path: Path, args: list[str], message: str):
    args = [str(tmp_path / a) if a.startswith("run.") else a for a in args]
    result = cli("animate", tiny[1], *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not list(tmp_path.iterdir())


def test_animate_defaults_to_the_busy_part_of_the_run(cli, tiny: tuple[Results, Path]):
    import imageio_ffmpeg

    result = cli("animate", tiny[1], "--step", "5 min", "--quiet")
    assert result.exit_code == 0, result.stderr
    busy = busy_until(tiny[0])
    assert 0 < busy < tiny[0].summary["simulated_s"]
    expected = len(frame_times(0.0, busy, 300.0))
    assert imageio_ffmpeg.count_frames_and_secs(str(tiny[1] / "run.mp4"))[0] == expected


def test_a_gif_too_long_to_hold_in_memory_is_refused(cli, tiny: tuple[Results, Path], tmp_path: Path):
    out = tmp_path / "long.gif"
    result = cli("animate", tiny[1], "--out", out, "--step", "1 s", "--to", "02:00")
    assert result.exit_code == 2
    assert f"at most {GIF_MAX_FRAMES}" in result.stderr and ".mp4" in result.stderr
    assert not out.exists()


def test_frame_times_cover_the_span_on_the_step():
    assert frame_times(0, 90, 30).tolist() == [0, 30, 60, 90]
    assert frame_times(0, 100, 30).tolist() == [0, 30, 60, 90]
    assert frame_times(5, 5, 30).tolist() == [5]
    with pytest.raises(ValueError):
        frame_times(0, 10, 0)
