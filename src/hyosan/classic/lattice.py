"""Exact continuous-time simulation of the Alemi et al. (2015) zombie outbreak on a square lattice."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from hyosan.errors import UserInputError

__all__ = [
    "MAX_SIDE",
    "REMOVED",
    "SUSCEPTIBLE",
    "ZOMBIE",
    "LatticeOutbreak",
    "check_lattice_shape",
    "draw_outbreak_png",
    "kernel_seed",
    "lattice_memory_bytes",
    "simulate_lattice",
]

SUSCEPTIBLE = 0
ZOMBIE = 1
REMOVED = 2

# How it works and why it is exact: docs/classic-lattice.md. In short, every S–Z bond fires at the
# same total rate β(1+α), so Gillespie's direct method reduces to: exponential wait of rate
# n_active·β(1+α), a uniformly random active bond, bite with probability 1/(1+α), else kill. The
# active bonds live in an array with swap-remove and a bond → slot index, making each event O(1).
# Reference: Alemi, Bierbaum, Myers & Sethna, Phys. Rev. E 92, 052801 (2015), arXiv:1503.01104.

# Bond ids are 2·site (+1) stored as int32, so 2·rows·cols must stay below 2^31.
MAX_SITES = (2**31 - 1) // 2
MAX_SIDE = 32767

# Colour-blind-safe (Okabe–Ito) colours: humans pale grey, zombies vermillion, removed blue.
_COLOURS = np.array([[240, 240, 240], [213, 94, 0], [0, 114, 178]], dtype=np.uint8)


@dataclass(frozen=True)
class LatticeOutbreak:
    """The end of one lattice outbreak: the final grid and what happened on the way."""

    grid: np.ndarray  # (rows, cols) uint8: SUSCEPTIBLE, ZOMBIE or REMOVED
    alpha: float
    beta: float
    periodic: bool
    seed: int
    initial_zombies: int
    events: int
    bites: int
    kills: int
    time: float  # NaN when time was not tracked
    max_active_bonds: int
    spans_horizontal: bool  # the outbreak touched both the first and the last column
    spans_vertical: bool  # the outbreak touched both the first and the last row

    @property
    def spans(self) -> bool:
        """Whether the outbreak cluster (zombies and removed) touches two opposite sides."""
        return self.spans_horizontal or self.spans_vertical

    @property
    def susceptible(self) -> int:
        return int(np.count_nonzero(self.grid == SUSCEPTIBLE))

    @property
    def zombies(self) -> int:
        return int(np.count_nonzero(self.grid == ZOMBIE))

    @property
    def removed(self) -> int:
        return int(np.count_nonzero(self.grid == REMOVED))

    @property
    def outbreak_size(self) -> int:
        """Sites ever turned into zombies, including the initial ones."""
        return self.initial_zombies + self.bites

    @property
    def outbreak_fraction(self) -> float:
        return self.outbreak_size / self.grid.size

    def summary(self) -> dict[str, object]:
        """One flat row describing the run (for tables, CSV and Parquet)."""
        rows, cols = self.grid.shape
        return {
            "rows": rows,
            "cols": cols,
            "alpha": self.alpha,
            "beta": self.beta,
            "periodic": self.periodic,
            "seed": self.seed,
            "initial_zombies": self.initial_zombies,
            "susceptible": self.susceptible,
            "zombies": self.zombies,
            "removed": self.removed,
            "events": self.events,
            "bites": self.bites,
            "kills": self.kills,
            "time": self.time,
            "outbreak_fraction": self.outbreak_fraction,
            "spans": self.spans,
            "spans_horizontal": self.spans_horizontal,
            "spans_vertical": self.spans_vertical,
        }


def lattice_memory_bytes(rows: int, cols: int) -> int:
    """Upper estimate of the memory one run needs: the grid (1 B/site) and the bond index (8 B/site)."""
    sites = rows * cols
    return sites * (1 + 2 * 4) + 4 * 4 * (rows + cols) * 64


def check_lattice_shape(rows: int, cols: int, periodic: bool = False) -> None:
    """Refuse, before allocating anything, a lattice that is malformed or would not fit in memory."""
    if rows < 1 or cols < 1:
        raise UserInputError(f"the lattice must have at least one row and column, got {rows}x{cols}")
    if periodic and (rows < 3 or cols < 3):
        raise UserInputError(f"periodic boundaries need at least 3 sites per side, got {rows}x{cols}")
    if rows > MAX_SIDE or cols > MAX_SIDE or rows * cols > MAX_SITES:
        raise UserInputError(
            f"a {rows}x{cols} lattice is too large: at most {MAX_SIDE} sites per side and {MAX_SITES:,} sites in all"
        )
    need = lattice_memory_bytes(rows, cols)
    have = _memory_available()
    if have is not None and need > 0.8 * have:
        raise UserInputError(
            f"a {rows}x{cols} lattice needs about {need / 2**30:.1f} GiB of memory, "
            f"but only {have / 2**30:.1f} GiB is available"
        )


def kernel_seed(seed: int) -> int:
    """The 32-bit seed of the compiled generator, derived from a user's seed of any size."""
    return int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint32)[0])


