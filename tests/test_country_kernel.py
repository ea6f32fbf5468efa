"""Compiled country kernels: one closed cell against the classic SSA engine, and the bookkeeping helpers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hyosan.classic.ssa import simulate_runs
from hyosan.country import kernel as kn
from hyosan.country.lattice import PopulationLattice
from hyosan.country.params import load_config
from hyosan.country.places import Seed
from hyosan.country.sim import CountrySim

# One cell, nobody can leave: no walking (a 1 x 1 lattice blocks every step), no trips.
CLOSED = ["trip_rate=0", "bite_rate=6", "kill_ratio=0.6", "turn_median='1 h'", "turn_p90='6 h'", "hambie_fraction=0.2"]


def _cell_run(method: str, seed: int, people: int, zombies: int, days: int, overrides=CLOSED) -> np.ndarray:
    cfg = load_config(None, overrides)
    lattice = PopulationLattice.from_array(np.full((1, 1), people), 2.0)
    sim = CountrySim(lattice, cfg, [Seed(0, zombies=zombies)], seed=seed, method=method)
    sim.run(days)
    return sim.totals()


def test_closed_cell_matches_the_classic_engine_in_distribution() -> None:
    """The country kernel in one closed cell is the same reaction system the classic SSA engine simulates."""
    people, zombies, days, reps = 400, 3, 3, 150
    cfg = load_config(None, CLOSED)
    lattice = PopulationLattice.from_array(np.full((1, 1), people), 2.0)
    par = CountrySim(lattice, cfg, []).par
    normaliser = people + par[kn.P_KHALF]
    model = kn.cell_reaction_model(par, normaliser)
    x0 = {"S": people - zombies, "Z": zombies}
    classic = simulate_runs(model, x0, float(days), "next", reps, seed=7, t_grid=[float(days)]).final_counts
    ours = np.array([_cell_run("exact", seed, people, zombies, days) for seed in range(reps)])
    for column in (kn.S, kn.Z, kn.H, kn.R):
        assert stats.ks_2samp(ours[:, column], classic[:, column]).pvalue > 1e-3, kn.SPECIES[column]
        assert ours[:, column].mean() == pytest.approx(classic[:, column].mean(), rel=0.25, abs=3)


def test_tau_leaping_matches_exact_in_one_big_cell() -> None:
    """Many zombies at the start, so runs differ little and a bias of the leaps would show."""
    people, zombies, days, reps = 200_000, 2_000, 3, 30
    exact = np.array([_cell_run("exact", s, people, zombies, days) for s in range(reps)])
    tau = np.array([_cell_run("tau", s, people, zombies, days) for s in range(reps)])
    assert 0.3 < exact[:, kn.S].mean() / people < 0.8  # mid-outbreak: the test compares a moving state
    for column in (kn.S, kn.Z, kn.H, kn.R):
        a, b = exact[:, column].astype(float), tau[:, column].astype(float)
        spread = np.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
        assert abs(a.mean() - b.mean()) < 4 * spread, kn.SPECIES[column]
        assert stats.ks_2samp(a, b).pvalue > 1e-3, kn.SPECIES[column]


def test_people_are_conserved_by_every_channel() -> None:
    for method in ("exact", "tau"):
        totals = _cell_run(method, 3, 5_000, 5, 10, ["bite_rate=8", "kill_ratio=0.4", "trip_rate=0"])
        assert totals.sum() == 5_000


def test_region_and_grid_counts_agree_with_the_slots() -> None:
    lattice = PopulationLattice.from_array(np.arange(12).reshape(3, 4) * 100, 1.0)
    lattice.region[:, 2:] = 1
    lattice.region_names = ["west", "east"]
    sim = CountrySim(lattice, load_config(None, ["trip_rate=0"]), [Seed(5, zombies=50)], seed=2)
    sim.run(2)
    grid = sim.grid()
    assert grid.sum() == lattice.total
    regions = kn.region_counts(
        sim.state, sim.cell_of_slot, int(sim.counters[kn.C_ACTIVE]), sim.region_flat, sim.home, 2
    )
    assert np.array_equal(regions[0], grid[:, :, :2].sum(axis=(1, 2)))
    assert np.array_equal(regions[1], grid[:, :, 2:].sum(axis=(1, 2)))
    assert regions[2].sum() == 0  # no cell without a region


def test_cells_are_activated_only_where_the_outbreak_is() -> None:
    lattice = PopulationLattice.from_array(np.full((30, 30), 100), 1.0)
    cfg = load_config(None, ["trip_rate=0", "walk_time_per_km='10 d'"])
    sim = CountrySim(lattice, cfg, [Seed(15 * 30 + 15, zombies=20)], seed=1)
    sim.run(1)
    active = int(sim.counters[kn.C_ACTIVE])
    assert 1 <= active < 30  # slow walkers: a few cells around the start, not the 900 of the lattice
