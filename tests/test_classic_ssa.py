"""The exact and tau-leaping stochastic engine (hyosan.classic.ssa) against theory and against itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hyosan.classic.alemi import closed_form
from hyosan.classic.munz import PRESETS
from hyosan.classic.ssa import (
    Reaction,
    ReactionModel,
    alemi_szr,
    dependency_graph,
    heap_build,
    heap_update,
    munz_reactions,
    simulate,
    simulate_runs,
)


def test_mean_converges_to_mean_field_like_one_over_sqrt_n():
    alpha = 0.5
    errors = {}
    for n in (100, 1000, 10000):
        z0 = n // 10  # many initial zombies: no early extinction, so the mean field is the right limit
        grid = np.linspace(0.0, 12.0, 25)
        runs = simulate_runs(alemi_szr(alpha), {"S": n - z0, "Z": z0}, 12.0, "direct", 24, seed=7, t_grid=grid)
        expected = closed_form(grid, n - z0, z0, alpha=alpha)
        deviation = runs.counts / n - expected[None, :, :] / n
        errors[n] = float(np.sqrt(np.mean(deviation**2)))
    assert errors[10000] < errors[1000] < errors[100]
    assert errors[10000] < 0.015
    scaled = [errors[n] * math.sqrt(n) for n in errors]
    # Fluctuations are O(1/sqrt(N)): the scaled error stays within a modest band across two decades.
    assert max(scaled) / min(scaled) < 3.0


def _final_sizes(method: str, seed: int, replicates: int = 300):
    n, z0 = 2000, 20
    grid = np.array([0.0, 6.0])
    runs = simulate_runs(alemi_szr(0.5), {"S": n - z0, "Z": z0}, math.inf, method, replicates, seed, grid)
    return runs


def test_three_methods_agree_in_distribution():
    direct = _final_sizes("direct", 1)
    following = _final_sizes("next", 2)
    leaping = _final_sizes("tau", 3)
    for other in (following, leaping):
        # Final number of zombies and the humans left at t = 6 (mid-outbreak): same distributions.
        assert stats.ks_2samp(direct.final_counts[:, 1], other.final_counts[:, 1]).pvalue > 1e-3
        assert stats.ks_2samp(direct.counts[:, 1, 0], other.counts[:, 1, 0]).pvalue > 1e-3
        sd = direct.final_counts[:, 1].std()
        assert abs(direct.final_counts[:, 1].mean() - other.final_counts[:, 1].mean()) < 4 * sd / math.sqrt(300)
        assert 0.5 < other.final_counts[:, 1].var() / direct.final_counts[:, 1].var() < 2.0
    # Tau-leaping really leaps: far fewer steps than reactions fired.
    assert leaping.steps.sum() < 0.75 * leaping.events.sum()
    assert np.array_equal(direct.steps, direct.events)


def test_same_seed_same_output_and_different_seed_different_output():
    model = alemi_szr(0.7)
    kwargs = dict(x0={"S": 500, "Z": 5}, t_end=30.0, replicates=8, t_grid=np.linspace(0, 30, 31))
    for method in ("direct", "next", "tau"):
        first = simulate(model, method=method, seed=11, **kwargs)
        again = simulate(model, method=method, seed=11, **kwargs)
        other = simulate(model, method=method, seed=12, **kwargs)
        assert first.equals(again)
        assert not first.equals(other)
    # Threads do not change results: each replicate seeds its own generator.
    serial = simulate_runs(model, method="next", seed=5, parallel=False, **kwargs)
    parallel = simulate_runs(model, method="next", seed=5, parallel=True, **kwargs)
    assert np.array_equal(serial.counts, parallel.counts)


def test_tidy_frame_shape_and_conservation():
    frame = simulate(alemi_szr(0.9), {"S": 95, "Z": 5}, 10.0, replicates=3, seed=0, t_grid=[0, 5, 10])
    assert list(frame.columns) == ["replicate", "time", "S", "Z", "R"]
    assert len(frame) == 9
    assert (frame[["S", "Z", "R"]].sum(axis=1) == 100).all()
    assert frame.loc[frame.time == 0, "Z"].eq(5).all()


def test_next_reaction_with_many_channels_matches_exponential_decay():
    # 400 independent decays X_i → ∅ with different rates: E[X_i(t)] = x0 e^{-k_i t}.
    m = 400
    rates = np.linspace(0.1, 2.0, m)
    species = [f"X{i}" for i in range(m)]
    reactions = [
        Reaction(f"decay {i}", {name: 1}, {}, float(k)) for i, (name, k) in enumerate(zip(species, rates, strict=True))
    ]
    model = ReactionModel.from_reactions(species, reactions)
    runs = simulate_runs(model, [50] * m, 1.0, "next", 20, seed=3, t_grid=[1.0])
    mean = runs.counts[:, 0, :].mean(axis=0)
    expected = 50 * np.exp(-rates)
    # Each channel's mean over 20 runs has sd <= sqrt(50/4/20) ~ 0.8; the average over 400 is far tighter.
    assert abs(np.mean(mean - expected)) < 0.2
    assert np.max(np.abs(mean - expected)) < 4.5


def test_indexed_heap_keeps_the_earliest_time_on_top():
    rng = np.random.default_rng(0)
    times = rng.random(1000)
    heap = np.empty(1000, dtype=np.int64)
    pos = np.empty(1000, dtype=np.int64)
    heap_build(times, heap, pos)
    for _ in range(2000):
        j = int(rng.integers(1000))
        times[j] = rng.random() if rng.random() < 0.9 else np.inf
        heap_update(times, heap, pos, j)
        assert heap[0] == int(np.argmin(times)) or times[heap[0]] == times.min()
    assert np.array_equal(heap[pos], np.arange(1000))
    children = np.arange(1, 1000)
    assert np.all(times[heap[(children - 1) // 2]] <= times[heap[children]])


def test_dependency_graph_and_declaration_checks():
    model = alemi_szr(0.5)
    ptr, idx = dependency_graph(model.reactant_matrix, model.change_matrix)
    assert ptr.tolist() == [0, 2, 4]  # bite and kill both change Z (and S), which both read
    assert sorted(idx[0:2].tolist()) == [0, 1]
    with pytest.raises(ValueError, match="unknown species"):
        ReactionModel.from_reactions(["A"], [Reaction("r", {"B": 1}, {}, 1.0)])
    with pytest.raises(ValueError, match="order"):
        ReactionModel.from_reactions(["A"], [Reaction("r", {"A": 4}, {}, 1.0)]).compile(1.0)
    with pytest.raises(ValueError, match=">= 0"):
        simulate(model, {"S": -1, "Z": 1}, 1.0)
    with pytest.raises(ValueError, match="method"):
        simulate(model, {"S": 1, "Z": 1}, 1.0, method="euler")


def test_second_order_propensity_uses_pairs():
    # 2A → ∅ at rate k: propensity k·A(A−1)/2, so from A = 2 the only event comes at rate k.
    model = ReactionModel.from_reactions(["A"], [Reaction("pair", {"A": 2}, {}, 1.0)])
    runs = simulate_runs(model, [2], math.inf, "direct", 2000, seed=4, t_grid=[0.0])
    assert abs(runs.final_time.mean() - 1.0) < 4 / math.sqrt(2000)
    assert np.all(runs.final_counts == 0)


def test_munz_reactions_reach_doomsday_and_quirk_keeps_the_dead_among_the_living():
    paper = PRESETS["paper"]
    runs = simulate_runs(munz_reactions("szr", paper), {"S": 499, "Z": 1}, 10.0, "direct", 20, seed=2)
    humans_left = runs.final_counts[:, 0]
    zombie_extinct = runs.final_counts[:, 1] == 0
    assert np.all(humans_left[~zombie_extinct] < 50)  # outbreaks that take off end near doomsday
    assert (~zombie_extinct).sum() >= 10
    no_zombies = paper.with_(beta=0.0, alpha=0.0, zeta=0.0, delta=0.05)
    quirk = simulate_runs(munz_reactions("szr", no_zombies, quirk=True), {"S": 500}, 10.0, "direct", 1, seed=0)
    printed = simulate_runs(munz_reactions("szr", no_zombies), {"S": 500}, 10.0, "direct", 1, seed=0)
    assert quirk.final_counts[0, 0] == 500 and quirk.final_counts[0, 2] > 0
    assert printed.final_counts[0].sum() == 500 and printed.final_counts[0, 0] < 500
    for name in ("sizr", "sizrq", "cure"):
        model = munz_reactions(name, PRESETS["paper"])
        assert "Z" in model.species
