"""Alemi et al. (2015) fully connected SZR: closed form vs ODE, threshold, extinction probability."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from hyosan.classic.alemi import (
    ALPHA_CRITICAL,
    closed_form,
    extinction_probability,
    final_state,
    solve_ode,
    zombies_win,
)
from hyosan.classic.ssa import alemi_szr, simulate_runs

CASES = [
    # (alpha, S0, Z0, R0): zombies win, threshold, humans win, C = 0 exactly, no kills, with removed.
    (0.8, 999.0, 1.0, 0.0),
    (0.5, 9990.0, 10.0, 0.0),
    (1.0, 999.0, 1.0, 0.0),
    (1.5, 900.0, 100.0, 0.0),
    (3.0, 100.0, 200.0, 0.0),
    (0.0, 499.0, 1.0, 0.0),
    (0.9, 400.0, 50.0, 50.0),
]


@pytest.mark.parametrize(("alpha", "s0", "z0", "r0"), CASES)
def test_closed_form_matches_the_ode(alpha, s0, z0, r0):
    beta = 1.3
    t = np.linspace(0.0, 80.0, 161)
    exact = closed_form(t, s0, z0, r0, alpha=alpha, beta=beta)
    numeric = solve_ode(t, s0, z0, r0, alpha=alpha, beta=beta)
    n = s0 + z0 + r0
    assert np.max(np.abs(exact - numeric)) / n < 1e-6
    large = np.abs(numeric) > 1.0
    assert np.max(np.abs(exact - numeric)[large] / np.abs(numeric[large])) < 1e-6
    assert np.array_equal(exact[0], [s0, z0, r0])


@pytest.mark.parametrize(("alpha", "s0", "z0", "r0"), CASES)
def test_closed_form_conserves_people_and_c(alpha, s0, z0, r0):
    t = np.linspace(0.0, 50.0, 51)
    s, z, r = closed_form(t, s0, z0, r0, alpha=alpha).T
    assert np.allclose(s + z + r, s0 + z0 + r0, rtol=1e-12)
    assert np.allclose(z + (1 - alpha) * s, z0 + (1 - alpha) * s0, rtol=1e-10, atol=1e-9)
    assert np.all(np.diff(s) <= 1e-12)


def test_alpha_one_is_the_threshold():
    assert ALPHA_CRITICAL == 1.0
    assert zombies_win(0.99) and not zombies_win(1.0) and not zombies_win(1.5)
    n = 10_000
    for alpha in (0.5, 0.9, 0.99):
        s, z, _ = final_state(n - 1, 1, alpha=alpha)
        assert s == 0 and z == pytest.approx((1 - alpha) * (n - 1) + 1)
    for alpha in (1.01, 1.5, 3.0):
        s, z, _ = final_state(n - 1, 1, alpha=alpha)
        assert z == 0 and s > 0.98 * (n - 1) * (1 - 1 / alpha)
    # The t → ∞ limit agrees with the closed form at a late time.
    for alpha, s0, z0, r0 in CASES:
        late = closed_form(1e6, s0, z0, r0, alpha=alpha)[0]
        assert np.allclose(late, final_state(s0, z0, r0, alpha=alpha), atol=1e-3 * (s0 + z0 + r0))


def test_extinction_probability_theory():
    assert extinction_probability(0.8) == pytest.approx(0.8)
    assert extinction_probability(0.5, zombies=3) == pytest.approx(0.125)
    assert extinction_probability(1.2) == 1.0
    assert extinction_probability(0.5, zombies=0) == 1.0
    # Finite N tends to the gambler's-ruin value.
    gaps = [abs(extinction_probability(0.7, 2, n) - 0.49) for n in (20, 200, 2000)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6


def test_extinction_recursion_matches_a_brute_force_chain():
    alpha = 0.6
    p, q = 1 / (1 + alpha), alpha / (1 + alpha)

    @functools.cache
    def ruin(s: int, z: int) -> float:
        if z == 0:
            return 1.0
        if s == 0:
            return 0.0
        return p * ruin(s - 1, z + 1) + q * ruin(s, z - 1)

    for n, z0 in ((5, 1), (12, 1), (12, 3), (30, 2)):
        assert extinction_probability(alpha, z0, n) == pytest.approx(ruin(n - z0, z0), rel=1e-12)


@pytest.mark.parametrize(("alpha", "zombies"), [(0.8, 1), (0.5, 2)])
def test_fraction_of_outbreaks_that_die_out_matches_theory(alpha, zombies):
    n, replicates = 300, 3000
    runs = simulate_runs(
        alemi_szr(alpha), {"S": n - zombies, "Z": zombies}, math.inf, "direct", replicates, seed=2015, t_grid=[0.0]
    )
    died_out = int(np.sum(runs.final_counts[:, 1] == 0))
    theory = extinction_probability(alpha, zombies, n)
    # 99.9% binomial interval around the theory (normal approximation; n·p·(1−p) is in the hundreds).
    half_width = 3.29 * math.sqrt(theory * (1 - theory) / replicates)
    assert abs(died_out / replicates - theory) < half_width
    # Every run ends absorbed: no zombies, or no humans.
    assert np.all((runs.final_counts[:, 0] == 0) | (runs.final_counts[:, 1] == 0))


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="alpha"):
        closed_form([0.0], 10, 1, alpha=-0.1)
    with pytest.raises(ValueError, match="beta"):
        closed_form([0.0], 10, 1, alpha=0.5, beta=0.0)
    with pytest.raises(ValueError, match="population"):
        extinction_probability(0.5, 5, 3)
