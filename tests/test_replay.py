"""The browser replay: a self-contained, deterministic replay.html whose embedded data decodes back to the run,
`hyosan view`, and the page itself driven in Debian's Chromium."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import socket
import threading
import urllib.request
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hyosan
from hyosan.results import RESULT_FILES, Results, load_results
from hyosan.school import State
from hyosan.viz._cmd_view import serve_folder
from hyosan.viz.replay import (
    QUIET_MIN_S,
    QUIET_SHOWN_S,
    STATES,
    decode_array,
    read_replay_data,
    write_replay,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Run:
    folder: Path
    results: Results
    page: Path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("tiny-run")
    results = hyosan.SchoolSim.from_scenario("tiny-school", seed=1).run()
    results.save(folder)
    page = write_replay(results, folder / "replay.html")
    return Run(folder, results, page)


@pytest.fixture(scope="module")
def tiny_data(tiny: Run) -> dict:
    return read_replay_data(tiny.page)


def test_states_are_the_kernel_codes_in_order():
    assert tuple(s.name.lower() for s in State) == STATES


# --- the file ---------------------------------------------------------------------------------------------


def test_page_is_self_contained(tiny: Run):
    text = tiny.page.read_text(encoding="utf-8")
    assert not re.search(r"<link\b", text, flags=re.IGNORECASE), "no stylesheets or fonts from elsewhere"
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.IGNORECASE), "scripts are inline"
    assert not re.search(r"\b(src|href|action)\s*=\s*[\"']?\s*(https?:)?//", text, flags=re.IGNORECASE)
    assert "http://" not in text and "https://" not in text
    assert "@import" not in text and "url(" not in text
    assert len(re.findall(r'<script type="application/json" id="replay-data">', text)) == 1
    assert text.count("<script") == 2  # the data block and the inline program


def test_page_is_byte_identical_for_the_same_results_in_memory_or_loaded(tiny: Run, tmp_path: Path):
    again = write_replay(tiny.results, tmp_path / "again.html")
    loaded = write_replay(load_results(tiny.folder), tmp_path / "loaded.html")
    assert again.read_bytes() == tiny.page.read_bytes()
    assert loaded.read_bytes() == tiny.page.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_trajectories_decode_back_to_the_run(tiny: Run, tiny_data: dict):
    tracks = tiny_data["tracks"]
    start = decode_array(tracks["start"]).astype(np.int64)
    people = len(tiny_data["people"]["name"])
    assert start.size == people + 1 and start[0] == 0
    decoded = pd.DataFrame({
        "time_s": decode_array(tracks["time"]).astype(np.float64),
        "person": np.repeat(np.arange(people), np.diff(start)),
        "floor": decode_array(tracks["floor"]).astype(np.int64),
        "row": decode_array(tracks["row"]).astype(np.int64),
        "col": decode_array(tracks["col"]).astype(np.int64),
        "state": [tiny_data["states"][s] for s in decode_array(tracks["state"])],
    })  # fmt: skip
    saved = pd.read_parquet(tiny.folder / "trajectories.parquet")
    expected = saved.sort_values(["person", "time_s"], kind="stable").reset_index(drop=True)
    expected = expected.astype({"person": np.int64, "floor": np.int64, "row": np.int64, "col": np.int64})
    expected["state"] = expected["state"].astype(str)
    pd.testing.assert_frame_equal(decoded, expected[decoded.columns], check_dtype=False)


def test_people_and_events_decode_back_to_the_run(tiny: Run, tiny_data: dict):
    people = pd.read_csv(tiny.folder / "people.csv", keep_default_na=False)
    assert tiny_data["people"]["name"] == list(people["name"])
    assert tiny_data["people"]["role"] == list(people["role"])
    assert tiny_data["people"]["class"] == list(people["class"])
    assert tiny_data["people"]["fate"] == list(people["fate"])

    ev, strings, kinds = tiny_data["events"], tiny_data["strings"], tiny_data["event_kinds"]
    floors = tiny_data["world"]["floors"]
    names = tiny_data["people"]["name"]
    decoded = [
        {
            "time_s": float(ev["time"][k]),
            "kind": kinds[ev["kind"][k]],
            "person": ev["person"][k],
            "name": names[ev["person"][k]] if ev["person"][k] >= 0 else "",
            "other": ev["other"][k],
            "other_name": names[ev["other"][k]] if ev["other"][k] >= 0 else "",
            "floor": floors[ev["floor"][k]] if ev["floor"][k] >= 0 else "",
            "row": ev["row"][k],
            "col": ev["col"][k],
            "room": strings[ev["room"][k]] if ev["room"][k] >= 0 else "",
            "note": strings[ev["note"][k]] if ev["note"][k] >= 0 else "",
        }
        for k in range(len(ev["time"]))
    ]
    saved = [json.loads(line) for line in (tiny.folder / "events.jsonl").read_text().splitlines() if line.strip()]
    assert decoded == saved


def test_room_grid_puts_every_room_anchor_in_its_room(tiny_data: dict):
    world = tiny_data["world"]
    grid = decode_array(world["room_grid"]).reshape(len(world["floors"]), world["rows"], world["cols"])
    saved_rooms = tiny_data["world"]["rooms"]
    maps = np.array([list(m) for m in world["maps"]]).reshape(grid.shape)
    assert set(np.unique(grid[np.isin(maps, list("#=+/&% "))])) == {0}, "walls, windows and doors are in no room"
    for i, room in enumerate(saved_rooms):
        f, y, x = room["floor"], int(room["label_row"]), int(room["label_col"])
        assert grid[f, y, x] == i + 1, f"{room['name']}'s label is outside it"


def test_doors_start_as_drawn_and_change_with_door_events(tiny: Run, tiny_data: dict):
    world = tiny_data["world"]
    doors = {k: decode_array(v).astype(np.int64) for k, v in tiny_data["doors"].items()}
    symbol_state = {"/": 0, "+": 1, "&": 2, "%": 3}
    drawn = [
        (f, y, x, symbol_state[c])
        for f, text in enumerate(world["maps"])
        for y in range(world["rows"])
        for x in range(world["cols"])
        if (c := text[y * world["cols"] + x]) in symbol_state
    ]
    assert list(zip(doors["floor"], doors["row"], doors["col"], doors["state"], strict=True)) == drawn

    changes = {k: decode_array(v) for k, v in tiny_data["door_changes"].items()}
    at = {(int(f), int(y), int(x)): k for k, (f, y, x, _) in enumerate(drawn)}
    expected_state = {"door_open": 0, "door_close": 1, "barricade": 3, "breach": 4}
    events = tiny.results.events
    door_events = events[events["kind"].isin(list(expected_state))]
    assert len(door_events) > 0, "the tiny school's run opens and barricades doors"
    floors = world["floors"]
    expected = [
        (float(e.time_s), at[(floors.index(e.floor), e.row - 1, e.col - 1)], expected_state[e.kind])
        for e in door_events.itertuples()
    ]
    got = list(
        zip(changes["time"].astype(float), changes["door"].astype(int), changes["state"].astype(int), strict=True)
    )
    assert got == expected


# --- built from hand-made results ----------------------------------------------------------------------


def _hand_made(events: list[dict], duration: float, relationships: pd.DataFrame | None = None) -> Results:
    """Three rooms in a row, West | Middle | East, with a barricaded door between each pair; two people."""
    world = {
        "name": "row",
        "tile_m": 1,
        "floors": ["1F"],
        "maps": [["#############", "#...%...%...#", "#############"]],
        "rooms": [
            {"name": "West", "floor": 0, "row": 1, "col": 1, "light": True},
            {"name": "Middle", "floor": 0, "row": 1, "col": 5, "light": True},
            {"name": "East", "floor": 0, "row": 1, "col": 9, "light": False},
        ],
        "stairs": [],
    }
    columns = ["time_s", "kind", "person", "name", "other", "other_name", "floor", "row", "col", "room", "note"]
    names = ["Ana", "Bo"]
    rows = [
        {
            "person": -1,
            "other": -1,
            "floor": "1F",
            "row": 0,
            "col": 0,
            "room": "",
            "note": "",
            **e,
        }
        for e in events
    ]
    for r in rows:
        r["name"] = names[r["person"]] if r["person"] >= 0 else ""
        r["other_name"] = names[r["other"]] if r["other"] >= 0 else ""
    times = [0.0, 60.0, 120.0]
    return Results(
        summary={"scenario": "row", "seed": 3, "simulated_s": duration, "school_fell_s": None},
        timeseries=pd.DataFrame({
            "time_s": [0.0, duration / 2, duration],
            "clock": ["day 1 23:59:00", "", ""],
            **{s: [2 if s == "healthy" else 0] * 3 for s in STATES},
        }),
        events=pd.DataFrame(rows, columns=columns),
        people=pd.DataFrame({"id": [0, 1], "name": names, "role": ["student", "teacher"], "class": ["1-1", ""],
                             "fate": ["healthy", "healthy"], "fate_time_s": [math.nan, math.nan]}),
        trajectories=pd.DataFrame({
            "time_s": [*times, 0.0], "person": [0, 0, 0, 1], "floor": [0, 0, 0, 0], "row": [1, 1, 1, 1],
            "col": [1, 2, 3, 10], "state": pd.Categorical(["healthy"] * 4, categories=list(STATES)),
        }),
        world=world,
        relationships=relationships if relationships is not None else pd.DataFrame(),
    )  # fmt: skip


def test_pulling_down_barricades_frees_only_that_rooms_doors(tmp_path: Path):
    results = _hand_made(
        [
            {"time_s": 10.0, "kind": "breach", "person": 1, "row": 2, "col": 9},  # East's door, 1-based
            {"time_s": 20.0, "kind": "unbarricade", "room": "West"},
            {"time_s": 30.0, "kind": "unbarricade", "room": "East"},  # its door is broken already
        ],
        duration=600.0,
    )
    data = read_replay_data(write_replay(results, tmp_path / "r.html"))
    changes = [
        (float(t), int(d), int(s))
        for t, d, s in zip(*(decode_array(data["door_changes"][k]) for k in ("time", "door", "state")), strict=True)
    ]
    # Door 0 joins West and Middle, door 1 joins Middle and East.
    assert changes == [(10.0, 1, 4), (20.0, 0, 1)]


def test_quiet_stretches_shrink_and_busy_ones_keep_one_second_per_unit(tmp_path: Path):
    busy = [0.0, 200.0, 400.0, 600.0, 20000.0, 20300.0, 20600.0]
    results = _hand_made(
        [{"time_s": t, "kind": "bite", "person": 0, "other": 1, "row": 2, "col": 2} for t in busy], 21000.0
    )
    data = read_replay_data(write_replay(results, tmp_path / "r.html"))
    t, u = np.array(data["timeline"]["t"], dtype=float), np.array(data["timeline"]["u"], dtype=float)
    assert t[0] == 0 and u[0] == 0 and t[-1] == 21000
    assert (np.diff(t) > 0).all() and (np.diff(u) > 0).all()
    slope = np.diff(u) / np.diff(t)
    for moment in busy:
        k = min(np.searchsorted(t, moment, side="right") - 1, len(slope) - 1)
        assert slope[k] == 1, f"the event at {moment} s plays at normal pace"
    quiet = np.flatnonzero(slope < 1)
    assert len(quiet) == 1
    k = quiet[0]
    length = t[k + 1] - t[k]
    assert t[k] > 600 and t[k + 1] < 20000 and length > 18000
    assert u[k + 1] - u[k] == round(QUIET_SHOWN_S * (1 + math.log2(length / QUIET_MIN_S)))
    assert data["start_clock_s"] == 23 * 3600 + 59 * 60


def test_ties_are_embedded_by_person_id(tmp_path: Path):
    ties = pd.DataFrame({"person": [0, 1], "other": [1, 0], "kind": ["best_friend", "bully"], "weight": [0.9, 0.4]})
    data = read_replay_data(write_replay(_hand_made([], 600.0, ties), tmp_path / "r.html"))
    assert data["ties"] == {"person": [0, 1], "other": [1, 0], "kind": ["best_friend", "bully"], "weight": [0.9, 0.4]}


def test_markers_name_world_events_and_the_first_bite(tiny: Run, tiny_data: dict):
    events = tiny.results.events
    markers = tiny_data["markers"]
    world = events[events["kind"].isin(["patient_zero", "announcement", "seal", "power_cut", "rescue_arrives"])]
    for e in world.itertuples():
        assert any(m["time"] == e.time_s and m["kind"] == e.kind for m in markers), e.kind
    bites = events[events["kind"] == "bite"]
    if len(bites):
        first = bites.iloc[0]
        [marker] = [m for m in markers if m["kind"] == "first_bite"]
        assert marker["time"] == first["time_s"]
        assert first["name"] in marker["label"] and first["other_name"] in marker["label"]
    assert [m["time"] for m in markers] == sorted(m["time"] for m in markers)


# --- hyosan view ----------------------------------------------------------------------------------------


def _copy_results(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in (*RESULT_FILES, "relationships.csv"):
        shutil.copy(source / name, target / name)
    return target


def test_view_builds_the_missing_replay_and_prints_where_it_is(cli, tiny: Run, tmp_path: Path):
    folder = _copy_results(tiny.folder, tmp_path / "run")
    result = cli("view", str(folder), "--no-open")
    assert result.exit_code == 0, result.stderr
    assert (folder / "replay.html").resolve().as_uri() in result.stdout
    assert (folder / "replay.html").read_bytes() == tiny.page.read_bytes()


def test_view_keeps_an_existing_replay_unless_asked_to_rebuild(cli, tiny: Run, tmp_path: Path):
    folder = _copy_results(tiny.folder, tmp_path / "run")
    (folder / "replay.html").write_text("an older page")
    assert cli("view", str(folder), "--no-open").exit_code == 0
    assert (folder / "replay.html").read_text() == "an older page"
    assert cli("view", str(folder), "--no-open", "--rebuild").exit_code == 0
    assert (folder / "replay.html").read_bytes() == tiny.page.read_bytes()


def test_view_opens_the_page_in_the_browser(cli, tiny: Run, monkeypatch: pytest.MonkeyPatch):
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    result = cli("view", str(tiny.folder))
    assert result.exit_code == 0, result.stderr
    assert opened == [tiny.page.resolve().as_uri()]


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_view_refuses_what_is_not_a_results_folder(cli, tmp_path: Path, make: str):
    target = tmp_path / "nothing"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    result = cli("view", str(target), "--no-open")
    assert result.exit_code == 2
    assert str(target) in result.stderr and "Traceback" not in result.stderr
    if target.is_dir():
        assert not (target / "replay.html").exists()


def test_serve_listens_on_loopback_only_and_serves_the_page(tiny: Run):
    server = serve_folder(tiny.folder, 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/replay.html", timeout=10) as response:
            assert response.read() == tiny.page.read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_view_serve_prints_the_url_and_stops_cleanly_on_ctrl_c(cli, tiny: Run, monkeypatch: pytest.MonkeyPatch):
    def interrupted(self: ThreadingHTTPServer, *args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", interrupted)
    result = cli("view", str(tiny.folder), "--serve", "--port", "0", "--no-open")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"http://127\.0\.0\.1:\d+/replay\.html", result.stdout)
    assert "stopped" in result.stderr


def test_view_serve_on_a_busy_port_is_a_user_error(cli, tiny: Run):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("view", str(tiny.folder), "--serve", "--port", str(port), "--no-open")
    assert result.exit_code == 2
    assert f"--port {port}" in result.stderr


# --- in a real browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, page_path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(page_path.resolve().as_uri())
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=10_000)
    return page, problems


def _state_at(trajectories: pd.DataFrame, person: int, t: float) -> pd.Series:
    """A person's row at time t: their last row at or before t (the replay fills forward), else their first."""
    rows = trajectories[trajectories["person"] == person].sort_values("time_s", kind="stable")
    before = rows[rows["time_s"] <= t]
    return before.iloc[-1] if len(before) else rows.iloc[0]


