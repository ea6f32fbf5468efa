"""What-if forks: common random numbers, changes that matter, and clear refusals."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hyosan.errors import UserInputError
from hyosan.school import SchoolSim
from hyosan.school.fork import fork_run, write_fork_report


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fork") / "run"
    SchoolSim.from_scenario("tiny-school", seed=4).run(
        checkpoint_every=300.0, checkpoint_dir=folder / "checkpoints"
    ).save(folder)
    return folder


def test_a_change_that_changes_nothing_gives_identical_pairs_of_futures(run_dir):
    report = fork_run(run_dir, 720.0, {"zombie.bite_chance": 0.6}, 4)  # the default value: no change at all
    t = report.table
    base = t[t.arm == "baseline"].drop(columns="arm").reset_index(drop=True)
    alt = t[t.arm == "alternative"].drop(columns="arm").reset_index(drop=True)
    assert base.equals(alt)
    assert base.drop(columns="replicate").drop_duplicates().shape[0] > 1, "re-seeded futures should differ"


def test_stopping_bites_lowers_the_bitten_in_every_paired_future(run_dir, tmp_path):
    report = fork_run(run_dir, 720.0, {"zombie.bite_chance": 0.0}, 4, workers=2)
    t = report.table
    base = t[t.arm == "baseline"].set_index("replicate")
    alt = t[t.arm == "alternative"].set_index("replicate")
    assert (alt.bitten <= base.bitten).all() and alt.bitten.sum() < base.bitten.sum()
    serial = fork_run(run_dir, 720.0, {"zombie.bite_chance": 0.0}, 4, workers=1)
    assert serial.table.equals(report.table)  # processes change nothing
    folder = write_fork_report(report, tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "zombie.bite_chance = 0.0" in text and "| bitten |" in text
    assert (folder / "fork.png").stat().st_size > 1000


def test_forks_refuse_what_cannot_change_mid_run(run_dir, tmp_path):
    with pytest.raises(UserInputError, match="cannot change in the middle of a run"):
        fork_run(run_dir, 720.0, {"people.students": 3}, 2)
    with pytest.raises(UserInputError, match="did you mean"):
        fork_run(run_dir, 720.0, {"zombie.bite_chanse": 0.1}, 2)
    with pytest.raises(UserInputError, match="after --at"):
        fork_run(run_dir, 10.0, {}, 2)
    bare = tmp_path / "bare"
    SchoolSim.from_scenario("tiny-school", seed=1).run(until=120).save(bare)
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "fork", str(bare), "--at", "00:01", "--replicates", "2"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--checkpoint-every" in done.stderr and "Traceback" not in done.stderr


def test_a_future_in_which_the_outbreak_died_out_is_censored_at_the_forks_end(tmp_path):
    # Tiny school, seed 1: patient zero is struck down and the run ends early ("the outbreak died
    # out"). The school can no longer fall in such a future, so it counts as falling at the end the
    # fork ran to, not at the moment it stopped (which would look like the earliest fall of all).
    folder = tmp_path / "run"
    res = SchoolSim.from_scenario("tiny-school", seed=1).run(
        checkpoint_every=300.0, checkpoint_dir=folder / "checkpoints"
    )
    res.save(folder)
    assert res.summary["ended"] == "the outbreak died out" and res.summary["school_fell_s"] is None
    report = fork_run(folder, 600.0, {"zombie.bite_chance": 0.6}, 3, until_s=3600.0)
    t = report.table
    original = t[t.arm == "original"].iloc[0]
    assert original.end_s == 3600.0 and original.school_fell_s != original.school_fell_s  # NaN: never fell
    assert (t.end_s == 3600.0).all()
    fell = report.summary().set_index("outcome").loc["school_fell_s"]
    never = t[t.arm == "baseline"].school_fell_s.isna()
    if never.all():
        assert fell.baseline_mean == 3600.0


def test_a_fork_that_changes_how_noises_sound_rings_them_so(run_dir):
    # The kernel rings noises at the levels and down to the hearing thresholds of the scenario: a fork
    # that changes them must ring the noises still to come by the new ones, not the checkpoint's.
    from hyosan.school.fork import _apply

    sim = SchoolSim.resume(sorted((run_dir / "checkpoints").glob("*.ckpt"))[1])
    _apply(sim, {"groups.shout_level": 99.0, "people.hearing_threshold": 5.0, "zombie.hearing_threshold": 7.0})
    assert sim._noise_levels[4] == 99.0
    assert sim._sound_params.quietest_db == 5.0
