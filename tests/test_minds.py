"""Minds in the school model: stress and grief, screams, and hambies' hunger, bites and the vote on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim, State
from hyosan.school.codes import HambieStatus, Intent
from hyosan.school.sim import tie_csr

ONE_ROOM = """
##############
#a...........#
#............>
#............#
#............#
##############
"""

TWO_ROOMS = """
###########################
#a..........#b............#
#...........#.............>
#...........+.............#
#...........#.............#
###########################
"""


def scenario(tmp_path: Path, plan: str, people: int, extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "1F.txt").write_text(plan.strip("\n") + "\n")
    rooms = (
        '{ a = { name = "Classroom A" }, b = { name = "Classroom B" } }'
        if "b" in plan
        else '{ a = { name = "Classroom A" } }'
    )
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "minds"\n[run]\nduration = "40 min"\nrecord_every = "10 s"\n[world]\n'
        f'[[world.floors]]\nname = "1F"\nmap = "1F.txt"\nrooms = {rooms}\n'
        f"[people]\nstudents = {people}\n{extra}"
        "\n[[events]]\nat = 0\nkind = 'seal'\n"  # nobody leaves: the room is the whole world
    )
    return path


def sim_with(path: Path, seed: int, ties: list[tuple[int, int, float]] = ()) -> SchoolSim:
    sim = SchoolSim(load_scenario(path), seed=seed)
    frame = pd.DataFrame(ties, columns=["person", "other", "weight"])
    sim._tie_csr = tie_csr(len(sim.state), frame if ties else None)
    return sim


def make_hambie(sim: SchoolSim, i: int, hunger: float = 0.0) -> None:
    sim.state[i] = State.HAMBIE
    sim.mind_state[i] = State.HAMBIE
    sim.hunger[i] = hunger


def put(sim: SchoolSim, i: int, row: int, col: int) -> None:
    sim.floor[i], sim.row[i], sim.col[i] = 0, row, col


# --- hambies ---------------------------------------------------------------------------------------------


def test_zombies_never_attack_a_hambie(tmp_path):
    path = scenario(tmp_path, ONE_ROOM, 12, "[hambies]\nhunger_fill = '100 h'\nblood_fill = '100 h'\n")
    for seed in range(3):
        sim = sim_with(path, seed)
        make_hambie(sim, 0)
        put(sim, 0, 2, 2)
        for z in range(1, 7):  # six zombies packed around the hambie
            sim.state[z] = State.ZOMBIE
            sim.intent[z] = Intent.WANDER
            put(sim, z, 1 + z % 3, 1 + z // 3)
        sim.debug = True  # every tick checks the model's laws as well
        res = sim.run(until=300)
        assert res.summary["ever_bitten"] > 0, "the zombies bit nobody: the test shows nothing"
        assert sim.state[0] == State.HAMBIE
        bites = res.events[res.events.kind == "bite"]
        assert 0 not in set(bites.person)


def _hungry_room(tmp_path: Path, hunger_fill: str, blood_fill: str) -> Path:
    return scenario(
        tmp_path,
        ONE_ROOM,
        4,
        f"[hambies]\nhunger_fill = '{hunger_fill}'\nblood_fill = '{blood_fill}'\nbite_chance = 0.2\n"
        "reveal_hunger = 1.0\n[stress]\ncalm_down = '1 min'\n",
    )


def test_hunger_grows_near_the_living_and_ends_in_a_bite(tmp_path):
    hungry = _hungry_room(tmp_path / "hungry", "10 h", "10 min")
    fed = _hungry_room(tmp_path / "fed", "100 h", "100 h")
    bitten_by_hambie = {"hungry": 0, "fed": 0}
    for seed in range(4):
        for label, path in (("hungry", hungry), ("fed", fed)):
            sim = sim_with(path, seed)
            make_hambie(sim, 0)
            put(sim, 0, 2, 4)
            for v in range(1, 4):  # close around it, as in a classroom under siege
                put(sim, v, 2 + v % 2, 3 + v // 2)
            res = sim.run(until=1800)
            if label == "fed":
                # 30 min at 1/100 h, plus as much again while someone is within two steps.
                assert 1800 / 360000 - 1e-9 <= sim.hunger[0] <= 2 * 1800 / 360000 + 1e-9
            bites = res.events[(res.events.kind == "bite") & (res.events.other == 0)]
            bitten_by_hambie[label] += len(bites)
    assert bitten_by_hambie["fed"] == 0
    assert bitten_by_hambie["hungry"] >= 3, bitten_by_hambie


def _vote(tmp_path: Path, seed: int, tie: float, stress: float) -> tuple[str, SchoolSim]:
    path = scenario(
        tmp_path,
        ONE_ROOM,
        5,
        "[hambies]\nhunger_fill = '10 min'\nreveal_hunger = 0.6\nbite_chance = 1.0\n[stress]\ncalm_down = '1000 h'\n",
    )
    ties = [(v, 0, tie) for v in range(1, 5)] if tie > 0 else []
    sim = sim_with(path, seed, ties)
    sim.debug = True  # every tick checks the laws as well
    make_hambie(sim, 0, hunger=0.55)
    for v in range(1, 5):
        put(sim, v, 2 + v % 2, 3 + v // 2)
        sim.stress[v] = stress
    put(sim, 0, 2, 3)
    res = sim.run(until=1200)
    votes = res.events[res.events.kind == "hambie_vote"]
    assert len(res.events[res.events.kind == "hambie_found"]) >= 1
    return votes.note.iloc[0], sim


def test_discovery_triggers_a_vote_whose_outcome_follows_the_weights(tmp_path):
    for seed in range(2):
        friends, _ = _vote(tmp_path / f"friends{seed}", seed, tie=0.9, stress=0.2)
        strangers_in_terror, sim_out = _vote(tmp_path / f"terror{seed}", seed, tie=0.0, stress=0.95)
        strangers_calm, sim_tied = _vote(tmp_path / f"calm{seed}", seed, tie=0.0, stress=0.1)
        assert (friends, strangers_in_terror, strangers_calm) == ("keep", "expel", "restrain")
        assert sim_out.hambie_status[0] == HambieStatus.EXPELLED
        assert sim_tied.hambie_status[0] == HambieStatus.RESTRAINED


def test_a_restrained_hambie_never_bites(tmp_path):
    for seed in range(3):
        _, sim = _vote(tmp_path / f"r{seed}", seed, tie=0.0, stress=0.1)
        assert sim.hambie_status[0] == HambieStatus.RESTRAINED
        assert sim.hunger[0] == 1.0  # starving, with people next to it
        assert not np.any(sim.state[1:] == State.BITTEN)


# --- stress and grief ------------------------------------------------------------------------------------


def _screams_of_one_in_terror(path: Path, skip_quiet: bool, calm_after: float | None = None) -> list[float]:
    """Times of the screams of a student alone in terror (calm_down so slow the fear holds for hours);
    with `calm_after`, they calm for a moment that many seconds after their third scream."""
    sim = sim_with(path, 0)
    sim.skip_quiet = skip_quiet
    sim.stress[0] = 0.95
    if calm_after is None:
        return sim.run().events.query("kind == 'scream'").time_s.tolist()
    while (sim.run(until=sim.t + 4).events.kind == "scream").sum() < 3:
        pass
    sim.run(until=sim.t + calm_after)
    sim.stress[0] = 0.5  # fear falls back under the threshold for one step of the minds ...
    sim.run(until=sim.t + 4)
    sim.stress[0] = 0.95  # ... and comes back
    return sim.run().events.query("kind == 'scream'").time_s.tolist()


def test_each_scream_doubles_the_wait_for_the_next_while_the_terror_lasts(tmp_path):
    # Terror mostly silences: 10 min, then 20, 40, 80 between the screams of one who stays in terror;
    # calming down starts the waits again; growth 1 keeps one scream every 10 min. The same with and
    # without the quiet kernel, which follows the stress (and the waits) of the terrified alone.
    gaps = {}
    for growth in (2.0, 1.0):
        path = scenario(
            tmp_path / str(growth),
            ONE_ROOM,
            1,
            f"[stress]\nscream_chance = 1.0\ncalm_down = '1000 h'\nscream_gap_growth = {growth}\n",
        )
        path.write_text(path.read_text().replace('duration = "40 min"', 'duration = "3 h"'))
        times = _screams_of_one_in_terror(path, skip_quiet=True)
        assert times == _screams_of_one_in_terror(path, skip_quiet=False)
        gaps[growth] = np.diff(times).tolist()
        again = _screams_of_one_in_terror(path, skip_quiet=True, calm_after=200.0)
        assert again[:3] == times[:3]
        assert again[3] - again[2] == 600.0, (growth, again)  # calmed: the wait is back to 10 min
    assert gaps[2.0] == [600.0, 1200.0, 2400.0, 4800.0]
    assert gaps[1.0] == [600.0] * 17


def test_a_close_death_raises_stress_and_noise(tmp_path):
    path = scenario(
        tmp_path,
        TWO_ROOMS,
        6,
        "[infection]\nturn_delay = { distribution = 'fixed', median = '60 s' }\n"
        "[stress]\ngrief = 1.0\nscream_chance = 0.5\n",
    )
    screams = {}
    for tie in (0.0, 1.0):
        total = 0
        for seed in range(3):
            sim = sim_with(path, seed, [(1, 0, tie)] if tie else [])
            sim.state[0] = State.BITTEN  # the victim, far from the friend, behind a door
            sim.mind_state[0] = State.BITTEN
            sim.turn_at[0] = 60.0
            put(sim, 0, 1, 24)
            put(sim, 1, 2, 2)
            for other in range(2, 6):
                put(sim, other, 4, 22 - other)
            res = sim.run(until=90)
            grief = res.events[(res.events.kind == "grief") & (res.events.person == 1)]
            if tie:
                assert len(grief) == 1 and grief.other.iloc[0] == 0
                assert sim.stress[1] > 0.8
            else:
                assert grief.empty and sim.stress[1] < 0.1
            total += int(((res.events.kind == "scream") & (res.events.person == 1)).sum())
        screams[tie] = total
    assert screams[0.0] == 0 and screams[1.0] >= 3, screams


# --- freezing ---------------------------------------------------------------------------------------------


HALL = "\n".join(
    ["#" * 62]
    + ["#" + ("a" if r == 0 else ".") + "." * 59 + (">" if r == 1 else "#") for r in range(5)]
    + ["#" * 62]
)


def _terror_room(tmp_path: Path, freeze_chance: float) -> Path:
    # Ten students sealed in a long hall with one zombie; terror comes within seconds of seeing it.
    return scenario(
        tmp_path / str(freeze_chance),
        HALL,
        10,
        f"[stress]\ndanger_fill = '5 s'\nfreeze_chance = {freeze_chance}\nfreeze_time = '30 s'\n",
    )


def _with_zombie(path: Path, seed: int) -> SchoolSim:
    sim = sim_with(path, seed)
    sim.state[0] = State.ZOMBIE
    sim.mind_state[0] = State.ZOMBIE
    sim.intent[0] = Intent.WANDER
    put(sim, 0, 2, 6)
    return sim


def test_the_frozen_stand_still_and_are_caught_sooner(tmp_path):
    # Fight, flight or freeze: a person in terror who freezes neither runs nor strikes back, so more are
    # bitten early, while the others still outrun the zombie down the hall; with freezing off (the
    # default) nobody freezes.
    bitten = {}
    for chance in (0.0, 0.5):
        path = _terror_room(tmp_path, chance)
        total, freezes = 0, 0
        for seed in range(6):
            sim = _with_zombie(path, seed)
            frozen_before = np.zeros(len(sim.state), dtype=bool)
            where_before = (sim.row.copy(), sim.col.copy())
            for second in range(1, 31):
                sim.run(until=second)
                # Someone frozen for the whole last second has not moved in it.
                frozen_now = sim.intent == Intent.FREEZE
                still = frozen_before & frozen_now & (sim.state == State.HEALTHY)
                assert (sim.row[still] == where_before[0][still]).all()
                assert (sim.col[still] == where_before[1][still]).all()
                frozen_before, where_before = frozen_now, (sim.row.copy(), sim.col.copy())
            res = sim.run(until=30)
            freezes += int((res.events.kind == "freeze").sum())
            total += int((sim.state[1:] != State.HEALTHY).sum())
        bitten[chance] = total
        assert (freezes == 0) if chance == 0.0 else (freezes >= 6), (chance, freezes)
    assert bitten[0.5] >= 2 * bitten[0.0] + 10, bitten


# --- the bitten ------------------------------------------------------------------------------------------


def test_the_bitten_take_no_fright_at_zombies_that_pass_them_by(tmp_path):
    # Zombies ignore the bitten: a bitten student alone with an idle zombie stays calm and where they are
    # (one who ran laps in terror among idle zombies kept the school awake for hours), but one on the move
    # still frightens them, as it frightens anyone.
    path = scenario(tmp_path, ONE_ROOM, 2)
    intents = {}
    for zombie_intent in (Intent.IDLE, Intent.WANDER):
        sim = sim_with(path, 0)
        sim.state[0] = sim.mind_state[0] = State.BITTEN
        sim.turn_at[0] = 1e9  # a bite that takes days to turn
        put(sim, 0, 2, 3)
        sim.state[1] = sim.mind_state[1] = State.ZOMBIE
        sim.intent[1] = zombie_intent
        sim.seen_at[1] = 0.0  # (a wandering one keeps wandering for a while)
        put(sim, 1, 2, 9)
        seen = set()
        for second in range(1, 31):
            sim.run(until=second)
            seen.add(Intent(int(sim.intent[0])))
            if zombie_intent == Intent.IDLE:
                assert (sim.row[0], sim.col[0]) == (2, 3) and sim.intent[1] == Intent.IDLE
        intents[zombie_intent] = seen
    assert intents[Intent.IDLE] == {Intent.CALM}, intents
    assert Intent.FLEE in intents[Intent.WANDER], intents
