"""Places on a lattice: the areas interventions act on, and where an outbreak starts (a place, a point, a school run).

Hyosan, the show's city, is fictional. On a Korean lattice the place name ``Hyosan`` stands for a
real city, ``Cheonan`` by default (`CountryConfig.hyosan_at`): a mid-sized city (about 650,000
people, like the show's city, big enough for its own hospitals, police stations and a cordon of its
own) 85 km south of Seoul on the main rail and motorway corridor, so that what leaves it can reach
the capital within hours, as the infection does in the show.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyosan.country.lattice import PopulationLattice, _fold
from hyosan.country.params import Area
from hyosan.errors import UserInputError

__all__ = ["HYOSAN", "Seed", "area_cells", "place_centre", "seeds_at", "seeds_from_school"]

HYOSAN = "hyosan"  # folded name of the fictional city


@dataclass(frozen=True)
class Seed:
    """People put into one cell at the start: zombies, bitten or hambies (taken from its residents)."""

    cell: int  # flat index row * cols + col
    zombies: int = 0
    bitten: int = 0
    hambies: int = 0
    note: str = ""


def place_centre(lattice: PopulationLattice, name: str, hyosan_at: str = "Cheonan") -> tuple[int, int, str]:
    """Row, column and display name of a place (``Hyosan`` resolves to the real city standing in for it)."""
    if _fold(name) == HYOSAN:
        if lattice.name != "KR":
            raise UserInputError(
                f"Hyosan is the show's fictional Korean city; it has no place on the lattice of {lattice.name} "
                "(run --country KR, or name a real place)"
            )
        place = lattice.find_place(hyosan_at)
        return int(place["row"]), int(place["col"]), f"Hyosan (at {place['name']})"
    place = lattice.find_place(name)
    return int(place["row"]), int(place["col"]), str(place["name"])


def area_cells(lattice: PopulationLattice, area: Area, hyosan_at: str = "Cheonan") -> np.ndarray:
    """Flat indices of the cells whose centres lie in an area (sorted)."""
    rows, cols = lattice.shape
    h = lattice.cell_km * 1000.0
    if area.cells is not None:
        mask = np.zeros((rows, cols), dtype=bool)
        radius = area.cell_radius or 0.0
        rr, cc = np.mgrid[0:rows, 0:cols]
        for r, c in area.cells:
            if not (0 <= r < rows and 0 <= c < cols):
                raise UserInputError(f"cell {r},{c} is outside the {rows} x {cols} lattice")
            mask |= (rr - r) ** 2 + (cc - c) ** 2 <= radius * radius
        return np.flatnonzero(mask.ravel())
    if area.region is not None:
        key = _fold(area.region)
        names = [_fold(n) for n in lattice.region_names]
        hits = [i for i, n in enumerate(names) if n == key or n.split(" (")[0] == key]
        if not hits:
            import difflib

            hint = difflib.get_close_matches(area.region, lattice.region_names, n=2, cutoff=0.5)
            did = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            raise UserInputError(f"no region {area.region!r} in the lattice of {lattice.name}{did}")
        return np.flatnonzero(np.isin(lattice.region.ravel(), hits))
    xs, ys = lattice.cell_centres_m()
    if area.polygon is not None:
        from matplotlib.path import Path as Polygon

        lat = np.array([p[0] for p in area.polygon])
        lon = np.array([p[1] for p in area.polygon])
        _check_latlon(lat, lon)
        px, py = lattice.project(lat, lon)
        c_lo = max(int(np.searchsorted(xs, px.min())) - 1, 0)
        c_hi = min(int(np.searchsorted(xs, px.max())) + 1, cols)
        r_lo = max(int(np.searchsorted(-ys, -py.max())) - 1, 0)
        r_hi = min(int(np.searchsorted(-ys, -py.min())) + 1, rows)
        gx, gy = np.meshgrid(xs[c_lo:c_hi], ys[r_lo:r_hi])
        inside = Polygon(np.column_stack([px, py])).contains_points(np.column_stack([gx.ravel(), gy.ravel()]))
        local = np.flatnonzero(inside)
        r = r_lo + local // (c_hi - c_lo)
        c = c_lo + local % (c_hi - c_lo)
        return np.sort(r * cols + c)
    if area.around is not None:
        row, col, _ = place_centre(lattice, area.around, hyosan_at)
        cx, cy = xs[col], ys[row]
    else:
        lat0, lon0 = area.at  # type: ignore[misc]
        _check_latlon(np.array([lat0]), np.array([lon0]))
        px, py = lattice.project(lat0, lon0)
        cx, cy = float(px), float(py)
    radius = float(area.radius)  # type: ignore[arg-type]
    reach = math.ceil(radius / h) + 1
    c0 = math.floor((cx - lattice.x0_m) / h)
    r0 = math.floor((lattice.y0_m - cy) / h)
    r_lo, r_hi = max(r0 - reach, 0), min(r0 + reach + 1, rows)
    c_lo, c_hi = max(c0 - reach, 0), min(c0 + reach + 1, cols)
    if r_lo >= r_hi or c_lo >= c_hi:
        return np.zeros(0, dtype=np.int64)
    gx, gy = np.meshgrid(xs[c_lo:c_hi], ys[r_lo:r_hi])
    inside = (gx - cx) ** 2 + (gy - cy) ** 2 <= radius * radius
    rr, cc = np.nonzero(inside)
    return np.sort((rr + r_lo) * cols + (cc + c_lo))


def seeds_at(
    lattice: PopulationLattice,
    *,
    place: str | None = None,
    latlon: tuple[float, float] | None = None,
    cell: tuple[int, int] | None = None,
    zombies: int = 1,
    hyosan_at: str = "Cheonan",
) -> tuple[list[Seed], str]:
    """Zombies put in one cell: at a named place, at coordinates, or at a row and column."""
    if sum(v is not None for v in (place, latlon, cell)) != 1:
        raise UserInputError("give exactly one start: a place name, coordinates or a cell")
    if zombies < 1:
        raise UserInputError(f"the number of initial zombies must be >= 1, got {zombies}")
    rows, cols = lattice.shape
    if place is not None:
        r, c, label = place_centre(lattice, place, hyosan_at)
    elif latlon is not None:
        _check_latlon(np.array([latlon[0]]), np.array([latlon[1]]))
        r, c = lattice.cell_of(*latlon)
        label = f"{latlon[0]:.4f}, {latlon[1]:.4f}" + (f" (near {lattice.nearest_place(r, c)})" if lattice.crs else "")
    else:
        r, c = cell  # type: ignore[misc]
        if not (0 <= r < rows and 0 <= c < cols):
            raise UserInputError(f"cell {r},{c} is outside the {rows} x {cols} lattice")
        label = f"cell {r},{c}"
    return [Seed(cell=r * cols + c, zombies=zombies, note=label)], label


def seeds_from_school(
    folder: str | Path,
    lattice: PopulationLattice,
    rng: np.random.Generator,
    *,
    hyosan_at: str = "Cheonan",
    breakout: bool = False,
) -> tuple[list[Seed], str, dict[str, int]]:
    """Seeds from a school results folder: the people who left the school infected, put around Hyosan.

    An escapee counts as bitten if a bite on them precedes their escape, as a hambie if they became
    one before leaving (events.jsonl tells). With ``breakout`` the infected still inside at the end of
    the school run (zombies, bitten, hambies of people.csv) get out too (LORE: the infection escapes
    the school into the city). Each goes to a random populated cell within 2 cells of Hyosan's centre.
    """
    from hyosan.results import load_results

    results = load_results(folder)
    events = results.events
    people = results.people
    counts = {"zombies": 0, "bitten": 0, "hambies": 0, "escaped_healthy": 0}
    kinds: dict[int, str] = {}
    if not events.empty and {"kind", "person", "time_s"} <= set(events.columns):
        escapes = events[events["kind"] == "escape"]
        bites = events[events["kind"] == "bite"]
        hambie = events[events["kind"] == "hambie"]
        first_bite = bites.groupby("person")["time_s"].min().to_dict()  # a bite's `person` is the one bitten
        became = hambie.groupby("person")["time_s"].min().to_dict()
        for person, t in zip(escapes["person"].astype(int), escapes["time_s"].astype(float), strict=True):
            if person in became and became[person] <= t:
                kinds[person] = "hambies"
            elif person in first_bite and first_bite[person] <= t:
                kinds[person] = "bitten"
            else:
                counts["escaped_healthy"] += 1
    if breakout:
        for person, fate in zip(people["id"].astype(int), people["fate"].astype(str), strict=True):
            if person in kinds:
                continue
            kind = {"zombie": "zombies", "bitten": "bitten", "hambie": "hambies"}.get(fate)
            if kind:
                kinds[person] = kind
    for kind in kinds.values():
        counts[kind] += 1
    row, col, label = place_centre(lattice, "Hyosan", hyosan_at) if lattice.name == "KR" else (None, None, "")
    if row is None:
        raise UserInputError(
            f"a school run seeds Hyosan, a Korean city: use --country KR (the lattice is {lattice.name})"
        )
    rows, cols = lattice.shape
    around = [
        (r, c)
        for r in range(max(row - 2, 0), min(row + 3, rows))
        for c in range(max(col - 2, 0), min(col + 3, cols))
        if lattice.population[r, c] > 0
    ] or [(row, col)]
    names = dict(zip(people["id"].astype(int), people["name"].astype(str), strict=True)) if "name" in people else {}
    seeds: list[Seed] = []
    for person in sorted(kinds):
        r, c = around[int(rng.integers(len(around)))]
        kind = kinds[person]
        seeds.append(
            Seed(
                cell=r * cols + c,
                zombies=int(kind == "zombies"),
                bitten=int(kind == "bitten"),
                hambies=int(kind == "hambies"),
                note=names.get(person, f"school person {person}"),
            )
        )
    summary = json.dumps(results.summary.get("scenario", ""))
    return seeds, f"{label}, from school run {Path(folder).name} ({summary.strip(chr(34))})", counts


def _check_latlon(lat: np.ndarray, lon: np.ndarray) -> None:
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180) or not np.all(np.isfinite(lat) & np.isfinite(lon)):
        raise UserInputError("coordinates must be latitude in [-90, 90] and longitude in [-180, 180] degrees")
