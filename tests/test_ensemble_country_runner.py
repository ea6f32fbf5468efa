"""The country model through the ensemble machinery: model names, parameter checks, runs in a sweep."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hyosan.ensemble import run_ensemble
from hyosan.ensemble.country_runner import CountryRunner, parse_country_model
from hyosan.ensemble.runners import runner_for
from hyosan.errors import UserInputError

COARSE = 40.0  # km: a few hundred cells of South Korea, a run takes a fraction of a second


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "country-cache"))


def test_model_names() -> None:
    assert parse_country_model("country-KR") == ("KR", 2.0)
    assert parse_country_model("country-us@20km") == ("US", 20.0)
    assert parse_country_model("hyosan-high") is None
    runner = runner_for("country-KR@40km")
    assert isinstance(runner, CountryRunner) and runner.cell_km == 40.0


def test_unknown_parameter_names_the_closest() -> None:
    with pytest.raises(UserInputError, match="did you mean 'bite_rate'"):
        CountryRunner().resolve({"bite_rat": 3})


def test_out_of_range_value_is_refused() -> None:
    with pytest.raises(UserInputError, match="kill_ratio"):
        CountryRunner().resolve({"kill_ratio": -1})


def test_durations_resolve_to_seconds() -> None:
    assert CountryRunner().resolve({"walk_time_per_km": "2 h"}) == {"walk_time_per_km": 7200.0}


def test_run_in_a_sweep_equals_the_run_alone(tmp_path) -> None:
    runner = CountryRunner(cell_km=COARSE, days=40)
    run = run_ensemble(runner, {"bite_rate": [5.0, 20.0]}, 2, tmp_path / "sweep", seed=3, workers=1)
    table = run.table.sort_values(["combination", "replicate"]).reset_index(drop=True)
    assert len(table) == 4
    people = table[["S", "B", "Z", "H", "R"]].sum(axis=1)
    assert people.nunique() == 1  # nobody is created or lost, whatever the parameters

    first = table.iloc[0]
    seed = int(table["seed"].iloc[0])  # from the int64 column: a mixed row would round it through float64
    alone = runner(runner.resolve({"bite_rate": first["bite_rate"]}), seed)
    for key in ("S", "B", "Z", "H", "R", "fallen_share", "events"):
        assert alone[key] == first[key], key
    half = alone["days_to_half_fallen"]
    assert (math.isnan(half) and pd.isna(first["days_to_half_fallen"])) or half == first["days_to_half_fallen"]