def simulate_lattice(
    size: int | tuple[int, int],
    alpha: float,
    *,
    beta: float = 1.0,
    seed: int = 0,
    periodic: bool = False,
    zombies: Sequence[tuple[int, int]] | None = None,
    track_time: bool = True,
) -> LatticeOutbreak:
    """Run one outbreak to its end (no S–Z bond left) and return the final state.

    ``size`` is L for an L x L lattice or ``(rows, cols)``. ``zombies`` lists the initial zombies
    as (row, col); by default one zombie at the centre. Same arguments and seed give the same grid.
    """
    rows, cols = (size, size) if isinstance(size, int | np.integer) else (int(size[0]), int(size[1]))
    if not alpha >= 0 or not np.isfinite(alpha):
        raise UserInputError(f"alpha must be a finite number >= 0, got {alpha}")
    if not beta > 0 or not np.isfinite(beta):
        raise UserInputError(f"beta must be a finite number > 0, got {beta}")
    check_lattice_shape(rows, cols, periodic)
    sites = _zombie_sites(rows, cols, zombies)

    grid = np.zeros(rows * cols, dtype=np.uint8)
    # calloc'd, so pages the outbreak never reaches are never touched.
    slot_of_bond = np.zeros(2 * rows * cols, dtype=np.int32)
    active = np.empty(_initial_capacity(rows, cols, len(sites)), dtype=np.int32)
    stats, _ = _run_outbreak(
        grid,
        slot_of_bond,
        active,
        rows,
        cols,
        periodic,
        float(alpha),
        float(beta),
        sites,
        kernel_seed(seed),
        track_time,
    )
    events, bites, kills, time_, max_active, r0, r1, c0, c1 = stats
    return LatticeOutbreak(
        grid=grid.reshape(rows, cols),
        alpha=float(alpha),
        beta=float(beta),
        periodic=periodic,
        seed=seed,
        initial_zombies=len(sites),
        events=int(events),
        bites=int(bites),
        kills=int(kills),
        time=float(time_) if track_time else float("nan"),
        max_active_bonds=int(max_active),
        spans_horizontal=bool(c0 == 0 and c1 == cols - 1),
        spans_vertical=bool(r0 == 0 and r1 == rows - 1),
    )


