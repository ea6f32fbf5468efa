"""`--set` values, ranges and the seeds of an ensemble's runs."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan.ensemble.grid import parse_bounds, parse_set, parse_token, run_seed, sweep_design
from hyosan.errors import UserInputError


def test_comma_lists_keep_numbers_and_quantities_as_typed():
    assert parse_set("--set", "zombie.sprint_speed=4,5.5,20 km/h") == ("zombie.sprint_speed", [4, 5.5, "20 km/h"])
    assert parse_token("true") is True and parse_token("False") is False


def test_a_range_is_an_inclusive_linspace():
    key, values = parse_set("--set", "doors.barricade_strength=100:500:5")
    assert key == "doors.barricade_strength"
    assert values == [100, 200, 300, 400, 500] and all(isinstance(v, int) for v in values)
    _, values = parse_set("--set", "x=0:1:4")
    assert values == pytest.approx(list(np.linspace(0, 1, 4)))
    assert values[1] == float(f"{1 / 3:.12g}")  # no last-bit noise in the table
    _, values = parse_set("--set", "x=5 min:15 min:3")
    assert values == ["5 min", "10 min", "15 min"]


def test_ranges_and_values_mix_in_one_list():
    assert parse_set("--set", "x=1,2:4:3,7")[1] == [1, 2, 3, 4, 7]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("zombie.sprint_speed", "expected KEY=VALUES"),
        ("x=", "expected KEY=VALUES"),
        ("x=1,,2", "empty value"),
        ("x=1:5:0", "whole count >= 1"),
        ("x=1:5:two", "whole count >= 1"),
        ("x=a:5:3", "is not a number"),
        ("x=1 s:5 min:3", "same unit"),
    ],
)
def test_malformed_values_name_the_option(text, fragment):
    with pytest.raises(UserInputError, match=fragment) as info:
        parse_set("--set", text)
    assert "--set" in str(info.value)


def test_bounds_for_sensitivity():
    assert parse_bounds("--param", "zombie.sprint_speed=4:7") == ("zombie.sprint_speed", (4, 7))
    assert parse_bounds("--param", "doors.barricade_strength=1 min:10 min")[1] == ("1 min", "10 min")
    for bad in ("x=4", "x=7:4", "x=1:2:3", "x=1 s:2 m"):
        with pytest.raises(UserInputError, match="--param"):
            parse_bounds("--param", bad)


def test_a_sweep_is_every_combination_last_key_fastest():
    design = sweep_design([("a", [1, 2]), ("b", ["x", "y", "z"])])
    assert len(design) == 6 and design.parameters == ("a", "b")
    assert design.combinations[:4] == ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}, {"a": 2, "b": "x"})
    assert sweep_design([]).combinations == ({},)  # replicates of the scenario as it is
    with pytest.raises(UserInputError, match="more than once"):
        sweep_design([("a", [1]), ("a", [2])])


def test_a_run_seed_depends_on_its_key_only():
    seeds = {(c, r): run_seed(7, c, r) for c in range(5) for r in range(40)}
    assert len(set(seeds.values())) == len(seeds)  # no two runs share a seed
    assert all(0 <= s < 2**63 for s in seeds.values())
    # Recomputed in another order (as when replicates are added later): the same seeds.
    assert all(run_seed(7, c, r) == s for (c, r), s in reversed(seeds.items()))
    assert run_seed(8, 0, 0) != seeds[0, 0]
    assert all(0 <= run_seed(7, c, 0, bits=32) < 2**32 for c in range(20))
