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
    random_exponential,
    random_uniform,
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


def test_kernel_generator_is_xoshiro256plusplus_seeded_by_splitmix64():
    # A pure-Python reference of both published algorithms pins the stream the exact kernels draw from.
    mask = (1 << 64) - 1

    def rotl(value, k):
        return ((value << k) | (value >> (64 - k))) & mask

    z, state = 2024, []
    for _ in range(4):
        z = (z + 0x9E3779B97F4A7C15) & mask
        w = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        w = ((w ^ (w >> 27)) * 0x94D049BB133111EB) & mask
        state.append(w ^ (w >> 31))
    expected = []
    for _ in range(8):
        s0, s1, s2, s3 = state
        expected.append(((rotl((s0 + s3) & mask, 23) + s0) & mask) >> 11)
        t = (s1 << 17) & mask
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        state = [s0, s1, s2, rotl(s3, 45)]
    assert random_uniform(2024, 8).tolist() == [k * 2.0**-53 for k in expected]


def test_ziggurat_exponential_is_exact():
    draws = random_exponential(20261125, 1_000_000)
    assert np.all(draws >= 0.0) and np.all(np.isfinite(draws))
    assert stats.kstest(draws, "expon").pvalue > 1e-3
    # Mean and variance of Exp(1) are 1; their standard errors over 10^6 draws are 0.001 and ~0.003.
    assert abs(draws.mean() - 1.0) < 0.005
    assert abs(draws.var() - 1.0) < 0.015
    # The tail beyond the base layer (r ~ 7.697) and the wedges are sampled too, with the right weight.
    tail = draws > 7.69711747013104972
    assert abs(tail.mean() - math.exp(-7.69711747013104972)) < 5 * math.sqrt(math.exp(-7.7) / draws.size)
    assert stats.kstest(draws[tail] - 7.69711747013104972, "expon").pvalue > 1e-3
    uniforms = random_uniform(7, 1_000_000)
    assert uniforms.min() >= 0.0 and uniforms.max() < 1.0
    assert stats.kstest(uniforms, "uniform").pvalue > 1e-3


def test_direct_method_handles_every_propensity_shape():
    # One network with a source, a decay, a pair, a dimer and a third-order channel; the direct method
    # (specialised propensities) and the next-reaction method (generic product) must agree in law.
    model = ReactionModel.from_reactions(
        ["A", "B", "C"],
        [
            Reaction("source", {}, {"A": 1}, 20.0),
            Reaction("decay", {"A": 1}, {}, 0.5),
            Reaction("pair", {"A": 1, "B": 1}, {"C": 1}, 0.01),
            Reaction("dimer", {"A": 2}, {"B": 1}, 0.002),
            Reaction("triple", {"B": 1, "C": 2}, {"A": 1}, 0.0005),
        ],
    )
    grid = [0.0, 2.0, 5.0]
    direct = simulate_runs(model, [10, 20, 5], 5.0, "direct", 400, seed=1, t_grid=grid)
    following = simulate_runs(model, [10, 20, 5], 5.0, "next", 400, seed=2, t_grid=grid)
    for time_index in (1, 2):
        for species in range(3):
            d, n = direct.counts[:, time_index, species], following.counts[:, time_index, species]
            assert stats.ks_2samp(d, n).pvalue > 1e-3
            assert abs(d.mean() - n.mean()) < 5 * math.sqrt((d.var() + n.var()) / 400) + 1e-9


def test_direct_method_decay_and_birth_match_their_laws():
    # X → ∅ at k: X(t) ~ Binomial(x0, e^{-kt}); ∅ → Y at λ: Y(t) ~ Poisson(λt), independent channels.
    model = ReactionModel.from_reactions(
        ["X", "Y"], [Reaction("decay", {"X": 1}, {}, 0.7), Reaction("birth", {}, {"Y": 1}, 3.0)]
    )
    runs = simulate_runs(model, [40, 0], 1.5, "direct", 4000, seed=9, t_grid=[1.5])
    survive = math.exp(-0.7 * 1.5)
    x_end, y_end = runs.counts[:, 0, 0], runs.counts[:, 0, 1]
    # Chi-square over the bins 7..21 with both tails lumped, so every expected count is well above 5.
    edges = np.arange(7, 23)
    observed = np.histogram(x_end, bins=np.concatenate(([-0.5], edges - 0.5, [40.5])))[0]
    law = stats.binom(40, survive)
    expected = 4000 * np.diff(np.concatenate(([0.0], law.cdf(edges - 1), [1.0])))
    assert expected.min() > 5
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    assert abs(x_end.mean() - 40 * survive) < 5 * math.sqrt(40 * survive * (1 - survive) / 4000)
    assert abs(y_end.mean() - 4.5) < 5 * math.sqrt(4.5 / 4000)
    assert abs(y_end.var() / 4.5 - 1.0) < 0.1