def draw_outbreak_png(
    outbreak: LatticeOutbreak | np.ndarray,
    path: str | Path,
    *,
    crop: bool = False,
    min_pixels: int = 512,
) -> Path:
    """Draw the final grid as a PNG (one pixel per site, scaled up for small lattices).

    Humans are pale grey, zombies vermillion, removed blue (Okabe–Ito, colour-blind safe).
    ``crop`` trims the picture to the outbreak's bounding box. The file is written atomically.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.image import imsave

    grid = outbreak.grid if isinstance(outbreak, LatticeOutbreak) else np.asarray(outbreak)
    if crop:
        touched_rows = np.flatnonzero((grid != SUSCEPTIBLE).any(axis=1))
        touched_cols = np.flatnonzero((grid != SUSCEPTIBLE).any(axis=0))
        if touched_rows.size:
            grid = grid[
                max(touched_rows[0] - 1, 0) : touched_rows[-1] + 2,
                max(touched_cols[0] - 1, 0) : touched_cols[-1] + 2,
            ]
    image = _COLOURS[grid]
    scale = max(1, min_pixels // max(grid.shape))
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    path = Path(path)
    with _atomic_path(path) as tmp:
        imsave(tmp, image, format="png")
    return path


# --- helpers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in the target's folder; moved over the target only if writing succeeded."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UserInputError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _memory_available() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _zombie_sites(rows: int, cols: int, zombies: Sequence[tuple[int, int]] | None) -> np.ndarray:
    if zombies is None:
        return np.array([(rows // 2) * cols + cols // 2], dtype=np.int64)
    flat = []
    for rc in zombies:
        r, c = (int(x) for x in rc)
        if not (0 <= r < rows and 0 <= c < cols):
            raise UserInputError(f"initial zombie at ({r}, {c}) is outside the {rows}x{cols} lattice")
        flat.append(r * cols + c)
    if not flat:
        raise UserInputError("at least one initial zombie is needed")
    # A site listed twice is still one zombie.
    return np.array(sorted(set(flat)), dtype=np.int64)


def _initial_capacity(rows: int, cols: int, n_zombies: int) -> int:
    # The active set lives on the outbreak's front; it grows by doubling if the front is rougher.
    return int(min(2 * rows * cols, max(1024, 4 * n_zombies + 8 * (rows + cols))))


@njit(cache=True, inline="always")
def _neighbour(site, r, c, k, rows, cols, periodic):
    """Neighbour ``k`` (0 right, 1 left, 2 down, 3 up) of ``site`` at (r, c) and their bond's id.

    Bond 2·s joins s to its right neighbour, bond 2·s+1 joins s to the one below. Returns (-1, -1)
    off an open edge. The caller passes (r, c) so one division serves all four neighbours.
    """
    if k == 0:
        if c + 1 < cols:
            return site + 1, 2 * site
        if periodic:
            return site - (cols - 1), 2 * site
    elif k == 1:
        if c > 0:
            return site - 1, 2 * (site - 1)
        if periodic:
            return site + cols - 1, 2 * (site + cols - 1)
    elif k == 2:
        if r + 1 < rows:
            return site + cols, 2 * site + 1
        if periodic:
            return c, 2 * site + 1
    else:
        if r > 0:
            return site - cols, 2 * (site - cols) + 1
        if periodic:
            nb = (rows - 1) * cols + c
            return nb, 2 * nb + 1
    return -1, -1


@njit(cache=True, inline="always")
def _bond_ends(bond, rows, cols, periodic):
    site = bond >> 1
    r = site // cols
    nb, _ = _neighbour(site, r, site - r * cols, 2 if (bond & 1) else 0, rows, cols, periodic)
    return site, nb


@njit(cache=True, nogil=True)
def _run_outbreak(grid, slot_of_bond, active, rows, cols, periodic, alpha, beta, zombie_sites, seed, track_time):
    """Run to the end; ``grid`` all susceptible and ``slot_of_bond`` all zero on entry.

    ``slot_of_bond[b]`` is 1 + the slot of bond b in ``active`` (0: b is not an active S–Z bond);
    it is all zero again on exit, so callers may reuse it. Returns the statistics and the (possibly
    regrown) ``active`` buffer.
    """
    np.random.seed(seed)
    n_active = 0
    max_active = 0
    r_min = rows
    r_max = -1
    c_min = cols
    c_max = -1

    for i in range(zombie_sites.shape[0]):
        s = zombie_sites[i]
        grid[s] = ZOMBIE
        r = s // cols
        c = s - r * cols
        r_min = min(r_min, r)
        r_max = max(r_max, r)
        c_min = min(c_min, c)
        c_max = max(c_max, c)
        for k in range(4):
            nb, bond = _neighbour(s, r, c, k, rows, cols, periodic)
            if nb < 0:
                continue
            if grid[nb] == SUSCEPTIBLE:
                if n_active == active.shape[0]:
                    active = _grow(active)
                active[n_active] = bond
                n_active += 1
                slot_of_bond[bond] = n_active
            elif grid[nb] == ZOMBIE and slot_of_bond[bond] != 0:
                n_active = _remove(active, slot_of_bond, n_active, bond)
    max_active = n_active

    bite_threshold = 1.0 / (1.0 + alpha)
    rate_per_bond = beta * (1.0 + alpha)
    events = 0
    bites = 0
    kills = 0
    t = 0.0
    while n_active > 0:
        if track_time:
            t += -np.log(1.0 - np.random.random()) / (n_active * rate_per_bond)
        pick = int(np.random.random() * n_active)
        if pick >= n_active:  # guards the rounding of random()·n up to n
            pick = n_active - 1
        a, b = _bond_ends(active[pick], rows, cols, periodic)
        if grid[a] == SUSCEPTIBLE:
            human = a
            zombie = b
        else:
            human = b
            zombie = a
        events += 1
        if np.random.random() < bite_threshold:
            bites += 1
            grid[human] = ZOMBIE
            r = human // cols
            c = human - r * cols
            r_min = min(r_min, r)
            r_max = max(r_max, r)
            c_min = min(c_min, c)
            c_max = max(c_max, c)
            for k in range(4):
                nb, bond = _neighbour(human, r, c, k, rows, cols, periodic)
                if nb < 0:
                    continue
                state = grid[nb]
                if state == ZOMBIE:
                    if slot_of_bond[bond] != 0:
                        n_active = _remove(active, slot_of_bond, n_active, bond)
                elif state == SUSCEPTIBLE:
                    if n_active == active.shape[0]:
                        active = _grow(active)
                    active[n_active] = bond
                    n_active += 1
                    slot_of_bond[bond] = n_active
            if n_active > max_active:
                max_active = n_active
        else:
            kills += 1
            grid[zombie] = REMOVED
            r = zombie // cols
            c = zombie - r * cols
            for k in range(4):
                nb, bond = _neighbour(zombie, r, c, k, rows, cols, periodic)
                if nb >= 0 and slot_of_bond[bond] != 0:
                    n_active = _remove(active, slot_of_bond, n_active, bond)
    stats = (events, bites, kills, t, max_active, r_min, r_max, c_min, c_max)
    return stats, active


@njit(cache=True, inline="always")
def _remove(active, slot_of_bond, n_active, bond):
    """Swap-remove ``bond`` from the active set; returns the new count."""
    slot = slot_of_bond[bond] - 1
    last = active[n_active - 1]
    active[slot] = last
    slot_of_bond[last] = slot + 1
    slot_of_bond[bond] = 0
    return n_active - 1


@njit(cache=True)
def _grow(active):
    bigger = np.empty(2 * active.shape[0], dtype=active.dtype)
    bigger[: active.shape[0]] = active
    return bigger


@njit(cache=True, nogil=True)
def _replicate_batch(rows, cols, periodic, alpha, zombie_sites, seeds):
    """Many independent outbreaks on one lattice shape, reusing the buffers between runs.

    Returns per run: sites ever zombie, whether it spanned horizontally and vertically.
    """
    n = seeds.shape[0]
    sizes = np.empty(n, dtype=np.int64)
    spans_h = np.empty(n, dtype=np.bool_)
    spans_v = np.empty(n, dtype=np.bool_)
    grid = np.zeros(rows * cols, dtype=np.uint8)
    slot_of_bond = np.zeros(2 * rows * cols, dtype=np.int32)
    active = np.empty(min(2 * rows * cols, max(1024, 8 * (rows + cols))), dtype=np.int32)
    for i in range(n):
        grid[:] = SUSCEPTIBLE
        stats, active = _run_outbreak(
            grid,
            slot_of_bond,
            active,
            rows,
            cols,
            periodic,
            alpha,
            1.0,
            zombie_sites,
            seeds[i],
            False,
        )
        sizes[i] = zombie_sites.shape[0] + stats[1]
        spans_h[i] = stats[7] == 0 and stats[8] == cols - 1
        spans_v[i] = stats[5] == 0 and stats[6] == rows - 1
    return sizes, spans_h, spans_v
