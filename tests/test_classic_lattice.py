"""The lattice zombie model (Alemi et al. 2015): exactness, conservation, determinism, α_c tools."""

import math

import numpy as np
import pytest
from matplotlib.image import imread

from hyosan.classic.critical import (
    PUBLISHED_ALPHA_C,
    SpanningScan,
    estimate_alpha_c,
    fit_scaling,
    pairwise_crossings,
    scan_spanning,
)
from hyosan.classic.lattice import (
    REMOVED,
    SUSCEPTIBLE,
    ZOMBIE,
    check_lattice_shape,
    draw_outbreak_png,
    simulate_lattice,
)
from hyosan.errors import UserInputError


def active_bonds(grid: np.ndarray, periodic: bool) -> int:
    """S–Z nearest-neighbour pairs left in a grid (each bond counted once)."""
    s, z = grid == SUSCEPTIBLE, grid == ZOMBIE
    if periodic:
        right = (s & np.roll(z, -1, axis=1)) | (z & np.roll(s, -1, axis=1))
        down = (s & np.roll(z, -1, axis=0)) | (z & np.roll(s, -1, axis=0))
        return int(right.sum() + down.sum())
    right = (s[:, :-1] & z[:, 1:]) | (z[:, :-1] & s[:, 1:])
    down = (s[:-1, :] & z[1:, :]) | (z[:-1, :] & s[1:, :])
    return int(right.sum() + down.sum())


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.45, 1.5])
def test_conservation_and_no_active_bond_left(periodic, alpha):
    for seed in range(4):
        run = simulate_lattice(40, alpha, seed=seed, periodic=periodic)
        grid = run.grid
        assert grid.shape == (40, 40) and grid.dtype == np.uint8
        assert set(np.unique(grid)) <= {SUSCEPTIBLE, ZOMBIE, REMOVED}
        assert run.susceptible + run.zombies + run.removed == 40 * 40
        assert run.events == run.bites + run.kills
        assert run.bites == run.zombies + run.removed - run.initial_zombies
        assert run.kills == run.removed
        assert active_bonds(grid, periodic) == 0
        assert run.time > 0 and run.events >= 1
        if alpha == 0.0:  # nobody fights back: zombies take everything reachable
            assert run.susceptible == 0 and run.removed == 0


def test_many_initial_zombies_and_duplicates_count_once():
    seeds = [(0, 0), (5, 5), (5, 5), (19, 19)]
    run = simulate_lattice((20, 30), 0.6, seed=3, zombies=seeds)
    assert run.initial_zombies == 3
    assert run.bites == run.zombies + run.removed - 3
    assert active_bonds(run.grid, False) == 0


