"""Estimate the critical kill ratio α_c of the lattice zombie model by finite-size scaling."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field

import numpy as np

from hyosan.classic.lattice import _replicate_batch, check_lattice_shape
from hyosan.errors import UserInputError

__all__ = [
    "PERCOLATION_NU",
    "PUBLISHED_ALPHA_C",
    "PUBLISHED_SOURCE",
    "CriticalEstimate",
    "SpanningScan",
    "estimate_alpha_c",
    "fit_scaling",
    "pairwise_crossings",
    "scan_spanning",
]

# Method (docs/classic-lattice.md): outbreaks start from a full left column of zombies on an open
# L x L lattice; Π(α, L) = P(outbreak reaches the right column) → 1 below α_c, → 0 above, and to a
# universal value at α_c, so curves for successive L cross there. All sizes are fitted at once to
# Π = F((α − α_c) L^{1/ν}), logit F quadratic, by binomial maximum likelihood, and the replicates
# are bootstrapped. The model is in the 2D percolation class (Alemi et al. 2015).

# Alemi, Bierbaum, Myers & Sethna's critical point for the square lattice. Their analysis scripts
# (github.com/mattbierbaum/zombies-usa, analysis/plots/run-collapse.py) locate it in terms of the
# bite probability p = 1/(1+α) at p_c = 0.69572677, i.e. α_c = (1 − p_c)/p_c = 0.437344.
PUBLISHED_ALPHA_C = 0.437344
PUBLISHED_SOURCE = (
    "Alemi, Bierbaum, Myers & Sethna, Phys. Rev. E 92, 052801 (2015), arXiv:1503.01104; "
    "bite probability p_c = 0.69572677 (authors' analysis scripts, "
    "github.com/mattbierbaum/zombies-usa), alpha_c = (1 - p_c)/p_c"
)
PERCOLATION_NU = 4.0 / 3.0  # correlation-length exponent of 2D percolation


@dataclass(frozen=True)
class SpanningScan:
    """Crossing counts of many outbreaks on a grid of sizes x kill ratios."""

    sizes: tuple[int, ...]
    alphas: tuple[float, ...]
    replicates: int
    seed: int
    seeding: str  # "edge": left column of zombies; "centre": one zombie in the middle
    spans: np.ndarray  # (n_sizes, n_alphas) number of runs that crossed
    mean_fraction: np.ndarray  # (n_sizes, n_alphas) mean fraction of sites ever zombie
    seconds: float

    def probability(self) -> np.ndarray:
        return self.spans / self.replicates

    def cells(self) -> list[dict[str, float | int]]:
        """One row per (L, α): counts, crossing probability and its binomial standard error."""
        rows = []
        for i, size in enumerate(self.sizes):
            for j, alpha in enumerate(self.alphas):
                p = self.spans[i, j] / self.replicates
                rows.append(
                    {
                        "size": size,
                        "alpha": alpha,
                        "replicates": self.replicates,
                        "spans": int(self.spans[i, j]),
                        "spanning_probability": p,
                        "stderr": math.sqrt(p * (1 - p) / self.replicates),
                        "mean_outbreak_fraction": float(self.mean_fraction[i, j]),
                    }
                )
        return rows


@dataclass(frozen=True)
class CriticalEstimate:
    """α_c with its bootstrap uncertainty, and the pieces of the fit behind it."""

    alpha_c: float
    stderr: float  # standard deviation of the bootstrap estimates
    ci95: tuple[float, float]  # 2.5 and 97.5 percentiles of the bootstrap estimates
    nu: float
    nu_stderr: float  # 0 when ν was held fixed
    nu_fixed: bool
    crossing_probability: float  # F(0): the universal crossing value of the fitted curves
    crossings: list[dict[str, float]] = field(default_factory=list)
    n_bootstrap: int = 0
    published_alpha_c: float = PUBLISHED_ALPHA_C
    published_source: str = PUBLISHED_SOURCE

    def contains_published(self) -> bool:
        return self.ci95[0] <= self.published_alpha_c <= self.ci95[1]

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["ci95"] = list(self.ci95)
        out["contains_published"] = self.contains_published()
        return out


def scan_spanning(
    sizes: Sequence[int],
    alphas: Sequence[float],
    replicates: int,
    *,
    seed: int = 0,
    seeding: str = "edge",
    workers: int | None = None,
    progress: bool = True,
    console: object | None = None,
) -> SpanningScan:
    """Run ``replicates`` outbreaks for every (L, α) and count those that span.

    Seeds derive from ``seed`` and the cell's (L, α) through ``numpy.random.SeedSequence``, so a
    cell's runs do not depend on which other cells are in the scan, nor on ``workers``.
    """
    sizes = tuple(int(s) for s in sizes)
    alphas = tuple(float(a) for a in alphas)
    if not sizes or not alphas:
        raise UserInputError("the scan needs at least one size and one alpha")
    if replicates < 1:
        raise UserInputError(f"replicates must be >= 1, got {replicates}")
    if seeding not in ("edge", "centre"):
        raise UserInputError(f"seeding must be 'edge' or 'centre', got {seeding!r}")
    for size in sizes:
        if size <= 2:
            raise UserInputError(f"lattice sizes must be > 2, got {size}")
        check_lattice_shape(size, size)
    for alpha in alphas:
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise UserInputError(f"alpha must be a finite number >= 0, got {alpha}")
    workers = workers or os.cpu_count() or 1

    # Chunks small enough to share the work between threads and to move the progress bar.
    jobs = []
    for i, size in enumerate(sizes):
        sites = _seed_sites(size, seeding)
        chunk = max(1, min(replicates, math.ceil(4e6 / size**2)))
        for j, alpha in enumerate(alphas):
            cell_seeds = _cell_seeds(seed, size, alpha, replicates)
            for start in range(0, replicates, chunk):
                jobs.append((i, j, size, alpha, sites, cell_seeds[start : start + chunk]))
    # Larger lattices first, so the slowest chunks do not finish alone at the end.
    jobs.sort(key=lambda job: -job[2])

    spans = np.zeros((len(sizes), len(alphas)), dtype=np.int64)
    size_sums = np.zeros((len(sizes), len(alphas)), dtype=np.float64)
    started = time.perf_counter()

    def work(job):
        i, j, size, alpha, sites, seeds = job
        ever_zombie, spans_h, spans_v = _replicate_batch(size, size, False, alpha, sites, seeds)
        crossed = spans_h if seeding == "edge" else (spans_h | spans_v)
        return i, j, int(crossed.sum()), float(ever_zombie.sum()) / size**2, len(seeds)

    total = replicates * len(sizes) * len(alphas)
    with (
        _progress(progress, console, total) as advance,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        futures = [pool.submit(work, job) for job in jobs]
        for future in as_completed(futures):
            i, j, crossed, fraction_sum, runs = future.result()
            spans[i, j] += crossed
            size_sums[i, j] += fraction_sum
            advance(runs)
    return SpanningScan(
        sizes=sizes,
        alphas=alphas,
        replicates=replicates,
        seed=seed,
        seeding=seeding,
        spans=spans,
        mean_fraction=size_sums / replicates,
        seconds=time.perf_counter() - started,
    )


def fit_scaling(
    scan: SpanningScan,
    spans: np.ndarray | None = None,
    *,
    nu: float | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Binomial maximum-likelihood fit of Π(α, L) = expit(c0 + c1·x + c2·x²), x = (α − α_c)L^{1/ν}.

    Returns [α_c, 1/ν, c0, c1, c2]; 1/ν is held at ``1/nu`` when ``nu`` is given.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    counts = scan.spans if spans is None else spans
    n = scan.replicates
    sizes = np.asarray(scan.sizes, dtype=float)[:, None]
    alphas = np.asarray(scan.alphas, dtype=float)[None, :]
    k = counts.astype(float)
    if start is None:
        start = _starting_point(scan, counts, nu)
    start = np.asarray(start, dtype=float)

    def unpack(theta):
        if nu is None:
            return theta
        return np.array([theta[0], 1.0 / nu, *theta[1:]])

    def negative_log_likelihood(theta):
        alpha_c, inv_nu, c0, c1, c2 = unpack(theta)
        x = (alphas - alpha_c) * sizes**inv_nu
        p = np.clip(expit(c0 + c1 * x + c2 * x * x), 1e-12, 1 - 1e-12)
        return -float(np.sum(k * np.log(p) + (n - k) * np.log1p(-p)))

    theta0 = start if nu is None else np.delete(start, 1)
    best = minimize(
        negative_log_likelihood,
        theta0,
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20000, "maxfev": 20000},
    )
    return unpack(best.x)


def pairwise_crossings(scan: SpanningScan) -> list[dict[str, float]]:
    """Where the crossing-probability curves of successive sizes cross (NaN if they do not).

    Each curve is smoothed by its own quadratic-logit fit in α before intersecting.
    """
    from scipy.optimize import brentq

    curves = [_curve_fit(scan.alphas, scan.spans[i], scan.replicates) for i in range(len(scan.sizes))]
    lo, hi = min(scan.alphas), max(scan.alphas)
    out = []
    for i in range(len(scan.sizes) - 1):
        small, large = curves[i], curves[i + 1]

        def gap(a, small=small, large=large):
            return small(a) - large(a)

        grid = np.linspace(lo, hi, 201)
        values = np.array([gap(a) for a in grid])
        changes = np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))
        if changes.size == 0:
            where = float("nan")
        else:
            # Of several sign changes, the one where both curves are least saturated is meant.
            mid = min(changes, key=lambda c: abs(small(grid[c]) - 0.5))
            where = float(brentq(gap, grid[mid], grid[mid + 1]))
        out.append({"size_small": scan.sizes[i], "size_large": scan.sizes[i + 1], "alpha": where})
    return out


def estimate_alpha_c(
    scan: SpanningScan,
    *,
    nu: float | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> CriticalEstimate:
    """α_c from a scaling fit of all sizes, with a bootstrap over each cell's replicates."""
    from scipy.special import expit

    if len(scan.sizes) < 2:
        raise UserInputError("estimating alpha_c needs at least two lattice sizes")
    if len(scan.alphas) < 3:
        raise UserInputError("estimating alpha_c needs at least three alpha values")
    best = fit_scaling(scan, nu=nu)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xB007,)))
    p_hat = scan.probability()
    boot = []
    for _ in range(n_bootstrap):
        # Resampling a cell's replicates with replacement redraws its count from Binomial(n, p̂).
        counts = rng.binomial(scan.replicates, p_hat)
        boot.append(fit_scaling(scan, counts, nu=nu, start=best))
    boot = np.array(boot) if boot else np.empty((0, 5))
    if len(boot) >= 2:
        stderr = float(np.std(boot[:, 0], ddof=1))
        ci = (float(np.percentile(boot[:, 0], 2.5)), float(np.percentile(boot[:, 0], 97.5)))
        nu_stderr = 0.0 if nu is not None else float(np.std(1.0 / boot[:, 1], ddof=1))
    else:
        stderr, ci, nu_stderr = float("nan"), (float("nan"), float("nan")), float("nan")
    return CriticalEstimate(
        alpha_c=float(best[0]),
        stderr=stderr,
        ci95=ci,
        nu=float(1.0 / best[1]),
        nu_stderr=nu_stderr,
        nu_fixed=nu is not None,
        crossing_probability=float(expit(best[2])),
        crossings=pairwise_crossings(scan),
        n_bootstrap=n_bootstrap,
    )


