"""The story of a run: every sentence rests on real events, and the names, times and rooms in it match them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyosan.errors import UserInputError
from hyosan.people.story import CITATION, parse_citations, person_story, story_markdown, strip_citations, write_story
from hyosan.results import Results, load_results
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim

CHAPTERS = [
    "The first bite",
    "The spread",
    "The sieges",
    "The losses",
    "The hambies",
    "The escape",
    "The end",
    "The named characters",
    "Who saved whom",
    "Other events",
]
_TIME = re.compile(r"\b(\d{2}:\d{2})\b(?: on day (\d+))?")


def roster_scenario(tmp_path: Path) -> Path:
    """tiny-school with the show's characters and Korean names, the outbreak starting in their classroom."""
    path = tmp_path / "roster.toml"
    path.write_text(
        'extends = "tiny-school"\nname = "tiny-roster"\n[run]\nduration = "60 min"\n'
        '[people]\ncharacters = true\nnames = "korean"\n'
        '[[events]]\nat = 0\nkind = "patient_zero"\nroom = "Classroom 2-5"\nturn_after = "2 min"\ncount = 2\n'
    )
    return path


@pytest.fixture(scope="module")
def tiny() -> tuple[Results, SchoolSim]:
    sim = SchoolSim.from_scenario("tiny-school", seed=1)
    return sim.run(), sim


@pytest.fixture(scope="module")
def with_roster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, SchoolSim]:
    sim = SchoolSim(load_scenario(roster_scenario(tmp_path_factory.mktemp("roster"))), seed=1)
    return sim.run(), sim


# --- checking a story against its run --------------------------------------------------------------


def clock_of(results: Results):
    """time_s -> ("HH:MM", day) as the run's own clock column counts it."""
    first = results.timeseries.iloc[0]
    d, h, m, s = (int(g) for g in re.match(r"day (\d+) (\d\d):(\d\d):(\d\d)", first["clock"]).groups())
    start = (d - 1) * 86400 + h * 3600 + m * 60 + s - float(first["time_s"])

    def clock(t: float) -> tuple[str, int]:
        day, rest = divmod(round(start + t), 86400)
        return f"{rest // 3600:02d}:{rest % 3600 // 60:02d}", day + 1

    return clock


def rooms_by_door(sim: SchoolSim, event: pd.Series) -> set[str]:
    """The rooms touching the tile of an event (a door has no room of its own), from the simulation's building."""
    b = sim.building
    f = b.floor_names.index(event["floor"]) if event["floor"] in b.floor_names else -1
    if f < 0:
        return set()
    y, x = int(event["row"]) - 1, int(event["col"]) - 1
    out = set()
    for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)):
        yy, xx = y + dy, x + dx
        if 0 <= yy < b.shape[1] and 0 <= xx < b.shape[2] and b.room_of[f, yy, xx] >= 0:
            out.add(b.rooms[b.room_of[f, yy, xx]].name)
    return out


def check_story(text: str, results: Results, sim: SchoolSim) -> int:
    """Assert that every sentence cites rows that exist and that its names, times, rooms and floors match them."""
    events, people, ties = results.events, results.people, results.relationships
    clock = clock_of(results)
    names = sorted(set(people["name"]), key=len, reverse=True)
    rooms = sorted({r.name for r in sim.building.rooms}, key=len, reverse=True)
    floors = list(sim.building.floor_names)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        assert CITATION.search(line), f"a line without a citation: {line!r}"
        tail = CITATION.split(line)[-1]
        assert not tail.strip(), f"text after the last citation: {tail!r}"
    cited = parse_citations(text)
    assert cited
    for sentence, ev, rows in cited:
        assert ev or rows, sentence
        assert all(0 <= r < len(events) for r in ev), (sentence, ev)
        assert all(0 <= r < len(people) for r in rows), (sentence, rows)
        facts = events.iloc[ev]
        ids = set(facts["person"]) | set(facts["other"]) | set(rows)
        ids.discard(-1)
        tied = set(ties.loc[ties["person"].isin(ids), "other"]) | set(ties.loc[ties["other"].isin(ids), "person"])
        allowed_names = set(people.loc[people["id"].isin(ids | tied), "name"])
        rest = sentence
        for name in names:
            pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
            if re.search(pattern, rest):
                assert name in allowed_names, f"{name!r} is not in the events cited by: {sentence!r}"
                rest = re.sub(pattern, " ", rest)
        allowed_times = {clock(t) for t in facts["time_s"]}
        for hhmm, day in _TIME.findall(rest):
            found = [(hhmm, int(day))] if day else [(hhmm, 1)]
            assert set(found) <= allowed_times, f"{hhmm} (day {day or 1}) matches no cited event: {sentence!r}"
        allowed_rooms = set(facts["room"]) | set(people.loc[people["id"].isin(rows), "fate_room"])
        for _, e in facts[facts["room"] == ""].iterrows():
            allowed_rooms |= rooms_by_door(sim, e)
        for room in rooms:
            if room in rest:
                assert room in allowed_rooms, f"{room!r} is not where the cited events happened: {sentence!r}"
                rest = rest.replace(room, " ")
        for floor in floors:
            if re.search(rf"(?<![\w-]){re.escape(floor)}(?![\w-])", rest):
                assert floor in set(facts["floor"]), f"{floor!r} matches no cited event: {sentence!r}"
    return len(cited)


# --- the whole story ---------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["tiny", "with_roster"])
def test_every_sentence_rests_on_the_events_it_cites(run, request):
    results, sim = request.getfixturevalue(run)
    text = story_markdown(results)
    assert check_story(text, results, sim) > 5
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [c for c in CHAPTERS if c in headings], "chapters out of order"
    assert headings[0] == "The first bite"


