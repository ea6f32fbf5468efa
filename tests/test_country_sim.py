"""The country simulation on small synthetic lattices: conservation, well-mixed limit, front speed, cordons, methods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hyosan.country import kernel as kn
from hyosan.country.lattice import PopulationLattice, lattice_from_points
from hyosan.country.params import Bombing, Cordon, load_config
from hyosan.country.places import Seed, area_cells
from hyosan.country.sim import CountrySim
from hyosan.country.theory import brunet_derrida_factor, front_speed, well_mixed
from hyosan.errors import UserInputError

INSTANT = ["turn_median='1 s'", "turn_p90='2 s'", "hambie_fraction=0", "half_saturation_density=0"]


def _towns() -> PopulationLattice:
    """Five towns 10–30 km apart, 1 km cells: a small world with names for interventions."""
    lat = np.array([36.80, 36.85, 36.70, 36.95, 36.60])
    lon = np.array([127.10, 127.25, 127.00, 127.05, 127.30])
    pop = np.array([60_000, 30_000, 20_000, 15_000, 25_000])
    return lattice_from_points(lat, lon, pop, 1.0, names=["Alpha", "Beta", "Gamma", "Delta", "Epsilon"])


def test_people_are_conserved_through_every_intervention(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[[cordon]]
around = "Alpha"
radius = "6 km"
from_day = 2
leak = 0.01
army_factor = 4
army_from_day = 3

[[evacuation]]
around = "Alpha"
radius = "3 km"
day = 4
share = 0.5
to = "Epsilon"

[[evacuation]]
around = "Beta"
radius = "3 km"
day = 5
share = 0.3

[[bombing]]
around = "Alpha"
radius = "2 km"
day = 6
lethality = 0.9
"""
    )
    lattice = _towns()
    for method in ("exact", "tau"):
        sim = CountrySim(lattice, load_config(path), [Seed(_cell(lattice, "Alpha"), zombies=30)], seed=4, method=method)
        seen: list[int] = []
        sim.run(8, progress=lambda info, s=sim, out=seen: out.append(s.grid().sum(dtype=np.int64) + s.evacuated.sum()))
        assert seen == [lattice.total] * 8
        kinds = [e["kind"] for e in sim.events]
        for kind in ("seed", "cordon_closed", "army_in", "evacuation", "bombing"):
            assert kind in kinds, (method, kind)
        assert sim.evacuated.sum() > 0 and sim.bombed > 0


def test_one_fast_mixing_cell_follows_alemis_closed_form() -> None:
    """One cell is well mixed: with instant turning it is Alemi et al.'s SZR, whose mean field is closed-form."""
    people, zombies = 100_000, 200
    cfg = load_config(None, [*INSTANT, "kill_ratio=0.5", "bite_rate=2", "trip_rate=0", "walk_time_per_km='1000 d'"])
    lattice = PopulationLattice.from_array(np.full((1, 1), people), 2.0)
    days = np.arange(1, 11)
    runs = []
    for seed in range(4):
        sim = CountrySim(lattice, cfg, [Seed(0, zombies=zombies)], seed=seed, method="exact")
        daily = sim.run(10).daily
        runs.append(daily[["S", "Z", "R"]].to_numpy()[1:])
    mean = np.mean(runs, axis=0)
    theory = well_mixed(days, people - zombies, zombies, cfg.model, lattice.cell_area_km2)
    assert theory[-1, 0] < 0.2 * people  # the closed form has run through most of the outbreak
    np.testing.assert_allclose(mean, theory, rtol=0.04, atol=0.01 * people)