def test_one_zombie_next_to_one_human_wins_with_probability_one_over_one_plus_alpha():
    alpha, n = 0.5, 3000
    wins = 0
    for seed in range(n):
        run = simulate_lattice((1, 2), alpha, seed=seed, zombies=[(0, 0)])
        assert run.events == 1
        wins += run.grid.tolist() == [[ZOMBIE, ZOMBIE]]
    p = 1 / (1 + alpha)
    assert abs(wins / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_zombie_between_two_humans_matches_the_exact_outcome_distribution():
    # First event: one of two equal bonds; kill (q) ends it with S R S. A bite (p) leaves one
    # bond; then bite → Z Z Z, kill of the middle zombie → Z R S or S R Z (by which side).
    alpha, n = 1.0, 4000
    p, q = 1 / (1 + alpha), alpha / (1 + alpha)
    expected = {(0, 2, 0): q, (1, 1, 1): p * p, (1, 2, 0): p * q / 2, (0, 2, 1): p * q / 2}
    counts = dict.fromkeys(expected, 0)
    for seed in range(n):
        run = simulate_lattice((1, 3), alpha, seed=seed, zombies=[(0, 1)])
        counts[tuple(int(x) for x in run.grid[0])] += 1
    chi2 = sum((counts[k] - n * v) ** 2 / (n * v) for k, v in expected.items())
    assert chi2 < 21.1  # χ²(3 dof) at p = 1e-4


def test_waiting_time_is_exponential_with_total_rate():
    alpha, beta, n = 0.5, 2.0, 3000
    times = np.array([simulate_lattice((1, 2), alpha, beta=beta, seed=s, zombies=[(0, 1)]).time for s in range(n)])
    mean = 1 / (beta * (1 + alpha))
    assert abs(times.mean() - mean) < 4 * mean / math.sqrt(n)
    assert np.isnan(simulate_lattice(8, 0.3, track_time=False).time)


def test_same_seed_same_grid_and_different_seeds_differ():
    a = simulate_lattice(64, 0.3, seed=11)
    b = simulate_lattice(64, 0.3, seed=11)
    assert np.array_equal(a.grid, b.grid) and a.events == b.events and a.time == b.time
    grids = [simulate_lattice(64, 0.3, seed=s).grid for s in range(11, 16)]
    assert sum(not np.array_equal(grids[0], g) for g in grids[1:]) == 4


def test_outbreak_shrinks_with_alpha_and_spans_only_well_below_the_threshold():
    alphas = [0.1, 0.3, 0.5, 0.8]
    centre = scan_spanning([48], alphas, 60, seed=5, seeding="centre", progress=False)
    fractions = centre.mean_fraction[0]
    assert all(fractions[i] > fractions[i + 1] for i in range(len(alphas) - 1)), fractions
    edge = scan_spanning([64], [0.2, 1.0], 40, seed=5, seeding="edge", progress=False)
    assert edge.spans[0].tolist() == [40, 0]
    far_below = scan_spanning([64], [0.05], 100, seed=6, seeding="centre", progress=False)
    assert far_below.spans[0, 0] >= 85  # the rest die out by chance in the first few events


def test_huge_or_malformed_lattices_are_refused_before_allocating():
    with pytest.raises(UserInputError, match="too large"):
        check_lattice_shape(10**6, 10**6)
    with pytest.raises(UserInputError, match="too large"):
        simulate_lattice(10**6, 0.5)
    with pytest.raises(UserInputError, match="periodic"):
        simulate_lattice((2, 10), 0.5, periodic=True)
    with pytest.raises(UserInputError, match="outside"):
        simulate_lattice(10, 0.5, zombies=[(10, 0)])
    with pytest.raises(UserInputError, match="alpha"):
        simulate_lattice(10, -0.1)


def test_a_4096_lattice_runs_without_touching_all_its_memory():
    run = simulate_lattice(4096, 3.0, seed=0)
    assert run.grid.shape == (4096, 4096)
    assert run.susceptible + run.zombies + run.removed == 4096**2
    assert run.events == run.bites + run.kills


def test_png_shows_each_state_in_its_colour(tmp_path):
    run = simulate_lattice(16, 0.4, seed=2)
    path = draw_outbreak_png(run, tmp_path / "cluster.png")
    image = imread(path)
    assert image.shape[:2] == (512, 512)  # 16 sites scaled up by 32
    pixel = (image[::32, ::32, :3] * 255).round().astype(int)
    colours = {SUSCEPTIBLE: (240, 240, 240), ZOMBIE: (213, 94, 0), REMOVED: (0, 114, 178)}
    for state, colour in colours.items():
        assert (pixel[run.grid == state] == colour).all()
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.png"]  # no temporary file left
    cropped = imread(draw_outbreak_png(run.grid, tmp_path / "crop.png", crop=True, min_pixels=1))
    assert cropped.shape[0] <= 16


def test_scan_is_deterministic_and_independent_of_threads():
    kwargs = {"seed": 9, "progress": False}
    one = scan_spanning([8, 16], [0.2, 0.44, 0.8], 30, workers=1, **kwargs)
    two = scan_spanning([8, 16], [0.2, 0.44, 0.8], 30, workers=2, **kwargs)
    assert np.array_equal(one.spans, two.spans)
    assert np.array_equal(one.mean_fraction, two.mean_fraction)
    assert (one.spans[:, 0] >= one.spans[:, 2]).all()
    other = scan_spanning([8, 16], [0.2, 0.44, 0.8], 30, workers=1, seed=10, progress=False)
    assert not np.array_equal(one.mean_fraction, other.mean_fraction)


def test_scaling_fit_recovers_a_known_critical_point():
    # Synthetic crossing counts drawn from Π = expit(0.2 − 1.5·x), x = (α − 0.41)·L^{3/4}.
    rng = np.random.default_rng(1)
    sizes, alphas, n = (32, 64, 128, 256), tuple(np.linspace(0.37, 0.45, 9)), 2000
    x = (np.array(alphas)[None, :] - 0.41) * np.array(sizes, float)[:, None] ** 0.75
    counts = rng.binomial(n, 1 / (1 + np.exp(-(0.2 - 1.5 * x))))
    scan = SpanningScan(sizes, alphas, n, 0, "edge", counts, np.zeros_like(x), 0.0)
    alpha_c, inv_nu, c0, c1, _ = fit_scaling(scan)
    assert abs(alpha_c - 0.41) < 0.002 and abs(inv_nu - 0.75) < 0.05
    assert abs(c0 - 0.2) < 0.1 and abs(c1 + 1.5) < 0.2
    estimate = estimate_alpha_c(scan, n_bootstrap=30, seed=1)
    assert estimate.ci95[0] <= 0.41 <= estimate.ci95[1]
    assert 0 < estimate.stderr < 0.002
    crossings = pairwise_crossings(scan)
    assert all(abs(c["alpha"] - 0.41) < 0.005 for c in crossings)


def test_estimate_machinery_on_tiny_lattices():
    scan = scan_spanning([8, 16, 24], np.linspace(0.3, 0.6, 5), 40, seed=3, progress=False)
    estimate = estimate_alpha_c(scan, n_bootstrap=20, seed=3)
    assert 0.2 < estimate.alpha_c < 0.7
    assert estimate.ci95[0] <= estimate.ci95[1] and estimate.stderr > 0
    assert len(estimate.crossings) == 2 and estimate.n_bootstrap == 20
    assert estimate.published_alpha_c == PUBLISHED_ALPHA_C
    fixed = estimate_alpha_c(scan, nu=4 / 3, n_bootstrap=5, seed=3)
    assert fixed.nu_fixed and fixed.nu == pytest.approx(4 / 3)
    with pytest.raises(UserInputError, match="two lattice sizes"):
        estimate_alpha_c(scan_spanning([8], [0.3, 0.4, 0.5], 5, progress=False))
