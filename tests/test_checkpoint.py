"""Checkpoints, quiet spells and kernel chunks of a school run: none changes the results by a single byte."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from hyosan.errors import UserInputError
from hyosan.results import RESULT_FILES
from hyosan.school import SchoolSim


def test_checkpoints_change_nothing_and_every_resume_ends_identical(tmp_path):
    plain = SchoolSim.from_scenario("tiny-school", seed=7).run().save(tmp_path / "plain")
    saved = SchoolSim.from_scenario("tiny-school", seed=7).run(checkpoint_every=300.0, checkpoint_dir=tmp_path / "ckpt")
    saved.save(tmp_path / "saved")
    checkpoints = sorted((tmp_path / "ckpt").glob("*.ckpt"))
    assert len(checkpoints) >= 3
    for name in RESULT_FILES:
        assert (plain / name).read_bytes() == (tmp_path / "saved" / name).read_bytes(), name
    for k in (0, len(checkpoints) // 2, len(checkpoints) - 1):
        resumed = SchoolSim.resume(checkpoints[k]).run().save(tmp_path / f"resumed{k}")
        for name in RESULT_FILES:
            assert (plain / name).read_bytes() == (resumed / name).read_bytes(), (checkpoints[k].name, name)


def test_a_checkpoint_that_keeps_its_sound_slots_as_lists_resumes_to_the_same_run(tmp_path):
    # Checkpoints written before the kernel rang its own noises kept the next sound slot as an int and
    # each slot's spread as (level, doors met, their states then): they must resume to the same run.
    sim = SchoolSim.from_scenario("hyosan-high", seed=2)
    sim.run(until=40 * 60)
    state = sim.__getstate__()
    assert np.isfinite(state["spread_level"]).sum() >= 2, "no sound has rung yet: the test shows nothing"
    old = dict(state)
    old["_next_sound"] = int(old.pop("sound_next")[0])
    n_met, met, states = old.pop("spread_met_n"), old.pop("spread_met"), old.pop("spread_states")
    old["_sound_spread"] = [
        (float(level), met[s, : n_met[s]].copy(), states[s, : n_met[s]].copy())
        for s, level in enumerate(old.pop("spread_level"))
    ]
    runs = {}
    for name, kept in (("new", state), ("old", old)):
        resumed = SchoolSim.__new__(SchoolSim)
        resumed.__setstate__(pickle.loads(pickle.dumps(kept)))  # (each its own arrays)
        runs[name] = resumed.run(until=2 * 3600).save(tmp_path / name)
    for name in RESULT_FILES:
        assert (runs["new"] / name).read_bytes() == (runs["old"] / name).read_bytes(), name


def test_a_checkpoint_is_taken_soon_after_each_interval(tmp_path):
    SchoolSim.from_scenario("tiny-school", seed=2).run(until=1800, checkpoint_every=600.0, checkpoint_dir=tmp_path)
    times = sorted(int(p.stem[1:]) for p in tmp_path.glob("*.ckpt"))
    assert len(times) == 3  # after 10, 20 and 30 minutes (where this run stops)
    for k, t in enumerate(times, start=1):
        assert 600 * k <= t < 600 * k + 120  # at the next pause of the kernel, at most two minutes on


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_text("not a pickle")
    with pytest.raises(UserInputError, match="not a hyosan checkpoint"):
        SchoolSim.resume(bad)
    with pytest.raises(UserInputError, match="no such checkpoint"):
        SchoolSim.resume(tmp_path / "missing.ckpt")
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "run", "--resume", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "not a hyosan checkpoint" in done.stderr and "Traceback" not in done.stderr


def test_run_command_checkpoints_and_resumes(tmp_path):
    def hyosan(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hyosan", *args], capture_output=True, text=True, check=True)

    hyosan("run", "tiny-school", "--seed", "2", "--quiet", "--checkpoint-every", "10 min", "--out", str(tmp_path / "a"))
    first = sorted((tmp_path / "a" / "checkpoints").glob("*.ckpt"))[0]
    hyosan("run", "--resume", str(first), "--quiet", "--out", str(tmp_path / "b"))
    assert (tmp_path / "a" / "events.jsonl").read_bytes() == (tmp_path / "b" / "events.jsonl").read_bytes()


def test_quiet_spells_take_the_cheap_kernel_and_change_nothing(tmp_path):
    # A long quiet siege: the default school, run past its first hours.
    runs = {}
    for skip in (True, False):
        sim = SchoolSim.from_scenario("hyosan-high", seed=3)
        sim.skip_quiet = skip
        runs[skip] = (sim.run(until=4 * 3600).save(tmp_path / str(skip)), sim.quiet_s)
    assert runs[True][1] > 3600, "no quiet spell was found: the test shows nothing"
    assert runs[False][1] == 0
    for name in RESULT_FILES:
        assert (runs[True][0] / name).read_bytes() == (runs[False][0] / name).read_bytes(), name


def _chunks_in_python(t_now, limit, chunking, quiet_s, params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev, scratch,
                      minds, social, door_tiles, noise):  # fmt: skip
    """`kernel.advance_chunks` written out in Python over the kernel's public calls (looked up at each call)."""
    from hyosan.school import kernel, noises

    t = t_now
    while t < limit - 1e-9:
        first, chunk, reason = n_ev[0], chunking[0], kernel.STOP_NOT_QUIET
        if (
            chunking[4] > 0.5
            and chunk > chunking[1]
            and kernel.quiet_now(t, params, world, agents, lures, scratch, minds, social, door_tiles)
        ):
            start = t
            t, reason = kernel.advance_quiet(t, min(t + chunking[3], limit), params, world, agents, rngs, rec, ev_t,
                                             ev_i, n_ev, scratch, minds, social)  # fmt: skip
            quiet_s[0] += t - start
        if reason == kernel.STOP_NOT_QUIET:
            t, reason = kernel.advance(t, min(t + chunk, limit), params, world, lures, agents, rngs, rec, ev_t, ev_i,
                                       n_ev, scratch, minds, social)  # fmt: skip
        chunking[0] = chunking[1] if n_ev[0] > first else min(chunking[2], chunk * 2.0)
        if reason == kernel.STOP_WORLD_CHANGED and not noises.hear(ev_t, ev_i, first, n_ev[0], t, *noise):
            reason = kernel.STOP_TIME
        if reason != kernel.STOP_TIME:
            return t, reason
    return t, kernel.STOP_TIME


