"""Runners: one replicate of the school or a classic model as one summary row, identical to the run alone."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from hyosan.classic.ssa import alemi_szr, simulate_runs
from hyosan.ensemble.runners import SURVIVED_PREFIX, AlemiRunner, Runner, SchoolRunner
from hyosan.errors import UserInputError
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim


def test_a_school_row_holds_the_summary_of_the_same_run_alone():
    runner = SchoolRunner(load_scenario("tiny-school"))
    assert isinstance(runner, Runner)
    row = runner({}, 11)
    alone = SchoolSim.from_scenario("tiny-school", seed=11).run().summary
    assert row["summary_json"] == json.dumps(alone, sort_keys=True, ensure_ascii=False)
    assert row["survivors"] == alone["survivors"] and row["people"] == alone["people"]
    assert row["survived_fraction"] == alone["survivors"] / alone["people"]
    assert sum(row[f"n_{state}"] for state in alone["counts"]) == alone["people"]
    assert row["school_fell"] == (alone["school_fell_s"] is not None)
    assert (alone["school_fell_s"] is None) == math.isnan(row["school_fell_s"])


def test_an_overridden_run_equals_the_same_scenario_written_as_a_file(tmp_path):
    runner = SchoolRunner(load_scenario("tiny-school"))
    params = runner.resolve({"zombie.sprint_speed": "18 km/h"})
    assert params == {"zombie.sprint_speed": pytest.approx(5.0)}
    row = pickle.loads(pickle.dumps(runner))(params, 4)  # as a worker process gets it
    path = tmp_path / "slow.toml"
    path.write_text('extends = "tiny-school"\n[zombie]\nsprint_speed = "18 km/h"\n')
    alone = SchoolSim.from_scenario(path, seed=4).run().summary
    assert row["summary_json"] == json.dumps(alone, sort_keys=True, ensure_ascii=False)
    assert row["scenario_hash"] != load_scenario("tiny-school").content_hash()


def test_named_characters_have_one_survival_column_each(tmp_path):
    names = ["Nam On-jo", "Lee Cheong-san", "Choi Nam-ra", "Lee Su-hyeok", "Yoon Gwi-nam"]
    roster = "name,role\n" + "".join(f"{n},student\n" for n in names) + "Park Sun-hwa,teacher\n"
    roster += "".join(f"Extra {i},student\n" for i in range(20))
    (tmp_path / "roster.csv").write_text(roster)
    (tmp_path / "named.toml").write_text('extends = "tiny-school"\n[people]\nroster = "roster.csv"\n')
    row = SchoolRunner(load_scenario(tmp_path / "named.toml"))({}, 2)
    columns = {c.removeprefix(SURVIVED_PREFIX): v for c, v in row.items() if c.startswith(SURVIVED_PREFIX)}
    assert set(names) | {"Park Sun-hwa"} <= set(columns)
    survivors = json.loads(row["summary_json"])["survivors_by_name"]
    assert sorted(n for n, alive in columns.items() if alive) == survivors


def test_an_alemi_row_is_the_same_outbreak_as_simulate_runs():
    runner = AlemiRunner(n=200)
    params = runner.resolve({"alpha": 0.7})
    row = runner(params, 12345)
    alone = simulate_runs(alemi_szr(0.7), {"S": 199, "Z": 1}, math.inf, t_grid=np.zeros(1), seeds=[12345])
    assert [row["S"], row["Z"], row["R"]] == alone.final_counts[0].tolist()
    assert row["extinct"] == int(alone.final_counts[0, 1] == 0)
    assert row["final_size"] == 199 - row["S"]
    assert row["Z"] == 0 or row["S"] == 0  # every run goes to absorption


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"alpah": 0.5}, "did you mean 'alpha'"), ({"n": 10.5}, "whole number"), ({"zombies": 0}, "between 1 and n")],
)
def test_alemi_parameters_are_checked(params, fragment):
    with pytest.raises(UserInputError, match=fragment):
        AlemiRunner().resolve(params)
