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


def _assert_heap(sim: CountrySim) -> None:
    """The exact method's 4-ary heap: every parent fires no later than its children, pos inverts heap."""
    heap_t, heap, pos = sim.heap_t, sim.heap, sim.pos
    i = np.arange(1, heap_t.size)
    assert np.all(heap_t[(i - 1) >> 2] <= heap_t[i])
    assert np.array_equal(pos[heap], np.arange(heap.size))


def test_heap_build_and_slot_times_round_trip() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 6, 17, 1000):
        times = rng.exponential(size=size)
        times[rng.random(size) < 0.3] = np.inf
        sim = CountrySim.__new__(CountrySim)
        sim.heap_t, sim.heap, sim.pos = np.empty(size), np.empty(size, np.int32), np.empty(size, np.int32)
        kn.heap_build(times, sim.heap_t, sim.heap, sim.pos)
        _assert_heap(sim)
        assert sim.heap_t[0] == times.min()
        assert np.array_equal(kn.slot_times(sim.heap_t, sim.pos, size), times)


def test_the_heap_stays_a_heap_through_walks_trips_and_growth() -> None:
    """Many cells activated (the slot arrays grow from 4,112), cells moving both ways in the heap."""
    lattice = PopulationLattice.from_array(np.full((80, 80), 40), 1.0)
    cfg = load_config(None, ["trip_rate=3", "walk_time_per_km='20 min'"])
    for days in (1, 3):
        sim = CountrySim(lattice, cfg, [Seed(40 * 80 + 40, zombies=400)], seed=5)
        sim.run(days)
        _assert_heap(sim)
        n = int(sim.counters[kn.C_ACTIVE])
        times = kn.slot_times(sim.heap_t, sim.pos, sim.heap_t.size)
        assert np.all(np.isinf(times[n:])), days  # slots not in use never fire
        assert np.all(times[:n] >= sim.t), days
    assert sim.cell_of_slot.size > 4112 and n > 4112
    assert sim.grid().sum() == lattice.total + sim.added  # the 400 zombies come on top of the 40 residents


def test_exact_trips_carry_the_bitten_to_the_far_town() -> None:
    """Zombies cannot walk (weeks per km); only bitten travellers can reach the second town."""
    pop = np.zeros((1, 60), dtype=np.int64)
    pop[0, :3] = 5_000
    pop[0, -3:] = 5_000
    lattice = PopulationLattice.from_array(pop, 2.0)
    cfg = load_config(None, ["trip_rate=4", "walk_time_per_km='30 d'", "turn_median='12 h'", "turn_p90='1 d'"])
    sim = CountrySim(lattice, cfg, [Seed(1, zombies=200)], seed=2)
    sim.run(3)
    grid = sim.grid()
    far = grid[:, 0, -3:]
    assert sim.counters[kn.C_TRIPS] > 0
    assert far[[kn.B1, kn.B2, kn.B3, kn.Z, kn.H]].sum() > 0
    assert far.sum() - 15_000 > 6  # arrivals into cells already active too, not only the first into each
    assert grid.sum() == lattice.total + sim.added
    # Every event is one of the channels (a trip into its own cell changes nothing but is an event).
    fired = sum(int(sim.counters[c]) for c in (kn.C_BITES, kn.C_HBITES, kn.C_KILLS, kn.C_TURN_Z, kn.C_TURN_H,
                                                 kn.C_WALKS, kn.C_TRIPS, kn.C_BLOCKED))  # fmt: skip
    assert 0 <= sim.counters[kn.C_EVENTS] - fired <= sim.counters[kn.C_TRIPS]