def test_the_compiled_loop_of_chunks_is_the_loop_python_would_run(tmp_path, monkeypatch):
    # `kernel.advance_chunks` spares Python a round trip per chunk: it must take the quiet spells the
    # same way (the same simulated seconds in the quiet kernel) and give the same run to the byte.
    from hyosan.school import kernel

    runs = {}
    for name, loop in (("compiled", kernel.advance_chunks), ("python", _chunks_in_python)):
        monkeypatch.setattr(kernel, "advance_chunks", loop)
        sim = SchoolSim.from_scenario("hyosan-high", seed=3)
        runs[name] = (sim.run(until=4 * 3600).save(tmp_path / name), sim.quiet_s)
    assert runs["compiled"][1] == runs["python"][1] > 3600
    for name in RESULT_FILES:
        assert (runs["compiled"][0] / name).read_bytes() == (runs["python"][0] / name).read_bytes(), name


def _quiet_spells_while(tmp_path, monkeypatch, seed: int, until_s: float, moment, at_least_s: float):
    """Run `seed` to `until_s` with and without the quiet kernel; assert identical results, and return the
    lengths of the quiet spells that began at a `moment(t, params, agents, minds)` and lasted `at_least_s`."""
    from hyosan.school import kernel

    spells = []
    quiet_kernel = kernel.advance_quiet

    def watched(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
        began_there = moment(t_now, params, agents, minds)
        t, reason = quiet_kernel(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds,
                                 social)  # fmt: skip
        if began_there and t - t_now >= at_least_s:
            spells.append(t - t_now)
        return t, reason

    monkeypatch.setattr(kernel, "advance_quiet", watched)
    monkeypatch.setattr(kernel, "advance_chunks", _chunks_in_python)  # (the compiled loop calls its own)
    runs = {}
    for skip in (True, False):
        sim = SchoolSim.from_scenario("hyosan-high", seed=seed)
        sim.skip_quiet = skip
        runs[skip] = sim.run(until=until_s).save(tmp_path / str(skip))
    for name in RESULT_FILES:
        assert (runs[True] / name).read_bytes() == (runs[False] / name).read_bytes(), name
    return spells


def test_the_quiet_kernel_lets_the_stressed_draw_their_chances_and_changes_nothing(tmp_path, monkeypatch):
    # Deep in a siege, hidden people's stress climbs past the scream and panic thresholds: each minds
    # step they draw a chance to scream or bolt. The quiet kernel draws those chances itself and goes
    # on while none comes up, winding the generator back when one does, so that `advance` draws the
    # same numbers. Seed 3 has such a siege from about 21 h.
    from hyosan.school.codes import Intent, Param, State

    def someone_may_scream_or_bolt(t, params, agents, minds):
        state, intent = agents[0], agents[1]
        stress, screamed_at = minds[0], minds[3]
        living = (state == State.HEALTHY) | (state == State.BITTEN)
        gap = params[Param.SCREAM_GAP_S] * params[Param.SCREAM_GAP_GROWTH] ** np.maximum(minds[11] - 1, 0)
        may_scream = living & (stress > params[Param.SCREAM_ABOVE]) & (t - screamed_at >= gap)
        may_bolt = living & (intent == Intent.HIDE) & (stress > params[Param.PANIC_ABOVE])
        return bool((may_scream | may_bolt).any())

    through_stress = _quiet_spells_while(tmp_path, monkeypatch, 3, 26 * 3600, someone_may_scream_or_bolt, 8.0)
    assert through_stress, "the quiet kernel never went past a stressed person's draws: the test shows nothing"


def test_a_hungry_hambie_behind_a_wall_does_not_keep_the_school_awake(tmp_path, monkeypatch):
    # Seed 12: for hours a hambie sits within two steps of hidden people, a wall or a door between them.
    # It only grows hungry (faster, smelling blood), which the quiet kernel follows; it would bite or be
    # found out only with the person right next to it.
    from hyosan.school.codes import State

    def a_hambie_near_the_living(t, params, agents, minds):
        state, floor, row, col = agents[0], agents[2], agents[3], agents[4]
        healthy = state == State.HEALTHY
        return any(
            bool((healthy & (floor == floor[h]) & (abs(row - row[h]) <= 2) & (abs(col - col[h]) <= 2)).any())
            for h in (state == State.HAMBIE).nonzero()[0]
        )

    beside_the_living = _quiet_spells_while(tmp_path, monkeypatch, 12, 6 * 3600, a_hambie_near_the_living, 60.0)
    assert beside_the_living, "no quiet spell with a hambie near the living: the test shows nothing"


def test_a_run_in_chunks_equals_the_run_tick_by_tick(tmp_path):
    # Debug mode calls the kernel one tick at a time (and checks every law); the normal mode calls it
    # for up to two minutes at once and takes the cheap kernel when all is quiet: same results.
    for seed in (1, 2):
        fast = SchoolSim.from_scenario("tiny-school", seed=seed).run().save(tmp_path / f"fast{seed}")
        slow = SchoolSim.from_scenario("tiny-school", seed=seed, debug=True).run().save(tmp_path / f"slow{seed}")
        for name in RESULT_FILES:
            assert (fast / name).read_bytes() == (slow / name).read_bytes(), (seed, name)


def test_zombies_that_see_what_they_saw_see_what_looking_again_shows(tmp_path):
    # A zombie that looks again from where it looked, no door changed and no prey moved within its sight,
    # is answered from what it saw (`kernel._zombies_act`). Tick by tick every call forgets it all, so
    # every look is looked afresh: the outbreak of the default school must come out the same to the byte.
    runs, answered = {}, {}
    for debug in (False, True):
        sim = SchoolSim.from_scenario("hyosan-high", seed=1, debug=debug)
        runs[debug] = sim.run(until=45 * 60).save(tmp_path / str(debug))
        answered[debug] = int(sim._sight_memo[3][4])
    assert answered[True] == 0
    assert answered[False] > 1000, "zombies never saw what they saw: the test shows nothing"
    for name in RESULT_FILES:
        assert (runs[False] / name).read_bytes() == (runs[True] / name).read_bytes(), name


def test_a_rescue_leaves_on_time_in_chunks_as_tick_by_tick(tmp_path):
    # The rescue's end is a moment of the world like a scheduled event: the kernel must pause there,
    # not at its next pause (up to two minutes later in a calm school, as here: no outbreak at all),
    # or chunked and tick-by-tick runs part ways.
    path = tmp_path / "rescue.toml"
    path.write_text(
        'extends = "tiny-school"\n'
        '[run]\nduration = "40 min"\n'
        '[[events]]\nat = "00:20"\nkind = "rescue"\nroom = "Infirmary"\nlasts = "17 s"\n'
    )
    from hyosan.scenario import load_scenario

    fast = SchoolSim(load_scenario(path), seed=1).run().save(tmp_path / "fast")
    slow = SchoolSim(load_scenario(path), seed=1, debug=True).run().save(tmp_path / "slow")
    for name in RESULT_FILES:
        assert (fast / name).read_bytes() == (slow / name).read_bytes(), name
    events = (fast / "events.jsonl").read_text()
    leaves = [line for line in events.splitlines() if '"rescue_leaves"' in line]
    assert len(leaves) == 1 and leaves[0].startswith('{"time_s": 1217.0,')  # 20 min + 17 s
