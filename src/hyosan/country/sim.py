"""`CountrySim`: an outbreak on a population lattice, day by day, with cordons, the army, evacuations and bombs.

The simulation advances in chunks that end at every day boundary and at every intervention, so
the compiled kernels (`hyosan.country.kernel`) run uninterrupted in between while Python records
the day, applies interventions and reports progress. Every chunk reseeds the kernel generator from
the run's ``kernel`` stream: a run depends only on its seed, never on what else ran in the process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hyosan.country import kernel as kn
from hyosan.country.lattice import PopulationLattice, lattice_digest
from hyosan.country.params import CountryConfig
from hyosan.country.places import Seed, area_cells, place_centre
from hyosan.errors import UserInputError
from hyosan.rng import RandomStreams

__all__ = ["METHODS", "CountryResults", "CountrySim", "DayInfo"]

METHODS = ("exact", "tau")
MAX_TRIP_BLOCKS = 2500  # the gravity table is blocks x blocks; coarser blocks beyond this
# "To the end": the outbreak is over once nobody is bitten right now and, over the last QUIET_DAYS
# days, fewer than QUIET_SHARE of the population were bitten (zombies may still roam empty land and
# find a last straggler now and then; that tail would otherwise run for years).
QUIET_DAYS = 30
QUIET_SHARE = 1e-5
PLACE_FALLEN = 0.5  # a place has fallen when half of its central cell is bitten, turned or dead


@dataclass
class DayInfo:
    """What the progress callback sees at the end of each simulated day."""

    day: float
    susceptible: int
    zombies: int
    fallen_share: float
    events: int


@dataclass
class CountryResults:
    """Tables and figures of one country run; `hyosan.country.output.save_results` writes them."""

    daily: pd.DataFrame
    regions: pd.DataFrame
    places: pd.DataFrame
    events: pd.DataFrame
    summary: dict[str, Any]
    run_info: dict[str, Any]
    maps: dict[int, np.ndarray] = field(default_factory=dict)  # day -> (species, rows, cols) int32 counts
    lattice: PopulationLattice | None = None
    cordon_mask: np.ndarray | None = None


class CountrySim:
    """One outbreak on a lattice: ``CountrySim(lattice, config, seeds, seed=1, method="exact").run(days=120)``."""

    def __init__(
        self,
        lattice: PopulationLattice,
        config: CountryConfig | None = None,
        seeds: list[Seed] | None = None,
        *,
        seed: int = 1,
        method: str = "exact",
        start_label: str = "",
    ) -> None:
        if method not in METHODS:
            raise UserInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.lattice = lattice
        self.config = config or CountryConfig()
        self.method = method
        self.seed = int(seed)
        self.streams = RandomStreams(self.seed)
        self.start_label = start_label
        rows, cols = lattice.shape
        self.rows, self.cols = rows, cols
        self.n_cells = rows * cols
        self.t = 0.0
        self.home = lattice.population.ravel().astype(np.int32).copy()
        self.initial_cell_population = lattice.population.ravel().astype(np.int64)
        self.population = int(self.initial_cell_population.sum())
        self.slot_of = np.full(self.n_cells, -1, dtype=np.int32)
        self.region_flat = lattice.region.ravel().astype(np.int16)
        self.counters = np.zeros(len(kn.COUNTER_NAMES), dtype=np.int64)
        self.rng = np.zeros(4, dtype=np.uint64)  # the exact kernel's generator state between calls
        capacity = int(min(self.n_cells, 4096)) + 16
        self._allocate(capacity)
        self.par = self._parameter_vector()
        self._build_gravity()
        self._build_cordons()
        self.breach_t = np.zeros(4096)
        self.breach_i = np.zeros((4096, 4), dtype=np.int64)
        self.evacuated = np.zeros(kn.N_SPECIES, dtype=np.int64)
        self.bombed = 0
        self.added = 0
        self.events: list[dict[str, Any]] = []
        self._seeds = list(seeds or [])
        self._apply_seeds(self._seeds)
        self._schedule = self._build_schedule()

    # --- set-up --------------------------------------------------------------------------------------

    def _allocate(self, capacity: int) -> None:
        """Slot arrays for `capacity` active cells; each method allocates only what it uses."""
        exact = self.method == "exact"
        self.state = np.zeros((capacity, kn.N_COLUMNS), dtype=np.int32)
        self.cell_of_slot = np.zeros(capacity, dtype=np.int64)
        # The exact method's queue: a 4-ary heap over every slot, keys inline (`kernel.heap_build`).
        self.heap_t = np.full(capacity if exact else 1, np.inf)
        self.heap = np.arange(capacity if exact else 1, dtype=np.int32)
        self.pos = np.arange(capacity if exact else 1, dtype=np.int32)
        self.incoming = np.zeros((1 if exact else capacity, 4), dtype=np.int64)

    def _grow(self, needed: int) -> None:
        old = self.cell_of_slot.size
        capacity = int(min(max(2 * old, needed + 1024), self.n_cells + 16))
        if capacity <= old:
            capacity = old + 1024
        n = int(self.counters[kn.C_ACTIVE])
        state, cells = self.state, self.cell_of_slot
        times = kn.slot_times(self.heap_t, self.pos, n) if self.method == "exact" else None
        self._allocate(capacity)
        self.state[:n] = state[:n]
        self.cell_of_slot[:n] = cells[:n]
        if times is not None:  # the heap spans every slot: rebuild it over the larger arrays
            kn.heap_build(times, self.heap_t, self.heap, self.pos)

    def _parameter_vector(self) -> np.ndarray:
        p = self.config.model
        shares, means = p.turn_phases()
        par = np.zeros(len(kn.PAR))
        par[kn.P_BETA] = p.bite_rate
        par[kn.P_BETA_H] = p.bite_rate * p.hambie_bite_ratio
        par[kn.P_KAPPA] = p.bite_rate * p.kill_ratio
        for i in range(3):
            par[kn.P_LAM1 + i] = 1.0 / means[i]
            par[kn.P_SHARE1 + i] = shares[i]
        par[kn.P_HAMBIE] = p.hambie_fraction
        par[kn.P_HOP] = p.hop_rate(self.lattice.cell_km)
        par[kn.P_TRIP] = p.trip_rate
        par[kn.P_KHALF] = p.half_saturation_density * self.lattice.cell_area_km2
        par[kn.P_GAMMA] = p.trip_distance_exponent
        return par

    def _build_gravity(self) -> None:
        """Blocks of cells for the gravity model of trips: population, centroid and the cells inside."""
        lat = self.lattice
        h = lat.cell_km
        block = max(1, round(self.config.model.trip_resolution / 1000.0 / h))
        rows, cols = self.rows, self.cols
        pop = self.initial_cell_population
        r_idx, c_idx = np.divmod(np.arange(self.n_cells), cols)
        while True:
            nb_rows, nb_cols = -(-rows // block), -(-cols // block)
            block_of = (r_idx // block) * nb_cols + c_idx // block
            block_pop = np.bincount(block_of, weights=pop, minlength=nb_rows * nb_cols)
            if np.count_nonzero(block_pop) <= MAX_TRIP_BLOCKS:
                break
            block *= 2
        ne = np.flatnonzero(block_pop > 0)
        ne_of_block = np.full(nb_rows * nb_cols, -1, dtype=np.int64)
        ne_of_block[ne] = np.arange(ne.size)
        wx = np.bincount(block_of, weights=pop * (c_idx + 0.5) * h, minlength=nb_rows * nb_cols)
        wy = np.bincount(block_of, weights=pop * (r_idx + 0.5) * h, minlength=nb_rows * nb_cols)
        self.block_cells = int(block)
        self.nb_cols = int(nb_cols)
        self.ne_of_block = ne_of_block
        self.ne_pop = block_pop[ne].astype(np.float64)
        self.ne_x = wx[ne] / block_pop[ne]
        self.ne_y = wy[ne] / block_pop[ne]
        self.par[kn.P_DMIN] = max(0.5 * block * h, h)
        self.cdf = np.zeros((ne.size, ne.size))
        self.cdf_ready = np.zeros(ne.size, dtype=np.uint8)
        populated = np.flatnonzero(pop > 0)
        owner = ne_of_block[block_of[populated]]
        order = np.lexsort((populated, owner))
        self.bc_cell = populated[order].astype(np.int64)
        owner = owner[order]
        weights = pop[self.bc_cell].astype(np.float64)
        cumulative = np.cumsum(weights)
        starts = np.searchsorted(owner, np.arange(ne.size))
        self.bc_ptr = np.append(starts, owner.size).astype(np.int64)
        base = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
        self.bc_cdf = cumulative - np.repeat(base, np.diff(self.bc_ptr))
        self.trip_block_km = block * h

    def _build_cordons(self) -> None:
        cordons = self.config.cordon
        self.cordon_of = np.full(self.n_cells, -1, dtype=np.int8)
        self.cordon_cells: list[np.ndarray] = []
        if len(cordons) > 100:
            raise UserInputError(f"at most 100 cordons, got {len(cordons)}")
        for i, cordon in enumerate(cordons):
            cells = area_cells(self.lattice, cordon, self.config.hyosan_at)
            if cells.size == 0:
                raise UserInputError(f"cordon {i} ({cordon.describe()}) covers no cell of the lattice")
            overlap = cells[self.cordon_of[cells] >= 0]
            if overlap.size:
                raise UserInputError(
                    f"cordon {i} ({cordon.describe()}) overlaps cordon {int(self.cordon_of[overlap[0]])}"
                )
            self.cordon_of[cells] = i
            self.cordon_cells.append(cells)
        n = max(len(cordons), 1)
        self.cordon_active = np.zeros(n, dtype=np.uint8)
        self.cordon_leak = np.array([c.leak for c in cordons] or [1.0], dtype=np.float64)
        self.cordon_army = np.ones(n, dtype=np.float64)

    def _build_schedule(self) -> list[tuple[float, int, str, int]]:
        cfg = self.config
        items: list[tuple[float, int, str, int]] = []
        for i, c in enumerate(cfg.cordon):
            items.append((c.from_day, 0, "cordon", i))
            if c.army_factor != 1.0:
                items.append((c.army_day, 1, "army", i))
        for i, e in enumerate(cfg.evacuation):
            items.append((e.day, 2, "evacuation", i))
        for i, b in enumerate(cfg.bombing):
            items.append((b.day, 3, "bombing", i))
        items.sort()
        return items

    def _apply_seeds(self, seeds: list[Seed]) -> None:
        if not seeds:
            return
        cells = np.array([s.cell for s in seeds], dtype=np.int64)
        if np.any((cells < 0) | (cells >= self.n_cells)):
            raise UserInputError("a seed lies outside the lattice")
        slots = self._activate(cells)
        for s, k in zip(seeds, slots, strict=True):
            row = self.state[k]
            for column, count in ((kn.Z, s.zombies), (kn.B3, s.bitten), (kn.H, s.hambies)):
                if count <= 0:
                    continue
                if column == kn.B3:  # a bitten person arrives at a fresh point of the turning delay
                    shares = self.par[kn.P_SHARE1 : kn.P_SHARE1 + 3]
                    phases = self.streams["seeding"].multinomial(count, shares / shares.sum())
                    for i, m in enumerate(phases):
                        row[kn.B1 + i] += m
                else:
                    row[column] += count
                taken = min(count, int(row[kn.S]))
                row[kn.S] -= taken
                self.added += count - taken
        by_cell: dict[int, list[Seed]] = {}
        for s in seeds:
            by_cell.setdefault(s.cell, []).append(s)
        for cell, group in sorted(by_cell.items()):  # one event per cell, however many people start there
            z, b, h = (sum(getattr(s, k) for s in group) for k in ("zombies", "bitten", "hambies"))
            notes = sorted({s.note for s in group if s.note})
            note = f"{z} zombies, {b} bitten, {h} hambies" + (f": {notes[0]}" if len(notes) == 1 else "")
            if len(notes) > 1:
                note += f": {', '.join(notes[:3])}{' ...' if len(notes) > 3 else ''}"
            self._event("seed", self.t, cell, count=z + b + h, note=note)

    def _activate(self, cells: np.ndarray) -> np.ndarray:
        cells = np.asarray(cells, dtype=np.int64)
        missing = int(np.count_nonzero(self.slot_of[cells] < 0))
        n = int(self.counters[kn.C_ACTIVE])
        if n + missing + 2 > self.cell_of_slot.size:
            self._grow(n + missing + 2)
        slots = kn.activate_cells(cells, self.state, self.cell_of_slot, self.slot_of, self.home, self.counters)
        self._heap_dirty = True
        return slots

    # --- running -------------------------------------------------------------------------------------

    def run(
        self,
        days: int = 120,
        *,
        until_end: bool = False,
        map_days: list[int] | tuple[int, ...] = (),
        frame_every: int = 0,
        on_frame: Callable[[int, np.ndarray], None] | None = None,
        progress: Callable[[DayInfo], None] | None = None,
        max_days: int = 3650,
    ) -> CountryResults:
        """Simulate `days` days (or, with ``until_end``, until the outbreak is over, at most `max_days`).

        ``map_days``: days whose full grid of counts is kept for maps. ``on_frame(day, counts)`` is
        called every ``frame_every`` days with the grid of counts (for an animation).
        """
        if not (days >= 1 or until_end):
            raise UserInputError(f"days must be >= 1, got {days:g}")
        horizon = math.ceil(max_days if until_end else days)
        started = time.perf_counter()
        kernel_seconds = 0.0
        self._heap_dirty = True
        maps: dict[int, np.ndarray] = {}
        daily_rows: list[dict[str, Any]] = []
        region_rows: list[np.ndarray] = []
        place_cells = self._place_cells()
        place_first = np.full(len(place_cells), np.nan)
        place_fallen = np.full(len(place_cells), np.nan)
        place_lost = np.full(len(place_cells), np.nan)
        self._record(0, daily_rows, region_rows)
        self._track_places(0, place_cells, place_first, place_fallen, place_lost)
        if 0 in map_days:
            maps[0] = self.grid()
        if on_frame is not None and frame_every:
            on_frame(0, self.grid())
        schedule = list(self._schedule)
        bites_by_day = [int(self.counters[kn.C_BITES] + self.counters[kn.C_HBITES])]
        day = 0
        ended = "end of the requested days"
        while day < horizon:
            day_end = float(day + 1)
            while True:
                while schedule and schedule[0][0] <= self.t + 1e-12:
                    self._intervene(schedule.pop(0))
                stop = min(day_end, schedule[0][0]) if schedule else day_end
                t0 = time.perf_counter()
                status = self._advance(stop)
                kernel_seconds += time.perf_counter() - t0
                if self.t >= day_end - 1e-12 or status == kn.STATUS_QUIET:
                    break
            day += 1
            self.t = max(self.t, day_end)
            self._sort_slots()
            row = self._record(day, daily_rows, region_rows)
            self._track_places(day, place_cells, place_first, place_fallen, place_lost)
            if day in map_days:
                maps[day] = self.grid()
            if on_frame is not None and frame_every and day % frame_every == 0:
                on_frame(day, self.grid())
            if progress is not None:
                progress(
                    DayInfo(
                        day=day,
                        susceptible=row["S"],
                        zombies=row["Z"],
                        fallen_share=row["fallen_share"],
                        events=int(self.counters[kn.C_EVENTS]),
                    )
                )
            bites_by_day.append(int(self.counters[kn.C_BITES] + self.counters[kn.C_HBITES]))
            recent = bites_by_day[-1] - bites_by_day[max(0, len(bites_by_day) - 1 - QUIET_DAYS)]
            quiet = day >= QUIET_DAYS and recent <= QUIET_SHARE * self.population
            if status == kn.STATUS_QUIET and not schedule:
                ended = "nothing left to happen"
                break
            if until_end and row["B"] == 0 and quiet and not schedule:
                ended = f"outbreak over: {recent:,} bitten in the last {QUIET_DAYS} days"
                break
        if until_end and day >= horizon and ended.startswith("end of the requested"):
            ended = f"stopped at the {horizon:g}-day limit"
        if not until_end and ended != "end of the requested days":
            final = self.grid()  # nothing changes any more: later maps show the last state
            for d in map_days:
                if d > day:
                    maps[d] = final
        wall = time.perf_counter() - started
        return self._results(
            daily_rows,
            region_rows,
            maps,
            place_cells,
            place_first,
            place_fallen,
            place_lost,
            ended,
            wall,
            kernel_seconds,
        )

    def _advance(self, stop: float) -> int:
        """Run the kernel to time `stop` (days), growing the slot arrays whenever it asks."""
        kernel_stream = self.streams["kernel"]
        while True:
            chunk_seed = int(kernel_stream.integers(0, 2**32 - 1))
            if self.method == "exact":
                if self._heap_dirty:
                    kn.refresh_all(self.t, chunk_seed, self.rng, self.state, self.cell_of_slot, self.heap_t, self.heap,
                                   self.pos, self.counters, self.par, self.cordon_of, self.cordon_army)  # fmt: skip
                    self._heap_dirty = False
                    chunk_seed = -1
                status, t = kn.run_exact(
                    self.t, stop, chunk_seed, self.rng, self.state, self.cell_of_slot, self.slot_of, self.home,
                    self.heap_t, self.heap, self.pos, self.counters, self.par, self.rows, self.cols, self.cordon_of,
                    self.cordon_active, self.cordon_leak, self.cordon_army, self.block_cells, self.nb_cols,
                    self.ne_of_block, self.ne_x, self.ne_y, self.ne_pop, self.cdf, self.cdf_ready, self.bc_ptr,
                    self.bc_cell, self.bc_cdf, self.breach_t, self.breach_i, np.int64(1) << 62,
                )  # fmt: skip
            else:
                status, t = kn.run_tau(
                    self.t, stop, chunk_seed, self.tau_step, self.state, self.cell_of_slot, self.slot_of, self.home,
                    self.incoming, self.counters, self.par, self.rows, self.cols, self.cordon_of, self.cordon_active,
                    self.cordon_leak, self.cordon_army, self.block_cells, self.nb_cols, self.ne_of_block, self.ne_x,
                    self.ne_y, self.ne_pop, self.cdf, self.cdf_ready, self.bc_ptr, self.bc_cell, self.bc_cdf,
                    self.breach_t, self.breach_i, self.config.model.tau_epsilon,
                )  # fmt: skip
            self.t = float(t)
            if status != kn.STATUS_FULL:
                return int(status)
            n = int(self.counters[kn.C_ACTIVE])
            extra = 2
            if self.method == "tau":
                extra = (
                    int(kn.new_cells_bound(self.state, self.cell_of_slot, self.slot_of, n, self.rows, self.cols)) + 16
                )
            self._grow(n + extra)

    def _sort_slots(self) -> None:
        """Put the active cells in lattice order, so neighbours sit near each other in memory.

        Cells are activated in the order the outbreak reaches them, which scatters neighbours across
        the slot arrays; every walk then misses the cache twice. Sorting once a day is cheap by
        comparison. The exact method's heap follows its times to their new slots.
        """
        n = int(self.counters[kn.C_ACTIVE])
        if n < 2:
            return
        order = np.argsort(self.cell_of_slot[:n], kind="stable")
        if np.all(order[1:] > order[:-1]):
            return
        self.state[:n] = self.state[order]
        self.cell_of_slot[:n] = self.cell_of_slot[order]
        self.slot_of[self.cell_of_slot[:n]] = np.arange(n, dtype=np.int32)
        if self.method == "exact":
            times = kn.slot_times(self.heap_t, self.pos, n)[order]
            kn.heap_build(times, self.heap_t, self.heap, self.pos)

    @property
    def tau_step(self) -> float:
        """Movement step of tau-leaping (days): a zombie expects to move at most `tau_max_hop` times in it."""
        p = self.config.model
        fastest = max(self.par[kn.P_HOP], self.par[kn.P_TRIP], 1e-12)
        return float(min(p.tau_max_hop / fastest, 0.25))

    # --- interventions ------------------------------------------------------------------------------

    def _intervene(self, item: tuple[float, int, str, int]) -> None:
        at, _, kind, i = item
        cfg = self.config
        if kind == "cordon":
            c = cfg.cordon[i]
            self.cordon_active[i] = 1
            cells = self.cordon_cells[i]
            people = int(self._cells_total(cells))
            self._event(
                "cordon_closed", at, int(cells[len(cells) // 2]), count=people,
                note=f"cordon {i}: {c.describe()}, {cells.size} cells, leak {c.leak:g}",
            )  # fmt: skip
        elif kind == "army":
            c = cfg.cordon[i]
            self.cordon_army[i] = c.army_factor
            self._heap_dirty = True
            self._event("army_in", at, int(self.cordon_cells[i][0]), note=f"cordon {i}: kill rate x {c.army_factor:g}")
        elif kind == "evacuation":
            self._evacuate(i, at)
        elif kind == "bombing":
            self._bomb(i, at)

    def _cells_total(self, cells: np.ndarray) -> int:
        slots = self.slot_of[cells]
        active = slots >= 0
        total = int(self.home[cells[~active]].sum(dtype=np.int64))
        return total + int(self.state[slots[active], : kn.N_SPECIES].sum(dtype=np.int64))

    def _bomb(self, i: int, at: float) -> None:
        b = self.config.bombing[i]
        cells = area_cells(self.lattice, b, self.config.hyosan_at)
        cells = cells[(self.home[cells] > 0) | (self.slot_of[cells] >= 0)]
        rng = self.streams["bombing"]
        killed = 0
        zombies = 0
        if cells.size:
            slots = self._activate(cells)
            block = self.state[slots]
            for column in (kn.S, kn.B1, kn.B2, kn.B3, kn.Z, kn.H):
                dead = rng.binomial(block[:, column], b.lethality)
                block[:, column] -= dead
                block[:, kn.R] += dead
                killed += int(dead.sum())
                if column == kn.Z:
                    zombies = int(dead.sum())
            self.state[slots] = block
        self.bombed += killed - zombies
        self._heap_dirty = True
        centre = int(cells[len(cells) // 2]) if cells.size else -1
        self._event(
            "bombing", at, centre, count=killed, note=f"{b.describe()}: {killed:,} killed ({zombies:,} zombies)"
        )

    def _evacuate(self, i: int, at: float) -> None:
        e = self.config.evacuation[i]
        cells = area_cells(self.lattice, e, self.config.hyosan_at)
        cells = cells[(self.home[cells] > 0) | (self.slot_of[cells] >= 0)]
        rng = self.streams["evacuation"]
        moved = np.zeros(kn.N_SPECIES, dtype=np.int64)
        if cells.size:
            slots = self._activate(cells)
            block = self.state[slots]
            columns = [kn.S] + ([kn.B1, kn.B2, kn.B3, kn.H] if e.bitten_hide else [])
            for column in columns:
                leaving = rng.binomial(block[:, column], e.share)
                block[:, column] -= leaving
                moved[column] += int(leaving.sum())
            self.state[slots] = block
        where = "out of the country"
        if e.to is None:
            self.evacuated += moved
        else:
            row, col, label = place_centre(self.lattice, e.to, self.config.hyosan_at)
            where = f"to {label}"
            dest = self._destination_cells(row, col)
            weights = self.initial_cell_population[dest].astype(float)
            weights = weights / weights.sum() if weights.sum() > 0 else np.full(dest.size, 1.0 / dest.size)
            slots = self._activate(dest)
            for column in range(kn.N_SPECIES):
                if moved[column]:
                    self.state[slots, column] += rng.multinomial(int(moved[column]), weights)
        self._heap_dirty = True
        centre = int(cells[len(cells) // 2]) if cells.size else -1
        infected = int(moved[kn.B1 : kn.B3 + 1].sum() + moved[kn.H])
        self._event(
            "evacuation", at, centre, count=int(moved.sum()),
            note=f"{e.describe()} {where}: {int(moved.sum()):,} people, {infected:,} of them bitten or hambies",
        )  # fmt: skip

    def _destination_cells(self, row: int, col: int) -> np.ndarray:
        r0, r1 = max(row - 2, 0), min(row + 3, self.rows)
        c0, c1 = max(col - 2, 0), min(col + 3, self.cols)
        rr, cc = np.mgrid[r0:r1, c0:c1]
        return (rr * self.cols + cc).ravel().astype(np.int64)

    # --- recording ----------------------------------------------------------------------------------

    def grid(self) -> np.ndarray:
        """Counts of every species in every cell now: (species, rows, cols) int32."""
        out = np.zeros((kn.N_SPECIES, self.n_cells), dtype=np.int32)
        kn.grid_counts(self.state, self.cell_of_slot, int(self.counters[kn.C_ACTIVE]), self.home, out)
        return out.reshape(kn.N_SPECIES, self.rows, self.cols)

    def totals(self) -> np.ndarray:
        """National counts per species now."""
        n = int(self.counters[kn.C_ACTIVE])
        out = self.state[:n, : kn.N_SPECIES].sum(axis=0, dtype=np.int64)
        out[kn.S] += int(self.home.sum(dtype=np.int64))
        return out

    def _record(self, day: int, daily_rows: list[dict[str, Any]], region_rows: list[np.ndarray]) -> dict[str, Any]:
        n = int(self.counters[kn.C_ACTIVE])
        counts = kn.region_counts(
            self.state, self.cell_of_slot, n, self.region_flat, self.home, len(self.lattice.region_names)
        )
        region_rows.append(counts)
        total = counts.sum(axis=0)
        s, b, z, h, r = (
            int(total[kn.S]),
            int(total[kn.B1 : kn.B3 + 1].sum()),
            int(total[kn.Z]),
            int(total[kn.H]),
            int(total[kn.R]),
        )
        safe_away = int(self.evacuated[kn.S])
        fallen = self.population - s - safe_away
        row = {
            "day": day,
            "S": s,
            "B": b,
            "Z": z,
            "H": h,
            "R": r,
            "evacuated": int(self.evacuated.sum()),
            "bombed": int(self.bombed),
            "fallen": fallen,
            "fallen_share": fallen / self.population if self.population else 0.0,
            "active_cells": n,
            "bites": int(self.counters[kn.C_BITES] + self.counters[kn.C_HBITES]),
            "kills": int(self.counters[kn.C_KILLS]),
            "events": int(self.counters[kn.C_EVENTS]),
        }
        daily_rows.append(row)
        return row

    def _place_cells(self) -> np.ndarray:
        places = self.lattice.places
        if places.empty:
            return np.zeros(0, dtype=np.int64)
        return (places["row"].to_numpy() * self.cols + places["col"].to_numpy()).astype(np.int64)

    def _place_fallen_share(self, cells: np.ndarray) -> np.ndarray:
        slots = self.slot_of[cells]
        s = np.where(slots >= 0, self.state[np.maximum(slots, 0), kn.S], self.home[cells]).astype(float)
        base = np.maximum(self.initial_cell_population[cells], 1).astype(float)
        return np.clip(1.0 - s / base, 0.0, 1.0)

    def _track_places(
        self, day: int, cells: np.ndarray, first: np.ndarray, fallen: np.ndarray, lost: np.ndarray
    ) -> None:
        if cells.size == 0:
            return
        share = self._place_fallen_share(cells)
        slots = self.slot_of[cells]
        touched = (slots >= 0) & (share > 0.0)
        first[np.isnan(first) & touched] = day
        fallen[np.isnan(fallen) & (share >= PLACE_FALLEN)] = day
        lost[np.isnan(lost) & (share >= 0.9)] = day

    def _event(self, kind: str, at: float, cell: int, *, count: int = 0, note: str = "") -> None:
        lat = lon = None
        place = ""
        if cell >= 0:
            r, c = divmod(int(cell), self.cols)
            place = self.lattice.nearest_place(r, c)
            if self.lattice.crs is not None:
                lat, lon = self.lattice.latlon_of(r, c)
        else:
            r = c = None
        self.events.append(
            {
                "time_days": round(float(at), 6),
                "kind": kind,
                "place": place,
                "row": r,
                "col": c,
                "lat": None if lat is None else round(lat, 5),
                "lon": None if lon is None else round(lon, 5),
                "count": int(count),
                "note": note,
            }
        )

    def _breach_events(self) -> list[dict[str, Any]]:
        """The first crossing of each cordon by an infected person, and how many crossings there were."""
        n = min(int(self.counters[kn.C_BREACHES]), self.breach_t.size)
        first: dict[int, int] = {}
        per_cordon: dict[int, int] = {}
        for j in range(n):
            cid = int(self.cordon_of[self.breach_i[j, 0]])
            per_cordon[cid] = per_cordon.get(cid, 0) + int(self.breach_i[j, 3])
            if cid not in first or self.breach_t[j] < self.breach_t[first[cid]]:
                first[cid] = j
        before = len(self.events)
        for cid, j in sorted(first.items()):
            who = "zombies" if self.breach_i[j, 2] == kn.Z else "bitten traveller"
            self._event(
                "cordon_breached", float(self.breach_t[j]), int(self.breach_i[j, 1]), count=int(self.breach_i[j, 3]),
                note=f"cordon {cid}: first {who} through (of {per_cordon[cid]:,} logged crossings)",
            )  # fmt: skip
        return self.events[before:]

    def _results(self, daily_rows, region_rows, maps, place_cells, place_first, place_fallen, place_lost, ended,
                 wall, kernel_seconds) -> CountryResults:  # fmt: skip
        lattice = self.lattice
        daily = pd.DataFrame(daily_rows)
        daily["day"] = daily["day"].astype(np.int64)
        names = [*lattice.region_names, "unassigned"]
        stacked = np.stack(region_rows)  # (days, regions + 1, species)
        keep = stacked.sum(axis=(0, 2)) > 0
        frames = []
        for i in np.flatnonzero(keep):
            block = stacked[:, i, :]
            frames.append(
                pd.DataFrame(
                    {
                        "day": daily["day"].to_numpy(),
                        "region": names[i],
                        "S": block[:, kn.S],
                        "B": block[:, kn.B1 : kn.B3 + 1].sum(axis=1),
                        "Z": block[:, kn.Z],
                        "H": block[:, kn.H],
                        "R": block[:, kn.R],
                    }
                )
            )
        regions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        places = lattice.places[["name", "lat", "lon", "population", "region", "row", "col"]].copy()
        if len(places):
            places["fallen_share"] = np.round(self._place_fallen_share(place_cells), 6)
            places["first_infected_day"] = place_first
            places["fallen_day"] = place_fallen
            places["lost_day"] = place_lost
        breach_events = self._breach_events()
        self._milestones(daily)
        events = pd.DataFrame(self.events).sort_values("time_days", kind="stable").reset_index(drop=True)
        summary = self._summary(daily, places, breach_events, ended)
        n_active = int(self.counters[kn.C_ACTIVE])
        slot_bytes = sum(
            a.nbytes for a in (self.state, self.cell_of_slot, self.heap_t, self.heap, self.pos, self.incoming)
        )
        grid_bytes = self.home.nbytes + self.slot_of.nbytes + self.region_flat.nbytes + self.cordon_of.nbytes
        events_fired = int(self.counters[kn.C_EVENTS])
        run_info = {
            "wall_seconds": round(wall, 3),
            "kernel_seconds": round(kernel_seconds, 3),
            "events": events_fired,
            "events_per_second": round(events_fired / max(kernel_seconds, 1e-9)),
            "person_days_per_second": round(self.population * float(daily["day"].iloc[-1]) / max(wall, 1e-9)),
            "cells": self.n_cells,
            "active_cells": n_active,
            "slot_capacity": int(self.cell_of_slot.size),
            "bytes_per_cell_grid": round(grid_bytes / self.n_cells, 2),
            "bytes_per_active_cell": round(slot_bytes / max(self.cell_of_slot.size, 1), 2),
            "bytes_per_cell_total": round((grid_bytes + slot_bytes) / self.n_cells, 2),
            "gravity_table_bytes": int(self.cdf.nbytes),
            "tau_step_days": round(self.tau_step, 6) if self.method == "tau" else None,
        }
        return CountryResults(
            daily=daily,
            regions=regions,
            places=places,
            events=events,
            summary=summary,
            run_info=run_info,
            maps=maps,
            lattice=lattice,
            cordon_mask=(self.cordon_of >= 0).reshape(self.rows, self.cols) if self.config.cordon else None,
        )

    def _milestones(self, daily: pd.DataFrame) -> None:
        for share, kind in ((0.5, "half_fallen"), (0.9, "ninety_percent_fallen")):
            day = _first_crossing(daily, share)
            if day is not None:
                self.events.append(
                    {
                        "time_days": round(day, 6), "kind": kind, "place": "", "row": None, "col": None,
                        "lat": None, "lon": None, "count": int(share * self.population),
                        "note": f"{share:.0%} of the population bitten, turned or dead",
                    }
                )  # fmt: skip

    def _summary(self, daily: pd.DataFrame, places: pd.DataFrame, breaches: list[dict], ended: str) -> dict[str, Any]:
        from hyosan import __version__

        lattice = self.lattice
        last = daily.iloc[-1]
        clear: list[dict[str, Any]] = []
        fallen_by: dict[str, float] = {}
        if len(places):
            still = places[places["fallen_share"] < 0.01].sort_values("population", ascending=False, kind="stable")
            clear = [
                {"name": str(r["name"]), "population": int(r["population"]), "region": str(r["region"])}
                for _, r in still.head(10).iterrows()
            ]
            big = places[places["population"] >= 100_000]
            if len(big):
                took = (big["fallen_day"] - big["first_infected_day"]).dropna()
                fallen_by = {
                    "places_100k_plus": len(big),
                    "fell": len(took),
                    "median_days_from_first_case_to_fallen": float(took.median()) if len(took) else None,
                    "share_fallen_within_7_days_of_first_case": float((took <= 7).mean()) if len(took) else None,
                }
        cordons = []
        for i, c in enumerate(self.config.cordon):
            first = next((b for b in breaches if b["note"].startswith(f"cordon {i}:")), None)
            cordons.append(
                {
                    "area": c.describe(),
                    "closed_day": c.from_day,
                    "army_day": c.army_day if c.army_factor != 1.0 else None,
                    "army_factor": c.army_factor,
                    "leak": c.leak,
                    "broke_day": first["time_days"] if first else None,
                    "broke_where": first["place"] if first else None,
                    "broke_lat": first["lat"] if first else None,
                    "broke_lon": first["lon"] if first else None,
                }
            )
        p = self.config.model
        shares, means = p.turn_phases()
        return {
            "country": lattice.name,
            "source": lattice.notes.get("source", ""),
            "lattice": {
                "cell_km": lattice.cell_km,
                "rows": lattice.shape[0],
                "cols": lattice.shape[1],
                "populated_cells": int(np.count_nonzero(lattice.population)),
                "digest": lattice_digest(lattice),
                "notes": {k: v for k, v in lattice.notes.items() if k != "source"},
            },
            "hyosan_version": __version__,
            "seed": self.seed,
            "method": self.method,
            "start": self.start_label,
            "population": self.population,
            "days_simulated": int(last["day"]),
            "ended": ended,
            "final": {k: int(last[k]) for k in ("S", "B", "Z", "H", "R", "evacuated", "bombed", "fallen")},
            "fallen_share": round(float(last["fallen_share"]), 6),
            "days_to_half_fallen": _round(_first_crossing(daily, 0.5)),
            "days_to_90_percent_fallen": _round(_first_crossing(daily, 0.9)),
            "largest_places_still_clear": clear,
            "places": fallen_by,
            "cordons": cordons,
            "counts": {name: int(self.counters[i]) for i, name in enumerate(kn.COUNTER_NAMES) if name != "active"},
            "model": p.model_dump(mode="json"),
            "derived": {
                "zombie_diffusion_km2_per_day": round(p.diffusion_km2_per_day, 6),
                "zombie_hop_rate_per_day": round(float(self.par[kn.P_HOP]), 6),
                "turn_phases": [
                    {"share": round(s, 4), "mean_minutes": round(m * 1440.0, 3)}
                    for s, m in zip(shares, means, strict=True)
                ],
                "half_saturation_people_per_cell": round(float(self.par[kn.P_KHALF]), 3),
                "trip_block_km": self.trip_block_km,
            },
        }


def _first_crossing(daily: pd.DataFrame, share: float) -> float | None:
    """Day (linearly interpolated between records) when the fallen share first reaches `share`."""
    f = daily["fallen_share"].to_numpy()
    d = daily["day"].to_numpy(dtype=float)
    hit = np.flatnonzero(f >= share)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(d[0])
    return float(d[i - 1] + (share - f[i - 1]) / (f[i] - f[i - 1]) * (d[i] - d[i - 1]))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