# --- helpers -----------------------------------------------------------------------------------


def _seed_sites(size: int, seeding: str) -> np.ndarray:
    if seeding == "edge":
        return np.arange(size, dtype=np.int64) * size
    return np.array([(size // 2) * size + size // 2], dtype=np.int64)


def _cell_seeds(seed: int, size: int, alpha: float, replicates: int) -> np.ndarray:
    key = (size, round(alpha * 1e9))
    sequence = np.random.SeedSequence(seed, spawn_key=key)
    return sequence.generate_state(replicates, dtype=np.uint32).astype(np.int64)


def _curve_fit(alphas: Sequence[float], spans: np.ndarray, n: int):
    """A smooth Π(α) for one size: quadratic logit by binomial maximum likelihood."""
    from scipy.optimize import minimize
    from scipy.special import expit

    a = np.asarray(alphas, dtype=float)
    centre, width = a.mean(), max(np.ptp(a), 1e-12)
    u = (a - centre) / width
    k = spans.astype(float)

    def nll(theta):
        p = np.clip(expit(theta[0] + theta[1] * u + theta[2] * u * u), 1e-12, 1 - 1e-12)
        return -float(np.sum(k * np.log(p) + (n - k) * np.log1p(-p)))

    theta = minimize(nll, np.array([0.0, -5.0, 0.0]), method="Nelder-Mead").x

    def curve(alpha: float) -> float:
        v = (alpha - centre) / width
        return float(expit(theta[0] + theta[1] * v + theta[2] * v * v))

    return curve


def _starting_point(scan: SpanningScan, counts: np.ndarray, nu: float | None) -> np.ndarray:
    """Start the global fit where the largest size's curve passes through one half."""
    p = (counts[-1] + 0.5) / (scan.replicates + 1.0)
    alphas = np.asarray(scan.alphas, dtype=float)
    alpha_c = float(alphas[np.argmin(np.abs(p - 0.5))])
    inv_nu = 1.0 / (nu if nu is not None else PERCOLATION_NU)
    # Slope of logit Π in x: the largest curve's logit changes by ~8 over the scanned range.
    span_x = max(np.ptp(alphas), 1e-6) * max(scan.sizes) ** inv_nu
    return np.array([alpha_c, inv_nu, 0.0, -8.0 / span_x, 0.0])


@contextlib.contextmanager
def _progress(enabled: bool, console: object | None, total: int) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar over ``total`` outbreaks when asked for; yields ``advance(n)``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    kwargs = {} if console is None else {"console": console}
    with Progress(
        TextColumn("[bold]outbreaks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        **kwargs,
    ) as bar:
        task = bar.add_task("scan", total=total)
        yield lambda n: bar.advance(task, n)