def test_the_story_names_each_named_characters_fate_and_their_ties(with_roster):
    results, _ = with_roster
    text = story_markdown(results)
    fates = text.split("## The named characters", 1)[1].split("\n## ", 1)[0]
    named = results.people[results.people["named"]]
    assert len(named) > 10
    for name in named["name"]:
        assert f"**{name}**" in fates, name
    bitten = [n for n, f in zip(named["name"], named["fate"], strict=True) if f in ("zombie", "dead", "hambie")]
    losses = text.split("## The losses", 1)[1].split("\n## ", 1)[0] if "## The losses" in text else ""
    assert all(n in losses for n in bitten)
    # A tie shows where a named person is introduced ("..., Nam On-jo's best friend, ...").
    assert re.search(r"'s (best friend|friend|teacher|child|parent|rival)|who loved|whom .* had bullied", text)


def test_the_story_is_deterministic_and_saved_where_asked(tiny, tmp_path):
    results, _ = tiny
    path = write_story(results, tmp_path / "story.md")
    assert path.read_text() == story_markdown(results)
    results.save(tmp_path / "run")
    again = load_results(tmp_path / "run")
    assert story_markdown(again) == story_markdown(results)  # the same story from the files as from memory


def test_unnamed_crowds_are_counted_not_listed(tiny):
    results, _ = tiny
    text = story_markdown(results)
    generated = results.people.loc[~results.people["named"], "name"]
    listed = [n for n in generated if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    # Only patient zero and their first victim are named; everyone else is "a student" or a number.
    assert len(listed) <= 2
    assert "were bitten" in text


def test_events_the_kernel_adds_later_and_unknown_kinds_are_told(tiny):
    results, sim = tiny
    events = results.events
    nobody = {"name": "", "other": -1, "other_name": "", "note": ""}
    people = results.people.loc[results.people["role"] == "student", ["id", "name"]].head(2).to_numpy()
    (a, a_name), (b, b_name) = people
    place = events.iloc[-1][["floor", "row", "col", "room"]].to_dict()
    t = float(events["time_s"].max()) + 60
    extra = [
        {
            **nobody,
            **place,
            "time_s": t,
            "kind": "sacrifice",
            "person": a,
            "name": a_name,
            "other": b,
            "other_name": b_name,
        },
        {**nobody, **place, "time_s": t, "kind": "hambie_vote", "person": a, "name": a_name, "note": "isolate"},
        {**nobody, **place, "time_s": t, "kind": "zombie_dance", "person": -1, "note": "they dance"},
    ]
    richer = Results(**{**results.__dict__, "events": pd.concat([events, pd.DataFrame(extra)], ignore_index=True)})
    # Name the two so the story tells their moments one by one.
    richer.people = results.people.assign(named=results.people["id"].isin([a, b]))
    text = story_markdown(richer)
    rows = {r for _, ev, _ in parse_citations(text) for r in ev}
    assert {len(events), len(events) + 1, len(events) + 2} <= rows
    assert f"{a_name} gave their life so that {b_name} could get away" in text
    assert "zombie dance" in text and "they dance" in text
    check_story(text, richer, sim)


# --- one person --------------------------------------------------------------------------------------


def test_a_persons_path_cites_their_own_events(with_roster):
    results, sim = with_roster
    pid = int(results.people.index[results.people["name"] == "Nam On-jo"][0])
    text = person_story(results, "nam on-jo")  # case does not matter
    assert text.startswith("# Nam On-jo")
    check_story(text, results, sim)
    mine = results.events[(results.events["person"] == pid) | (results.events["other"] == pid)]
    cited = {r for _, ev, _ in parse_citations(text) for r in ev}
    # Every event of theirs is told, except others' grief for them.
    theirs = set(mine.index[~((mine["kind"] == "grief") & (mine["other"] == pid))])
    assert theirs <= cited
    assert "Lee Cheong-san" in text  # her best friend, from the ties


def test_an_unknown_person_gets_a_hint(with_roster):
    results, _ = with_roster
    with pytest.raises(UserInputError, match="did you mean 'Nam On-jo'"):
        person_story(results, "Nam Onjo")


def test_story_command_prints_writes_and_rejects_unknown_people(cli, tiny, tmp_path):
    results, _ = tiny
    folder = results.save(tmp_path / "run")
    shown = cli("story", folder)
    assert shown.exit_code == 0, shown.stderr
    assert "The first bite" in shown.stdout and "<!--" not in shown.stdout
    written = cli("story", folder, "--out", tmp_path / "s.md")
    assert written.exit_code == 0, written.stderr
    assert (tmp_path / "s.md").read_text() == story_markdown(load_results(folder))
    name = results.people["name"].iloc[3]
    one = cli("story", folder, "--person", name)
    assert one.exit_code == 0 and name in one.stdout
    wrong = cli("story", folder, "--person", name + "x")
    assert wrong.exit_code == 2 and "did you mean" in wrong.stderr


def test_citations_round_trip():
    text = "One thing. <!-- ev:1,3-5 --> Another. <!-- ev: p:2-3 -->\n- A bullet. <!-- ev:7 -->\n"
    assert parse_citations(text) == [
        ("One thing.", [1, 3, 4, 5], []),
        ("Another.", [], [2, 3]),
        ("A bullet.", [7], []),
    ]
    assert strip_citations(text) == "One thing. Another.\n- A bullet.\n"
    assert np.all([CITATION.search(line) for line in text.splitlines()])