def test_zombie_front_moves_at_the_speed_walking_implies() -> None:
    """A strip of equal towns: the front of fallen cells advances at the linear spreading speed c*."""
    cfg = load_config(None, [*INSTANT, "kill_ratio=0.5", "bite_rate=4", "trip_rate=0"])
    slow = load_config(None, [*INSTANT, "kill_ratio=0.5", "bite_rate=4", "trip_rate=0", "walk_time_per_km='17 h'"])
    people, length, days = 1_000, 160, 30
    lattice = PopulationLattice.from_array(np.full((1, length), people), 1.0)
    measured = {}
    for name, config in (("alemi", cfg), ("four times slower", slow)):
        speeds = []
        for seed in (1, 2):
            sim = CountrySim(lattice, config, [Seed(0, zombies=50)], seed=seed)
            front: list[int] = []
            sim.run(days, progress=lambda info, s=sim, out=front: out.append(_front(s, people)))
            speeds.append(np.polyfit(np.arange(10, days + 1), front[9:], 1)[0])
        measured[name] = float(np.mean(speeds))
    c_fast = front_speed(cfg.model, 1.0)
    c_slow = front_speed(slow.model, 1.0)
    bd = brunet_derrida_factor(people)
    # A stochastic front with N people per cell is slower than c* by about π²/(2 ln²N) (8% here).
    assert measured["alemi"] == pytest.approx(c_fast * bd, rel=0.1)
    assert measured["four times slower"] == pytest.approx(c_slow * bd, rel=0.12)
    assert c_slow < 0.75 * c_fast  # walking four times slower: D/4, the front about half as fast


def test_a_cordon_with_no_leak_stops_the_spread() -> None:
    people, length = 1_000, 60
    lattice = PopulationLattice.from_array(np.full((1, length), people), 1.0)
    base = [*INSTANT, "kill_ratio=0.5", "trip_rate=5", "turn_median='6 h'", "turn_p90='1 d'"]
    outside = np.arange(16, length)
    for leak, spreads in ((0.0, False), (1.0, True)):
        cordon = Cordon(cells=[(0, 5)], cell_radius=10.5, from_day=0.0, leak=leak)
        cfg = load_config(None, base).model_copy(update={"cordon": [cordon]})
        sim = CountrySim(lattice, cfg, [Seed(5, zombies=40)], seed=3)
        sim.run(25)
        grid = sim.grid()
        reached = (grid[kn.S, 0, outside] < people).any()
        inside_fell = grid[kn.S, 0, :16].sum() < 0.5 * 16 * people
        assert inside_fell
        assert reached == spreads, leak
        if not spreads:
            assert sim.counters[kn.C_BLOCKED] > 0 and sim.counters[kn.C_BREACHES] == 0


def test_a_leaky_cordon_reports_when_and_where_it_broke() -> None:
    lattice = _towns()
    cfg = load_config(None, ["trip_rate=2"])
    cfg = cfg.model_copy(update={"cordon": [Cordon(around="Alpha", radius=5000.0, from_day=0.5, leak=0.05)]})
    sim = CountrySim(lattice, cfg, [Seed(_cell(lattice, "Alpha"), zombies=50)], seed=2)
    result = sim.run(12)
    broke = result.summary["cordons"][0]
    assert broke["broke_day"] is not None and broke["broke_day"] >= 0.5
    assert broke["broke_where"]
    assert "cordon_breached" in set(result.events["kind"])


def test_exact_and_tau_agree_in_distribution_on_a_lattice() -> None:
    """Walking, trips and reactions together: the two methods give the same distribution of outcomes."""
    lattice = PopulationLattice.from_array(np.full((6, 6), 3_000), 2.0)
    cfg = load_config(None, ["trip_rate=2", "bite_rate=6"])
    outcomes = {}
    for method in ("exact", "tau"):
        rows = []
        for seed in range(24):
            sim = CountrySim(lattice, cfg, [Seed(0, zombies=300)], seed=seed, method=method)
            sim.run(6)
            grid = sim.grid()
            fallen_cells = int((grid[kn.S] < 0.5 * 3_000).sum())
            rows.append([*sim.totals()[[kn.S, kn.Z, kn.R]], fallen_cells])
        outcomes[method] = np.array(rows, dtype=float)
    exact, tau = outcomes["exact"], outcomes["tau"]
    assert 0.2 < exact[:, 0].mean() / lattice.total < 0.9  # caught mid-outbreak
    for j, name in enumerate(("S", "Z", "R", "fallen cells")):
        assert stats.ks_2samp(exact[:, j], tau[:, j]).pvalue > 1e-3, name
        spread = np.sqrt(exact[:, j].var(ddof=1) / 24 + tau[:, j].var(ddof=1) / 24)
        assert abs(exact[:, j].mean() - tau[:, j].mean()) < 4 * spread + 1e-9, name


