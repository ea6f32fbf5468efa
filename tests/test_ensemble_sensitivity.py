"""Sobol' sensitivity: the Saltelli design and indices that find the parameter an output depends on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyosan.ensemble.report import Outcome
from hyosan.ensemble.sensitivity import sobol_design, sobol_indices, write_sensitivity_report
from hyosan.errors import UserInputError

OUTPUT = Outcome("survival_probability", "survival probability", "y")


def test_the_design_has_n_times_d_plus_2_points_within_bounds():
    design = sobol_design([("a", (4, 7)), ("b", ("1 min", "10 min")), ("n", (10, 20))], 16, seed=3,
                          is_integer=lambda key: key == "n")  # fmt: skip
    assert design.kind == "sobol" and len(design) == 16 * (3 + 2)
    a = np.array([c["a"] for c in design.combinations])
    assert a.min() >= 4 and a.max() <= 7
    b = [c["b"] for c in design.combinations]
    assert all(v.endswith(" min") and 1 <= float(v.split()[0]) <= 10 for v in b)
    assert all(isinstance(c["n"], int) for c in design.combinations)
    assert (
        sobol_design([("a", (4, 7))], 16, seed=3).combinations == sobol_design([("a", (4, 7))], 16, seed=3).combinations
    )


@pytest.mark.parametrize(
    ("bounds", "samples", "fragment"), [([("a", (0, 1))], 12, "power of two"), ([], 8, "at least one")]
)
def test_bad_requests_are_user_errors(bounds, samples, fragment):
    with pytest.raises(UserInputError, match=fragment):
        sobol_design(bounds, samples, seed=0)


def table_for(design, output, replicates=2):
    rows = []
    for c, combination in enumerate(design.combinations):
        for r in range(replicates):
            rows.append({"combination": c, **combination, "replicate": r, "y": output(combination)})
    return pd.DataFrame(rows)


def test_the_indices_find_the_parameter_that_matters():
    design = sobol_design([("speed", (4, 7)), ("strength", (100, 500)), ("noise", (0, 1))], 256, seed=1)
    table = table_for(design, lambda c: np.sin(c["speed"]) + 0.002 * c["strength"])  # noise plays no part
    indices = sobol_indices(table, design, [OUTPUT], seed=1).set_index("parameter")
    # An additive output: each index is the parameter's share of the variance, S1 = ST.
    mean_sin = (np.cos(4) - np.cos(7)) / 3
    var_speed = 0.5 - (np.sin(14) - np.sin(8)) / 12 - mean_sin**2  # Var(sin U) for U uniform on [4, 7]
    var_strength = (0.002 * 400) ** 2 / 12
    share = var_speed / (var_speed + var_strength)
    assert indices.loc["speed", "S1"] == pytest.approx(share, abs=0.05)
    assert indices.loc["speed", "ST"] == pytest.approx(share, abs=0.05)
    assert indices.loc["strength", "ST"] == pytest.approx(1 - share, abs=0.05)
    assert indices.loc["noise", "ST"] == pytest.approx(0.0, abs=0.01)


def test_a_report_ranks_parameters(tmp_path):
    design = sobol_design([("speed", (4, 7)), ("noise", (0, 1))], 32, seed=1)
    indices = sobol_indices(table_for(design, lambda c: c["speed"]), design, [OUTPUT], seed=1)
    write_sensitivity_report(tmp_path, indices, [OUTPUT], "Which matters")
    text = (tmp_path / "sensitivity.md").read_text()
    assert text.index("| speed |") < text.index("| noise |")
    assert (tmp_path / "sensitivity.png").stat().st_size > 1000
    assert len(pd.read_csv(tmp_path / "sensitivity.csv")) == 2
    flat = sobol_indices(table_for(design, lambda c: 0.5), design, [OUTPUT], seed=1)
    assert flat["ST"].isna().all()
    write_sensitivity_report(tmp_path, flat, [OUTPUT], "Nothing matters")
    assert "output does not vary" in (tmp_path / "sensitivity.md").read_text()
    with pytest.raises(ValueError, match="points"):
        sobol_indices(table_for(design, lambda c: 1.0).query("combination > 0"), design, [OUTPUT])