def test_replay_plays_seeks_counts_and_tells_a_persons_story(browser, tiny: Run, tiny_data: dict, tmp_path: Path):
    page, problems = _open(browser, tiny.page)
    replay = "window.hyosanReplay"

    page.click("#play")
    page.wait_for_function(f"{replay}.time() > 0", timeout=10_000)
    assert page.inner_text("#play") == "Pause"
    page.click("#play")
    assert page.evaluate(f"{replay}.playing()") is False
    assert page.inner_text("#play") == "Play"

    # A record time with the most people bitten or turned, in a stretch that plays at normal pace, so
    # that a whole slider step is a whole simulated second.
    ts = tiny.results.timeseries
    knots_t, knots_u = np.array(tiny_data["timeline"]["t"]), np.array(tiny_data["timeline"]["u"])
    segment = np.clip(np.searchsorted(knots_t, ts["time_s"], side="right") - 1, 0, len(knots_t) - 2)
    normal_pace = (np.diff(knots_u) == np.diff(knots_t))[segment] & (ts["time_s"] > 0)
    candidates = ts[normal_pace.to_numpy()]
    row = candidates.loc[(candidates["bitten"] + candidates["zombie"] + candidates["dead"]).idxmax()]
    T = float(row["time_s"])
    page.locator("#slider").fill(str(round(page.evaluate(f"{replay}.sliderPosition({T})"))))
    assert page.evaluate(f"{replay}.time()") == T
    shown = {s: int(page.inner_text(f"#count-{s}")) for s in STATES}
    assert shown == {s: int(row[s]) for s in STATES}

    # Someone inside the school at T with the longest story so far.
    traj = tiny.results.trajectories
    events = tiny.results.events
    inside = [
        p for p in range(len(tiny.results.people)) if _state_at(traj, p, T)["state"] not in ("escaped", "rescued")
    ]
    so_far = events[events["time_s"] <= T]
    told = {p: int(((so_far["person"] == p) | (so_far["other"] == p)).sum()) for p in inside}
    person = max(inside, key=lambda p: (told[p], -p))
    at_T = _state_at(traj, person, T)
    page.select_option("#floor", str(int(at_T["floor"])))
    where = page.evaluate(f"{replay}.screenPosition({person})")
    assert where["visible"]
    page.mouse.click(where["x"], where["y"])
    assert page.evaluate(f"{replay}.selected()") == person
    assert page.is_visible("#person-panel")
    who = tiny.results.people.set_index("id").loc[person]
    assert page.inner_text("#person-name") == who["name"]
    assert page.inner_text("#person-role").lower() == who["role"]
    assert page.inner_text("#person-state").strip() == at_T["state"]
    ties = tiny.results.relationships
    mine = ties[(ties["person"].astype(int) == person) | (ties["other"].astype(int) == person)]
    shown_ties = page.inner_text("#person-ties")
    if mine.empty:
        assert shown_ties.strip() == "no known ties"
    for tie in mine.itertuples():
        other = int(tie.other) if int(tie.person) == person else int(tie.person)
        assert tiny.results.people.set_index("id").loc[other, "name"] in shown_ties
    story = page.locator("#person-story li .t").all_inner_texts()
    theirs = so_far[(so_far["person"] == person) | (so_far["other"] == person)]
    assert story == [f"{int(s) // 3600:02d}:{int(s) % 3600 // 60:02d}:{int(s) % 60:02d}" for s in theirs["time_s"]]
    bites = theirs[(theirs["kind"] == "bite") & (theirs["person"] == person)]
    for bite in bites.itertuples():
        assert f"bitten by {bite.other_name}" in page.inner_text("#person-story")

    page.select_option("#floor", "all")
    assert page.evaluate(f"{replay}.screenPosition({person})")["visible"]
    page.screenshot(path=str(tmp_path / "replay.png"))
    assert (tmp_path / "replay.png").stat().st_size > 0
    assert problems == []
    page.close()


def test_person_panel_lists_ties_both_ways(browser, tiny: Run, tmp_path: Path):
    ties = pd.DataFrame({"person": [0, 2], "other": [1, 0], "kind": ["best_friend", "bully"], "weight": [0.9, 0.5]})
    results = dataclasses.replace(tiny.results, relationships=ties)
    page, problems = _open(browser, write_replay(results, tmp_path / "ties.html"))
    page.evaluate("window.hyosanReplay.select(0)")
    names = tiny.results.people.set_index("id")["name"]
    assert page.locator("#person-ties li").all_inner_texts() == [
        f"best friend of {names[1]}",
        f"bullied by {names[2]}",
    ]
    page.evaluate("window.hyosanReplay.select(3)")
    assert page.locator("#person-ties li").all_inner_texts() == ["no known ties"]
    assert problems == []
    page.close()
