"""Groups in the school model: who sticks together, who holds the door, who abandons whom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim, State
from hyosan.school.codes import Intent
from hyosan.school.sim import form_groups, tie_csr

# A classroom (a) with one door onto a corridor (b) that leads to a sealed exit.
CLASSROOM = """
####################
#a.......+b........>
#........#.........#
#........#.........#
####################
"""


def scenario(tmp_path: Path, people: int, extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "1F.txt").write_text(CLASSROOM.strip("\n") + "\n")
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "groups"\n[run]\nduration = "20 min"\nrecord_every = "10 s"\n[world]\n'
        '[[world.floors]]\nname = "1F"\nmap = "1F.txt"\n'
        'rooms = { a = { name = "Classroom A" }, b = { name = "1F corridor" } }\n'
        f"[people]\nstudents = {people}\n{extra}\n"
        "[[events]]\nat = 0\nkind = 'seal'\n"
    )
    return path


def with_ties(sim: SchoolSim, rows: list[tuple[int, int, str, float]], leadership: list[float] | None = None) -> None:
    """Give the people of a built simulation these ties, and form their groups again."""
    sim.ties = pd.DataFrame(rows, columns=["person", "other", "kind", "weight"])
    sim._tie_csr = tie_csr(len(sim.state), sim.ties)
    if leadership is not None:
        sim.leadership = np.asarray(leadership, dtype=float)
    sim._setup_groups()


def put(sim: SchoolSim, i: int, row: int, col: int) -> None:
    sim.floor[i], sim.row[i], sim.col[i] = 0, row, col
    sim.start_room[i] = sim.building.room_of[0, row, col]


# --- forming groups --------------------------------------------------------------------------------------


def test_groups_form_from_strong_ties_within_a_room_and_keep_victims_from_their_bullies():
    start_room = np.array([0, 0, 0, 0, 1, 1, 0])
    ties = pd.DataFrame(
        [
            (0, 1, "friend", 0.9),
            (1, 0, "friend", 0.9),
            (1, 2, "crush", 0.7),
            (3, 2, "rival", 0.9),  # rivals are no group
            (4, 0, "best_friend", 1.0),  # another room: not together
            (5, 4, "sibling", 0.8),
            (6, 0, "friend", 0.3),  # too weak
            (2, 6, "bully", 1.0),
        ],
        columns=["person", "other", "kind", "weight"],
    )
    leadership = np.array([0.2, 0.9, 0.5, 0.0, 0.1, 0.7, 0.0])
    group, leader = form_groups(7, ties, start_room, leadership, tie_threshold=0.5, max_size=8)
    assert group[0] == group[1] == group[2] >= 0
    assert leader[group[0]] == 1  # the most able of the three
    assert group[4] == group[5] >= 0 and group[4] != group[0] and leader[group[4]] == 5
    assert group[3] == -1 and group[6] == -1
    # A victim tied to a group that holds their bully stays out of it.
    ties.loc[len(ties)] = (6, 0, "friend", 0.9)
    group, _ = form_groups(7, ties, start_room, leadership, tie_threshold=0.5, max_size=8)
    assert group[6] == -1 and group[0] == group[2] >= 0
    group, leader = form_groups(7, ties, start_room, leadership, tie_threshold=0.5, max_size=2)
    assert np.bincount(group[group >= 0]).max() == 2


# --- abandoning ------------------------------------------------------------------------------------------


def test_a_bully_abandons_before_a_friend_does(tmp_path):
    # Three friends in a dark classroom: fear rises in the dark, and nothing calms it down.
    path = scenario(
        tmp_path,
        4,
        "[stress]\ndark_fill = '4 min'\ncalm_down = '1000 h'\n[groups]\nsplit_chance = 0.2\n",
    )
    path.write_text(
        path.read_text().replace('a = { name = "Classroom A" }', 'a = { name = "Classroom A", light = false }')
    )
    first_to_go = []
    for seed in range(6):
        sim = SchoolSim(load_scenario(path), seed=seed)
        for i, col in enumerate((2, 3, 4)):
            put(sim, i, 2, col)
        put(sim, 3, 2, 15)  # the bully's victim, out in the corridor
        friends = [(a, b, "friend", 0.9) for a in range(3) for b in range(3) if a != b]
        with_ties(sim, [*friends, (2, 3, "bully", 1.0)], leadership=[1.0, 0.5, 0.4, 0.0])
        assert sim.group[0] == sim.group[1] == sim.group[2] >= 0
        sim.debug = True  # no zombie anywhere: only tick by tick does the fear keep running
        res = sim.run(until=900)
        left = res.events[res.events.kind == "abandon"]
        assert set(left.person) >= {1, 2}, "everyone should break in the end"
        first_to_go.append(int(left.person.iloc[0]))
        bully_at = left.time_s[left.person == 2].iloc[0]
        friend_at = left.time_s[left.person == 1].iloc[0]
        assert bully_at < friend_at
    assert set(first_to_go) <= {0, 2}  # the leader is as scared as the friend, but the bully goes first
    assert first_to_go.count(2) >= 4


# --- holding the door ------------------------------------------------------------------------------------


def bites_before_rescue(tmp_path: Path, hold_chance: float, seeds: range, tied: bool = True) -> int:
    path = scenario(
        tmp_path,
        10,
        f"chatter_level = 70\n[groups]\nhold_chance = {hold_chance}\nhold_strength = 4.0\n"
        "[[events]]\nat = '5 min'\nkind = 'rescue'\nroom = 'Classroom A'\nlasts = '10 min'\n",
    )
    total = 0
    for seed in seeds:
        sim = SchoolSim(load_scenario(path), seed=seed)
        inside = range(6)
        for k, i in enumerate(inside):
            put(sim, i, 1 + k % 3, 2 + k // 3)
            sim.intent[i] = Intent.HIDE
            sim.hidden_since[i] = -1.0
            sim.courage[i] = 1.0
        sim.intent[5] = Intent.CALM  # one keeps talking: the zombies hear the room
        for z in range(6, 10):
            put(sim, z, 1 + (z - 6) % 3, 12 + (z - 6) // 3)
            sim.state[z] = State.ZOMBIE
            sim.mind_state[z] = State.ZOMBIE
            sim.intent[z] = Intent.WANDER
        friends = [(a, b, "friend", 0.9) for a in inside for b in inside if a != b] if tied else []
        with_ties(sim, friends)
        res = sim.run(until=300)
        bites = res.events[(res.events.kind == "bite") & res.events.person.isin(list(inside))]
        total += len(bites)
        if hold_chance > 0 and tied:
            assert (res.events.kind == "hold_door").any()
    return total


def test_holding_the_door_saves_the_others(tmp_path):
    seeds = range(5)
    without = bites_before_rescue(tmp_path / "off", 0.0, seeds)
    held = bites_before_rescue(tmp_path / "on", 1.0, seeds)
    assert without >= 10, "the door should give way before the rescue when nobody holds it"
    assert held < without / 2, (held, without)


def test_a_group_with_strong_ties_outlasts_loners_in_the_same_siege(tmp_path):
    # The same six people, the same room and zombies: strangers to each other, or friends.
    seeds = range(5)
    loners = bites_before_rescue(tmp_path / "loners", 1.0, seeds, tied=False)
    friends = bites_before_rescue(tmp_path / "friends", 1.0, seeds, tied=True)
    assert friends < loners / 2, (friends, loners)
