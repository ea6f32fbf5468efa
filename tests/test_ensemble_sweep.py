"""Running ensembles: the same table whatever the workers or the scheduler, and nothing lost or redone on resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from hyosan.ensemble.runners import AlemiRunner, SchoolRunner
from hyosan.ensemble.sweep import run_ensemble
from hyosan.ensemble.table import comparable, load_table
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim

GRID = {"zombie.sprint_speed": [4, 6]}


@pytest.fixture(scope="module")
def runner():
    return SchoolRunner(load_scenario("tiny-school"))


@pytest.fixture(scope="module")
def serial(runner, tmp_path_factory):
    return run_ensemble(runner, GRID, 3, tmp_path_factory.mktemp("serial") / "out", seed=9, workers=1)


def test_every_combination_and_replicate_runs_once(serial):
    table = serial.table
    assert serial.executed == 6 and serial.already_done == 0
    assert sorted(zip(table["combination"], table["replicate"], strict=True)) == [
        (c, r) for c in (0, 1) for r in range(3)
    ]
    assert table.groupby("combination")["zombie.sprint_speed"].first().tolist() == [4.0, 6.0]
    assert table["seed"].nunique() == 6
    # The scenario hash in each row is that of the overridden scenario.
    assert table.groupby("combination")["scenario_hash"].nunique().tolist() == [1, 1]
    assert table["scenario_hash"].nunique() == 2


def test_worker_processes_give_the_same_table_and_the_same_runs_as_alone(runner, serial, tmp_path):
    parallel = run_ensemble(runner, GRID, 3, tmp_path / "out", seed=9, workers=2)
    pd.testing.assert_frame_equal(comparable(parallel.table), comparable(serial.table))
    # A run inside the sweep (here in a worker process) is byte-identical to the same run alone.
    row = parallel.table[(parallel.table["combination"] == 1) & (parallel.table["replicate"] == 2)].iloc[0]
    sim = SchoolSim.from_scenario(_scenario_file(tmp_path, 6), seed=int(row["seed"]))
    assert row["summary_json"] == json.dumps(sim.run().summary, sort_keys=True, ensure_ascii=False)


def test_more_replicates_later_keep_the_runs_and_seeds_already_there(runner, serial, tmp_path):
    first = run_ensemble(runner, GRID, 2, tmp_path / "out", seed=9)
    more = run_ensemble(runner, GRID, 3, tmp_path / "out", seed=9)
    assert (first.executed, more.executed, more.already_done) == (4, 2, 4)
    pd.testing.assert_frame_equal(comparable(more.table), comparable(serial.table))
    again = run_ensemble(runner, GRID, 3, tmp_path / "out", seed=9)
    assert again.executed == 0 and len(again.table) == 6
    assert len(again.runs(2)) == 4  # a report on fewer replicates reads the first ones


def test_a_killed_sweep_resumes_without_losing_or_redoing_runs(runner, tmp_path):
    out = tmp_path / "out"
    replicates = 15
    command = [sys.executable, "-m", "hyosan", "sweep", "tiny-school", "--replicates", str(replicates), "--set",
               "zombie.sprint_speed=4,6", "--seed", "9", "--workers", "1", "--out", str(out), "--quiet"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    give_up = time.monotonic() + 600  # only so that a hung child cannot hang the suite
    try:
        while not list((out / "parts").glob("part-*.parquet")):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < give_up, "the sweep wrote no part"
            time.sleep(0.005)  # polling for the first part, not waiting a fixed time
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    parts = list((out / "parts").glob("part-*.parquet"))
    before = pd.concat([pd.read_parquet(p) for p in parts])  # every part left behind is whole
    total = 2 * replicates
    assert 0 < len(before) < total, "the sweep was not killed midway"
    assert not (out / "runs.parquet").exists()

    resumed = run_ensemble(runner, GRID, replicates, out, seed=9)
    assert resumed.already_done == len(before)
    assert resumed.executed == total - len(before)  # nothing redone
    table = resumed.table
    assert len(table) == total and not table.duplicated(["combination", "replicate"]).any()  # nothing lost
    kept = table.merge(before[["combination", "replicate", "summary_json"]], on=["combination", "replicate"])
    assert len(kept) == len(before) and (kept["summary_json_x"] == kept["summary_json_y"]).all()
    # The same as a sweep that was never interrupted.
    whole = run_ensemble(runner, GRID, replicates, tmp_path / "whole", seed=9)
    pd.testing.assert_frame_equal(comparable(load_table(out)), comparable(whole.table))


def test_a_dask_local_cluster_gives_the_same_table_as_local_processes(runner, serial, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = run_ensemble(runner, GRID, 3, tmp_path / "out", seed=9, scheduler=cluster.scheduler_address)
    assert remote.executed == 6
    pd.testing.assert_frame_equal(comparable(remote.table), comparable(serial.table))


def test_classic_models_run_through_the_same_machinery(tmp_path):
    one = run_ensemble(AlemiRunner(n=100), {"alpha": [0.5, 2.0]}, 150, tmp_path / "a", seed=1, workers=1)
    two = run_ensemble(AlemiRunner(n=100), {"alpha": [0.5, 2.0]}, 150, tmp_path / "b", seed=1, workers=2)
    pd.testing.assert_frame_equal(comparable(one.table), comparable(two.table))
    extinct = one.table.groupby("alpha")["extinct"].mean()
    # Gambler's ruin: an outbreak from one zombie dies out with probability min(1, alpha) (large N).
    assert extinct[2.0] == 1.0 and 0.35 < extinct[0.5] < 0.65


def _scenario_file(tmp_path, sprint_speed):
    path = tmp_path / f"sprint{sprint_speed}.toml"
    path.write_text(f'extends = "tiny-school"\n[zombie]\nsprint_speed = {sprint_speed}\n')
    return path