def test_same_seed_same_run_and_a_new_seed_a_new_run() -> None:
    lattice = _towns()
    seeds = [Seed(_cell(lattice, "Beta"), zombies=20)]

    def daily(seed: int, method: str):
        return CountrySim(lattice, load_config(None), seeds, seed=seed, method=method).run(5).daily

    for method in ("exact", "tau"):
        assert daily(7, method).equals(daily(7, method))
        assert not daily(7, method).equals(daily(8, method))


def test_bombing_with_full_lethality_empties_the_area() -> None:
    lattice = _towns()
    cfg = load_config(None).model_copy(update={"bombing": [Bombing(around="Gamma", radius=4000.0, day=1.0)]})
    sim = CountrySim(lattice, cfg, [Seed(_cell(lattice, "Alpha"), zombies=5)], seed=1)
    sim.run(2)
    cells = area_cells(lattice, cfg.bombing[0])
    grid = sim.grid().reshape(kn.N_SPECIES, -1)[:, cells]
    assert grid[[kn.S, kn.B1, kn.B2, kn.B3, kn.Z, kn.H]].sum() == 0
    assert grid[kn.R].sum() == lattice.population.ravel()[cells].sum()


def test_the_army_raises_the_kill_rate_inside_its_cordon() -> None:
    lattice = PopulationLattice.from_array(np.full((1, 1), 200_000), 2.0)
    kills = {}
    for factor in (1.0, 10.0):
        cfg = load_config(None, ["trip_rate=0", "kill_ratio=0.5"])
        cfg = cfg.model_copy(update={"cordon": [Cordon(cells=[(0, 0)], army_factor=factor)]})
        sim = CountrySim(lattice, cfg, [Seed(0, zombies=5_000)], seed=5)
        sim.run(1)
        kills[factor] = sim.counters[kn.C_KILLS] / max(sim.counters[kn.C_BITES], 1)
    assert kills[1.0] == pytest.approx(0.5, rel=0.05)  # kills per bite = α without the army
    assert kills[10.0] == pytest.approx(5.0, rel=0.1)  # and k·α with it


def test_run_to_the_end_stops_when_the_outbreak_is_over() -> None:
    lattice = PopulationLattice.from_array(np.full((3, 3), 200), 1.0)
    sim = CountrySim(lattice, load_config(None, ["kill_ratio=2"]), [Seed(4, zombies=3)], seed=1)
    result = sim.run(0, until_end=True, max_days=400)
    assert result.summary["days_simulated"] < 400
    assert result.summary["ended"].startswith(("outbreak over", "nothing left"))


def test_bad_inputs_are_user_errors() -> None:
    lattice = PopulationLattice.from_array(np.full((2, 2), 10), 1.0)
    with pytest.raises(UserInputError, match="method"):
        CountrySim(lattice, method="fast")
    with pytest.raises(UserInputError, match="outside"):
        CountrySim(lattice, load_config(None), [Seed(99, zombies=1)])
    cfg = load_config(None).model_copy(update={"cordon": [Cordon(around="Seoul", radius=1000.0)]})
    with pytest.raises(UserInputError, match="no named places"):
        CountrySim(lattice, cfg)


def _cell(lattice: PopulationLattice, name: str) -> int:
    place = lattice.find_place(name)
    return int(place["row"]) * lattice.shape[1] + int(place["col"])


def _front(sim: CountrySim, people: int) -> int:
    fallen = np.flatnonzero(sim.grid()[kn.S, 0] <= 0.5 * people)
    return int(fallen.max()) if fallen.size else 0
