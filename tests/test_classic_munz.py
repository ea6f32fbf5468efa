"""Munz et al. (2009) models: the paper's headline results, equilibria and eradication."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan.classic.munz import (
    PRESETS,
    cure_equilibrium,
    doomsday_state,
    eigenvalues,
    jacobian,
    munz_rhs,
    next_generation_r0,
    quarantine_r0,
    simulate_munz,
    szr_jacobian,
    zombie_free_state,
)


def _random_parameters(rng: np.random.Generator):
    return PRESETS["paper"].with_(
        alpha=float(rng.uniform(0.001, 0.02)),
        beta=float(rng.uniform(0.001, 0.02)),
        zeta=float(rng.uniform(1e-5, 0.1)),
        delta=0.0,
        birth=0.0,
        population=float(rng.uniform(50, 5000)),
    )


def test_zombie_free_state_is_unstable_whenever_zombies_rise_from_the_dead():
    rng = np.random.default_rng(2009)
    for _ in range(50):
        p = _random_parameters(rng)  # includes alpha > beta: even then humans cannot win
        values = eigenvalues("szr", p, zombie_free_state(p))
        assert values[0].real > 0
        # det of the (Z, R) block is −βNζ < 0: a real positive eigenvalue, analytically.
        block = szr_jacobian(p, zombie_free_state(p))[1:, 1:]
        assert np.linalg.det(block) == pytest.approx(-p.beta * p.population * p.zeta, rel=1e-9)
    # Without resurrection and with alpha > beta the zombie-free state is no longer unstable.
    calm = PRESETS["paper"].with_(zeta=0.0, delta=0.0, alpha=0.02, beta=0.01)
    assert eigenvalues("szr", calm, zombie_free_state(calm))[0].real <= 1e-12


def test_doomsday_is_stable():
    rng = np.random.default_rng(7)
    for _ in range(50):
        p = _random_parameters(rng)
        state = doomsday_state(p)
        values = eigenvalues("szr", p, state)
        assert np.all(values.real <= 1e-9)
        # Two strictly negative (−βZ̄ and −ζ); the zero one points along the line of doomsday states.
        assert np.sum(values.real < -1e-12) == 2
        zero_direction = np.linalg.svd(szr_jacobian(p, state))[2][-1]
        assert abs(abs(zero_direction[1]) - 1.0) < 1e-9
    # And the flow returns there: perturb doomsday with a few humans and the dead, humans vanish again.
    p = PRESETS["paper"].with_(delta=0.0)
    frame = simulate_munz("szr", p, [5.0, 480.0, 15.0], t_end=20.0)
    assert frame["S"].iloc[-1] < 1e-6


def test_numeric_jacobian_matches_the_analytic_one():
    p = PRESETS["paper"]
    for state in ([500, 0, 0], [300, 150, 50], [0, 500, 0]):
        assert np.allclose(jacobian("szr", p, state), szr_jacobian(p, state), atol=1e-10)


def test_paper_preset_reaches_doomsday_within_ten_days():
    frame = simulate_munz("szr", PRESETS["paper"])
    assert frame["time"].iloc[-1] == 10
    assert frame["S"].iloc[0] == 499 and frame["Z"].iloc[0] == 1
    assert frame["S"].iloc[-1] < 1.0
    assert frame["Z"].iloc[-1] > 200
    # As printed, with Π = 0, deaths only move people between compartments: S + Z + R = N.
    assert np.allclose(frame[["S", "Z", "R"]].sum(axis=1), 500.0, rtol=1e-7)


def test_matlab_quirk_creates_the_dead_without_killing_the_living():
    p = PRESETS["paper"].with_(delta=0.01)
    printed = simulate_munz("szr", p, [500, 0, 0])
    quirk = simulate_munz("szr", p, [500, 0, 0], quirk=True)
    assert np.allclose(printed[["S", "Z", "R"]].sum(axis=1), 500.0, rtol=1e-7)
    total = quirk[["S", "Z", "R"]].sum(axis=1)
    assert total.iloc[-1] > 500 + 5  # +δS in R′ with no −δS in S′: people appear from nowhere
    # From (500, 0, 0) zombies still appear, through δS → R → ζR: the quirk's start is not zombie-free.
    assert quirk["Z"].iloc[-1] > 0


def test_quarantine_r0_matches_the_next_generation_matrix():
    rng = np.random.default_rng(4)
    for _ in range(40):
        p = PRESETS["quarantine"].with_(
            alpha=float(rng.uniform(0.001, 0.02)),
            beta=float(rng.uniform(0.001, 0.02)),
            rho=float(rng.uniform(0.001, 1.0)),
            kappa=float(rng.uniform(0.0, 1.0)),
            sigma=float(rng.uniform(0.0, 1.0)),
            gamma=float(rng.uniform(0.0, 1.0)),
            delta=0.0,
            zeta=0.0,
            population=float(rng.uniform(50, 5000)),
        )
        assert quarantine_r0(p) == pytest.approx(next_generation_r0(p), rel=1e-8)


def test_quarantine_r0_threshold_decides_the_outbreak():
    base = PRESETS["quarantine"].with_(delta=0.0, zeta=0.0, rho=0.5, t_end=200.0)
    below = base.with_(kappa=2.0, sigma=5.0)
    above = base.with_(kappa=0.0, sigma=0.0)
    assert quarantine_r0(below) < 1 < quarantine_r0(above)
    assert simulate_munz("sizrq", below)["S"].iloc[-1] > 495
    assert simulate_munz("sizrq", above)["S"].iloc[-1] < 250


def test_cure_leaves_humans_at_c_over_beta():
    p = PRESETS["cure"].with_(delta=0.0)
    equilibrium = cure_equilibrium(p)
    assert equilibrium[0] == pytest.approx(p.cure / p.beta)
    assert equilibrium.sum() == pytest.approx(p.population)
    assert np.allclose(munz_rhs("cure", p)(0.0, equilibrium), 0.0, atol=1e-10)
    values = eigenvalues("cure", p, equilibrium)
    assert abs(values[0].real) < 1e-9  # the conserved total
    assert np.all(values[1:].real < 0)
    frame = simulate_munz("cure", p, t_end=3000.0, points=11)
    assert frame["S"].iloc[-1] == pytest.approx(p.cure / p.beta, rel=1e-3)


def test_impulsive_eradication_wipes_out_the_zombies():
    p = PRESETS["eradication"]
    assert (p.alpha, p.beta, p.zeta, p.delta, p.population, p.kill_strength) == (
        0.0075,
        0.0055,
        0.09,
        0.0001,
        1000.0,
        0.25,
    )
    frame = simulate_munz("eradication", p)
    for n, t_n in enumerate(p.attack_times, start=1):
        before, after = frame.loc[frame["time"] == t_n, "Z"].to_numpy()
        assert after == pytest.approx(max(0.0, 1 - p.kill_strength * n) * before, rel=1e-12, abs=1e-12)
    assert frame["Z"].iloc[-1] == 0.0
    no_attacks = simulate_munz("szr", p)
    assert no_attacks["Z"].iloc[-1] > 1.0
    assert frame["S"].iloc[-1] > no_attacks["S"].iloc[-1]


def test_bad_model_and_initial_state_are_refused():
    with pytest.raises(ValueError, match="unknown Munz model"):
        simulate_munz("szrx")
    with pytest.raises(ValueError, match="needs 3 values"):
        simulate_munz("szr", initial=[1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        PRESETS["paper"].with_(beta=-1.0)
