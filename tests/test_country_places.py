"""Areas and starts on a lattice: radius, polygon, region, cells; places, coordinates and school runs."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan.country.lattice import PopulationLattice, country_lattice, lattice_from_points
from hyosan.country.params import Area
from hyosan.country.places import area_cells, place_centre, seeds_at, seeds_from_school
from hyosan.errors import UserInputError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def towns() -> PopulationLattice:
    lat = np.array([36.80, 36.95, 36.60])
    lon = np.array([127.10, 127.05, 127.30])
    regions = ["44", "44", "47"]
    return lattice_from_points(
        lat, lon, np.array([50_000, 20_000, 30_000]), 1.0, names=["Alpha", "Beta", "Gamma"], regions=regions
    )


def test_radius_area_is_a_disc_of_the_right_size(towns) -> None:
    cells = area_cells(towns, Area(around="Alpha", radius=5000.0))
    assert len(cells) == pytest.approx(np.pi * 5**2, rel=0.15)
    row, col, _ = place_centre(towns, "alpha")
    assert row * towns.shape[1] + col in cells
    same = area_cells(towns, Area(at=(36.80, 127.10), radius=5000.0))
    assert len(np.intersect1d(same, cells)) > 0.9 * len(cells)


def test_polygon_area_contains_what_is_inside(towns) -> None:
    square = Area(polygon=[(36.75, 127.05), (36.75, 127.15), (36.85, 127.15), (36.85, 127.05)])
    cells = area_cells(towns, square)
    # About 11.1 km (latitude) by 8.9 km (longitude at 36.8°N).
    assert len(cells) == pytest.approx(11.1 * 8.9, rel=0.15)
    row, col, _ = place_centre(towns, "Alpha")
    assert row * towns.shape[1] + col in cells
    row, col, _ = place_centre(towns, "Beta")
    assert row * towns.shape[1] + col not in cells


def test_region_and_cells_areas(towns) -> None:
    label = next(n for n in towns.region_names if n.startswith("47"))
    cells = area_cells(towns, Area(region="47"))
    assert set(towns.region.ravel()[cells]) == {towns.region_names.index(label)}
    with pytest.raises(UserInputError, match="no region"):
        area_cells(towns, Area(region="99"))
    grid = PopulationLattice.from_array(np.ones((5, 5)), 1.0)
    assert len(area_cells(grid, Area(cells=[(2, 2)], cell_radius=1.0))) == 5
    with pytest.raises(UserInputError, match="outside"):
        area_cells(grid, Area(cells=[(9, 9)]))


def test_seeds_at_place_point_and_cell(towns) -> None:
    seeds, label = seeds_at(towns, place="Gamma", zombies=4)
    assert seeds[0].zombies == 4 and label == "Gamma"
    seeds, _ = seeds_at(towns, latlon=(36.95, 127.05))
    row, col, _ = place_centre(towns, "Beta")
    assert seeds[0].cell == row * towns.shape[1] + col
    with pytest.raises(UserInputError, match="outside"):
        seeds_at(towns, latlon=(10.0, 10.0))
    with pytest.raises(UserInputError, match="exactly one"):
        seeds_at(towns, place="Gamma", cell=(0, 0))


def test_hyosan_is_a_korean_city() -> None:
    korea = country_lattice("KR", 20.0)
    row, col, label = place_centre(korea, "Hyosan")
    cheonan = korea.find_place("Cheonan")
    assert (row, col) == (cheonan["row"], cheonan["col"]) and "Cheonan" in label
    lattice = PopulationLattice.from_array(np.ones((2, 2)), 1.0)
    with pytest.raises(UserInputError, match="fictional"):
        place_centre(lattice, "Hyosan")


def test_school_run_seeds_hyosan_with_its_infected(tmp_path) -> None:
    from hyosan.scenario import load_scenario
    from hyosan.school import SchoolSim

    folder = tmp_path / "school"
    SchoolSim(load_scenario("tiny-school"), 1).run().save(folder)
    from hyosan.results import load_results

    people = load_results(folder).people
    korea = country_lattice("KR", 20.0)
    rng = np.random.default_rng(0)
    seeds, label, counts = seeds_from_school(folder, korea, rng, breakout=True)
    infected_inside = int(people["fate"].isin(["zombie", "bitten", "hambie"]).sum())
    assert sum(s.zombies + s.bitten + s.hambies for s in seeds) >= infected_inside
    assert counts["zombies"] == int((people["fate"] == "zombie").sum())
    row, col, _ = place_centre(korea, "Hyosan")
    for s in seeds:  # everyone lands within two cells of Hyosan's centre
        r, c = divmod(s.cell, korea.shape[1])
        assert abs(r - row) <= 2 and abs(c - col) <= 2
    assert "Hyosan" in label
    quiet, _, counts = seeds_from_school(folder, korea, rng, breakout=False)
    assert len(quiet) == counts["bitten"] + counts["hambies"] + counts["zombies"]
    with pytest.raises(UserInputError, match="KR"):
        seeds_from_school(folder, PopulationLattice.from_array(np.ones((2, 2))), rng)
    with pytest.raises(UserInputError, match="missing"):
        seeds_from_school(tmp_path, korea, rng)


def test_a_bitten_escapee_leaves_bitten(tmp_path) -> None:
    import json

    from hyosan.scenario import load_scenario
    from hyosan.school import SchoolSim

    folder = tmp_path / "school"
    SchoolSim(load_scenario("tiny-school"), 1).run().save(folder)
    # Two people leave the school: one after a zombie bit them (a bite's `person` is the victim and
    # `other` the biter, as the school kernel logs it), one unharmed.
    extra = [
        {"time_s": 5.0, "kind": "bite", "person": 900, "other": 901, "floor": "1F", "row": 1, "col": 1},
        {"time_s": 9.0, "kind": "escape", "person": 900, "other": -1, "floor": "1F", "row": 1, "col": 1},
        {"time_s": 9.0, "kind": "escape", "person": 902, "other": -1, "floor": "1F", "row": 1, "col": 1},
    ]
    with (folder / "events.jsonl").open("a", encoding="utf-8") as f:
        f.writelines(json.dumps(e) + "\n" for e in extra)
    korea = country_lattice("KR", 20.0)
    seeds, _, _ = seeds_from_school(folder, korea, np.random.default_rng(0))
    carried = [s for s in seeds if s.note == "school person 900"]
    assert len(carried) == 1 and carried[0].bitten == 1 and carried[0].zombies == 0
    assert not any(s.note == "school person 902" for s in seeds)  # unharmed: not a seed
