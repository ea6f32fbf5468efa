"""Exact (Gillespie direct, Gibson–Bruck next reaction) and tau-leaping stochastic simulation of reaction models."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

__all__ = [
    "METHODS",
    "CompiledModel",
    "Reaction",
    "ReactionModel",
    "SSARun",
    "alemi_szr",
    "dependency_graph",
    "heap_build",
    "heap_update",
    "munz_reactions",
    "random_exponential",
    "random_uniform",
    "replicate_seeds",
    "simulate",
    "simulate_runs",
]

# Methods by name; the number is what the compiled batch driver switches on.
METHODS = {"direct": 0, "next": 1, "tau": 2}

# Elementary reactions have at most three reactant molecules; fixed slots keep propensities branch-light.
MAX_ORDER = 3
_NO_LIMIT = np.iinfo(np.int64).max

# References:
#   Gillespie, J. Phys. Chem. 81, 2340 (1977) — direct method.
#   Gibson & Bruck, J. Phys. Chem. A 104, 1876 (2000) — next-reaction method.
#   Cao, Gillespie & Petzold, J. Chem. Phys. 124, 044109 (2006) — tau-leaping step selection.
#   Alemi et al., Phys. Rev. E 92, 052801 (2015); Munz et al. (2009) — the zombie reaction sets below.


@dataclass(frozen=True)
class Reaction:
    """One reaction channel with mass-action kinetics.

    The propensity is ``rate · Π_i C(x_i, r_i)`` (binomial coefficients of the reactant counts, the
    usual stochastic convention), divided by ``N^(order-1)`` when ``per_capita`` is true, where N is the
    model's population (well-mixed frequency dependence, as in Alemi et al. 2015: bite rate β·S·Z/N).
    """

    name: str
    reactants: Mapping[str, int]
    products: Mapping[str, int]
    rate: float
    per_capita: bool = False


@dataclass(frozen=True)
class ReactionModel:
    """A compartment model declared as data: species names, reactant and product matrices, rates.

    Everything is plain NumPy so the compiled kernels can take it directly (see `compile`).
    ``population`` is the N of per-capita reactions; ``None`` means "the total of the initial state".
    """

    species: tuple[str, ...]
    reaction_names: tuple[str, ...]
    reactant_matrix: np.ndarray  # (reactions, species) int64: molecules consumed by the propensity
    product_matrix: np.ndarray  # (reactions, species) int64
    rates: np.ndarray  # (reactions,) float64 rate constants
    per_capita: np.ndarray  # (reactions,) bool
    population: float | None = None

    @classmethod
    def from_reactions(
        cls, species: Sequence[str], reactions: Sequence[Reaction], population: float | None = None
    ) -> ReactionModel:
        """Build the matrices from a list of `Reaction`s."""
        species = tuple(species)
        if len(set(species)) != len(species):
            raise ValueError(f"species names must be unique, got {species}")
        index = {name: i for i, name in enumerate(species)}
        n_r, n_s = len(reactions), len(species)
        reactant_matrix = np.zeros((n_r, n_s), dtype=np.int64)
        product_matrix = np.zeros((n_r, n_s), dtype=np.int64)
        for j, reaction in enumerate(reactions):
            for table, matrix in ((reaction.reactants, reactant_matrix), (reaction.products, product_matrix)):
                for name, count in table.items():
                    if name not in index:
                        raise ValueError(f"reaction {reaction.name!r}: unknown species {name!r}")
                    if count < 0:
                        raise ValueError(f"reaction {reaction.name!r}: negative count for {name!r}")
                    matrix[j, index[name]] = count
            if not (reaction.rate >= 0 and math.isfinite(reaction.rate)):
                raise ValueError(f"reaction {reaction.name!r}: rate must be finite and >= 0, got {reaction.rate}")
        return cls(
            species=species,
            reaction_names=tuple(r.name for r in reactions),
            reactant_matrix=reactant_matrix,
            product_matrix=product_matrix,
            rates=np.array([r.rate for r in reactions], dtype=np.float64),
            per_capita=np.array([r.per_capita for r in reactions], dtype=np.bool_),
            population=population,
        )

    @property
    def change_matrix(self) -> np.ndarray:
        """Net change of every species when each reaction fires, (reactions, species)."""
        return self.product_matrix - self.reactant_matrix

    def compile(self, population: float) -> CompiledModel:
        """Sparse (CSR) arrays for the kernels, with per-capita rates already divided by N^(order-1)."""
        if not population > 0:
            raise ValueError(f"population must be > 0 for per-capita reactions, got {population}")
        order = self.reactant_matrix.sum(axis=1)
        if np.any(order > MAX_ORDER):
            raise ValueError(f"reactions of order > {MAX_ORDER} are not elementary; split them into steps")
        scale = np.where(self.per_capita, float(population) ** (1.0 - np.maximum(order, 1)), 1.0)
        # Empty slots point at a padding species that always holds 1 (with order 0): no branches on slots.
        r_sp = np.full((order.size, MAX_ORDER), len(self.species), dtype=np.int64)
        r_ord = np.zeros((order.size, MAX_ORDER), dtype=np.int64)
        for j, row in enumerate(self.reactant_matrix):
            for slot, i in enumerate(np.flatnonzero(row)):
                r_sp[j, slot] = i
                r_ord[j, slot] = row[i]
        change = self.change_matrix
        c_ptr, c_idx, c_val = _csr(change)
        d_ptr, d_idx = dependency_graph(self.reactant_matrix, change)
        return CompiledModel(
            rates=np.ascontiguousarray(self.rates * scale, dtype=np.float64),
            r_sp=r_sp,
            r_ord=r_ord,
            c_ptr=c_ptr,
            c_idx=c_idx,
            c_val=c_val,
            d_ptr=d_ptr,
            d_idx=d_idx,
            order=order.astype(np.int64),
        )


@dataclass(frozen=True)
class CompiledModel:
    """Kernel-ready arrays: reactants in fixed slots (fast to evaluate), net changes and dependencies in CSR."""

    rates: np.ndarray  # (reactions,) rate constants, per-capita ones already divided by N^(order-1)
    r_sp: np.ndarray  # (reactions, MAX_ORDER) reactant species; an empty slot points at the padding species
    r_ord: np.ndarray  # (reactions, MAX_ORDER) how many of that species the reaction consumes
    c_ptr: np.ndarray
    c_idx: np.ndarray
    c_val: np.ndarray
    d_ptr: np.ndarray
    d_idx: np.ndarray
    order: np.ndarray


@dataclass
class SSARun:
    """Replicates of one model: counts on the time grid, final states and event counts."""

    species: tuple[str, ...]
    method: str
    t_grid: np.ndarray  # (times,)
    counts: np.ndarray  # (replicates, times, species) int64
    final_counts: np.ndarray  # (replicates, species): state when the run stopped
    final_time: np.ndarray  # (replicates,): time of the last event (or t_end)
    events: np.ndarray  # (replicates,): reactions fired
    steps: np.ndarray  # (replicates,): loop iterations (= events for exact methods, leaps + SSA steps for tau)
    seeds: np.ndarray  # (replicates,)
    wall_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_frame(self):
        """Tidy DataFrame: one row per (replicate, time), columns replicate, time and the species counts."""
        import pandas as pd

        n_rep, n_t, _ = self.counts.shape
        frame = pd.DataFrame(
            {
                "replicate": np.repeat(np.arange(n_rep, dtype=np.int64), n_t),
                "time": np.tile(self.t_grid, n_rep),
            }
        )
        for i, name in enumerate(self.species):
            frame[name] = self.counts[:, :, i].reshape(-1)
        return frame

    def final_frame(self):
        """One row per replicate: final counts, stop time, events and the seed used."""
        import pandas as pd

        frame = pd.DataFrame({"replicate": np.arange(len(self.seeds), dtype=np.int64)})
        for i, name in enumerate(self.species):
            frame[name] = self.final_counts[:, i]
        frame["time"] = self.final_time
        frame["events"] = self.events
        frame["seed"] = self.seeds
        return frame

    @property
    def events_per_second(self) -> float:
        return float(self.events.sum()) / max(self.wall_seconds, 1e-12)


def alemi_szr(alpha: float, beta: float = 1.0, population: float | None = None) -> ReactionModel:
    """Fully connected SZR of Alemi et al. (2015): bite S+Z → 2Z at β·S·Z/N, kill S+Z → S+R at κ·S·Z/N, κ = α·β."""
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
    if not (beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be finite and > 0, got {beta}")
    return ReactionModel.from_reactions(
        ("S", "Z", "R"),
        [
            Reaction("bite", {"S": 1, "Z": 1}, {"Z": 2}, beta, per_capita=True),
            Reaction("kill", {"S": 1, "Z": 1}, {"S": 1, "R": 1}, alpha * beta, per_capita=True),
        ],
        population=population,
    )


def munz_reactions(model: str = "szr", params=None, *, quirk: bool = False) -> ReactionModel:
    """The Munz et al. (2009) models as mass-action reactions (no 1/N: the paper's rates are per pair per day).

    ``model`` is one of ``szr``, ``sizr``, ``sizrq`` (quarantine) or ``cure`` (treatment); impulsive
    eradication is a scheduled jump, not a reaction (see `hyosan.classic.munz`). With ``quirk=True``
    natural death is S → S + R, which is what the paper's MATLAB code integrates (S keeps its dead).
    """
    from hyosan.classic.munz import PRESETS

    p = PRESETS["paper"] if params is None else params
    death = (
        Reaction("death", {"S": 1}, {"S": 1, "R": 1}, p.delta)
        if quirk
        else Reaction("death", {"S": 1}, {"R": 1}, p.delta)
    )
    common = [
        Reaction("birth", {}, {"S": 1}, p.birth),
        death,
        Reaction("kill", {"S": 1, "Z": 1}, {"S": 1, "R": 1}, p.alpha),
        Reaction("resurrect", {"R": 1}, {"Z": 1}, p.zeta),
    ]
    if model == "szr":
        return ReactionModel.from_reactions(
            ("S", "Z", "R"), [*common, Reaction("bite", {"S": 1, "Z": 1}, {"Z": 2}, p.beta)]
        )
    latent = [
        Reaction("bite", {"S": 1, "Z": 1}, {"I": 1, "Z": 1}, p.beta),
        Reaction("turn", {"I": 1}, {"Z": 1}, p.rho),
        Reaction("infected death", {"I": 1}, {"R": 1}, p.delta),
    ]
    if model == "sizr":
        return ReactionModel.from_reactions(("S", "I", "Z", "R"), [*common, *latent])
    if model == "sizrq":
        quarantine = [
            Reaction("quarantine infected", {"I": 1}, {"Q": 1}, p.kappa),
            Reaction("quarantine zombie", {"Z": 1}, {"Q": 1}, p.sigma),
            Reaction("quarantine removal", {"Q": 1}, {"R": 1}, p.gamma),
        ]
        return ReactionModel.from_reactions(("S", "I", "Z", "R", "Q"), [*common, *latent, *quarantine])
    if model == "cure":
        return ReactionModel.from_reactions(
            ("S", "I", "Z", "R"), [*common, *latent, Reaction("cure", {"Z": 1}, {"S": 1}, p.cure)]
        )
    raise ValueError(f"no reaction form for Munz model {model!r}; choose szr, sizr, sizrq or cure")


def replicate_seeds(seed: int | np.random.Generator | None, replicates: int) -> np.ndarray:
    """One 32-bit kernel seed per replicate, drawn from a `numpy.random.Generator`.

    32 bits because tau-leaping draws from Numba's per-thread generator (Mersenne Twister), which takes a
    32-bit seed; the exact methods expand the same seed into xoshiro256++ state with SplitMix64.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.integers(0, 2**32, size=replicates, dtype=np.uint64).astype(np.int64)


def dependency_graph(reactant_matrix: np.ndarray, change_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR graph: for each reaction j, the reactions whose propensity reads a species that j changes.

    Built with sparse products so it stays cheap for thousands of channels (spatial models).
    """
    from scipy import sparse

    changes = sparse.csr_matrix(change_matrix != 0, dtype=np.int8)
    reads = sparse.csr_matrix(reactant_matrix > 0, dtype=np.int8)
    graph = (changes @ reads.T).tocsr()
    graph.sort_indices()
    return graph.indptr.astype(np.int64), graph.indices.astype(np.int64)


def simulate_runs(
    model: ReactionModel,
    x0: Mapping[str, int] | Sequence[int] | np.ndarray,
    t_end: float,
    method: str = "direct",
    replicates: int = 1,
    seed: int | np.random.Generator | None = None,
    t_grid: Sequence[float] | np.ndarray | None = None,
    *,
    seeds: Sequence[int] | np.ndarray | None = None,
    epsilon: float = 0.03,
    n_critical: int = 10,
    max_events: int | None = None,
    parallel: bool = True,
) -> SSARun:
    """Run `replicates` independent realisations and keep them as arrays (see `simulate` for the options).

    ``t_end`` may be ``inf`` when the model reaches an absorbing state (e.g. SZR ends with no humans or
    no zombies); then ``t_grid`` must be given. Same seed(s) → identical output, whatever the threads.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    state = _initial_state(model, x0)
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end}")
    if t_grid is None:
        if not math.isfinite(t_end):
            raise ValueError("t_grid is required when t_end is infinite")
        grid = np.linspace(0.0, float(t_end), 101)
    else:
        grid = np.asarray(t_grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size == 0:
            raise ValueError("t_grid must be a non-empty 1-D sequence of times")
        if np.any(np.diff(grid) < 0) or grid[0] < 0 or grid[-1] > t_end:
            raise ValueError("t_grid must be sorted and lie within [0, t_end]")
    if seeds is None:
        if replicates < 1:
            raise ValueError(f"replicates must be >= 1, got {replicates}")
        seed_array = replicate_seeds(seed, replicates)
    else:
        seed_array = np.asarray(seeds, dtype=np.int64)
        if seed_array.ndim != 1 or np.any(seed_array < 0) or np.any(seed_array >= 2**32):
            raise ValueError("seeds must be a 1-D sequence of integers in [0, 2**32)")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon}")
    population = model.population if model.population is not None else float(state.sum())
    compiled = model.compile(population if population > 0 else 1.0)

    n_rep, n_t, n_s = seed_array.size, grid.size, state.size
    counts = np.zeros((n_rep, n_t, n_s), dtype=np.int64)
    final_counts = np.zeros((n_rep, n_s), dtype=np.int64)
    final_time = np.zeros(n_rep, dtype=np.float64)
    events = np.zeros(n_rep, dtype=np.int64)
    steps = np.zeros(n_rep, dtype=np.int64)
    driver = _run_batch_parallel if parallel and n_rep > 1 else _run_batch_serial
    started = time.perf_counter()
    driver(
        METHODS[method],
        state,
        grid,
        float(t_end),
        seed_array,
        compiled.rates,
        compiled.r_sp,
        compiled.r_ord,
        compiled.c_ptr,
        compiled.c_idx,
        compiled.c_val,
        compiled.d_ptr,
        compiled.d_idx,
        compiled.order,
        float(epsilon),
        int(n_critical),
        _NO_LIMIT if max_events is None else int(max_events),
        counts,
        final_counts,
        final_time,
        events,
        steps,
    )
    wall = time.perf_counter() - started
    return SSARun(
        species=model.species,
        method=method,
        t_grid=grid,
        counts=counts,
        final_counts=final_counts,
        final_time=final_time,
        events=events,
        steps=steps,
        seeds=seed_array,
        wall_seconds=wall,
    )


def simulate(
    model: ReactionModel,
    x0: Mapping[str, int] | Sequence[int] | np.ndarray,
    t_end: float,
    method: str = "direct",
    replicates: int = 1,
    seed: int | np.random.Generator | None = None,
    t_grid: Sequence[float] | np.ndarray | None = None,
    **options,
):
    """Simulate a reaction model; return a tidy DataFrame (replicate, time, one column per species).

    ``method``: ``"direct"`` (Gillespie, O(M) per event), ``"next"`` (Gibson–Bruck, O(log M) per
    event) or ``"tau"`` (tau-leaping with Cao–Gillespie–Petzold 2006 step selection; approximate, and
    it falls back to exact steps when leaps would be short). ``seed`` (an int or a Generator) gives
    one kernel seed per replicate; or pass ``seeds=`` explicitly. Keyword options: see `simulate_runs`.
    """
    return simulate_runs(model, x0, t_end, method, replicates, seed, t_grid, **options).to_frame()


# --- helpers -----------------------------------------------------------------------------------


def _initial_state(model: ReactionModel, x0) -> np.ndarray:
    if isinstance(x0, Mapping):
        unknown = set(x0) - set(model.species)
        if unknown:
            raise ValueError(f"unknown species in x0: {sorted(unknown)}; the model has {model.species}")
        state = np.array([x0.get(name, 0) for name in model.species], dtype=np.int64)
    else:
        state = np.asarray(x0, dtype=np.int64).copy()
        if state.shape != (len(model.species),):
            raise ValueError(f"x0 must have {len(model.species)} counts ({model.species}), got {state.shape}")
    if np.any(state < 0):
        raise ValueError(f"initial counts must be >= 0, got {state.tolist()}")
    return state


def _csr(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(matrix)
    ptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return np.cumsum(ptr), cols.astype(np.int64), matrix[rows, cols].astype(np.int64)


# --- random numbers ------------------------------------------------------------------------------
# The exact kernels draw from xoshiro256++ (Blackman & Vigna 2021) held in four local uint64s, with
# exponentials from a 256-layer ziggurat (Marsaglia & Tsang 2000; the layout NumPy's Generator uses).
# Numba's np.random costs ~10 ns a draw and -log(U) another ~5 ns; these cost ~1.5 ns and ~2.5 ns.
# Tau-leaping keeps np.random (it needs Poisson draws), seeded per replicate.

_ZIGGURAT_R = 7.69711747013104972  # right edge of the base layer for 256 layers


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Layer i (1..255) is the box [0, x_i] x [f(x_i), f(x_{i-1})] with f(x) = e^{-x}; all layers, and the
    # base (box of width r plus the tail beyond r), have the same area v = (r + 1) e^{-r}. A draw of
    # 53 bits `k` in layer i gives x = k * we[i]; k < ke[i] means x < x_{i-1}, inside the curve.
    scale = 2.0**53
    r = _ZIGGURAT_R
    v = (r + 1.0) * math.exp(-r)
    q = v / math.exp(-r)  # width of the base box, so that it has area v
    ke = np.zeros(256, dtype=np.uint64)
    we = np.zeros(256, dtype=np.float64)
    fe = np.zeros(256, dtype=np.float64)
    ke[0] = np.uint64((r / q) * scale)
    we[0], we[255] = q / scale, r / scale
    fe[0], fe[255] = 1.0, math.exp(-r)
    x_upper = r
    for i in range(254, 0, -1):
        x_i = -math.log(v / x_upper + math.exp(-x_upper))
        ke[i + 1] = np.uint64((x_i / x_upper) * scale)
        we[i] = x_i / scale
        fe[i] = math.exp(-x_i)
        x_upper = x_i
    return ke, we, fe


_ZIG_KE, _ZIG_WE, _ZIG_FE = _ziggurat_tables()
_U64_3 = np.uint64(3)
_U64_8 = np.uint64(8)
_U64_11 = np.uint64(11)
_U64_17 = np.uint64(17)
_U64_23 = np.uint64(23)
_U64_45 = np.uint64(45)
_U64_64 = np.uint64(64)
_U64_FF = np.uint64(0xFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_MIX_SHIFT_1 = np.uint64(30)
_MIX_SHIFT_2 = np.uint64(27)
_MIX_SHIFT_3 = np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53


@njit(cache=True)
def _rng_seed(seed):
    # SplitMix64, as the xoshiro authors recommend: distinct seeds give well-separated, nonzero states.
    z = np.uint64(seed)
    words = np.empty(4, dtype=np.uint64)
    for i in range(4):
        z += _GOLDEN
        w = z
        w = (w ^ (w >> _MIX_SHIFT_1)) * _MIX_1
        w = (w ^ (w >> _MIX_SHIFT_2)) * _MIX_2
        words[i] = w ^ (w >> _MIX_SHIFT_3)
    return words[0], words[1], words[2], words[3]


@njit(cache=True, inline="always")
def _rotl(value, k):
    return (value << k) | (value >> (_U64_64 - k))


@njit(cache=True, inline="always")
def _rng_next(s0, s1, s2, s3):
    # xoshiro256++: every output bit is of full quality, so the ziggurat may take its layer from low bits.
    result = _rotl(s0 + s3, _U64_23) + s0
    t = s1 << _U64_17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U64_45)
    return result, s0, s1, s2, s3


@njit(cache=True, inline="always")
def _rng_uniform(s0, s1, s2, s3):
    # The top 53 bits as a double in [0, 1); the signed cast keeps the int-to-float conversion one instruction.
    bits, s0, s1, s2, s3 = _rng_next(s0, s1, s2, s3)
    return float(np.int64(bits >> _U64_11)) * _TO_UNIT, s0, s1, s2, s3


@njit(cache=True)
def _rng_exponential_slow(layer, x, s0, s1, s2, s3):
    # The ~1.1 % of draws that miss the inner box of their layer: tail, wedge test, or a fresh draw.
    while True:
        if layer == 0:
            u, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
            # Memorylessness: beyond r the exponential is r plus a fresh one; log1p(-u) is finite for u < 1.
            return _ZIGGURAT_R - math.log1p(-u), s0, s1, s2, s3
        u, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
        if (_ZIG_FE[layer - 1] - _ZIG_FE[layer]) * u + _ZIG_FE[layer] < math.exp(-x):
            return x, s0, s1, s2, s3
        bits, s0, s1, s2, s3 = _rng_next(s0, s1, s2, s3)
        bits >>= _U64_3
        layer = np.int64(bits & _U64_FF)
        bits >>= _U64_8
        x = float(np.int64(bits)) * _ZIG_WE[layer]
        if bits < _ZIG_KE[layer]:
            return x, s0, s1, s2, s3


@njit(cache=True, inline="always")
def _rng_exponential(s0, s1, s2, s3):
    # A standard exponential: one 64-bit draw, two table reads and a compare on 98.9 % of calls.
    bits, s0, s1, s2, s3 = _rng_next(s0, s1, s2, s3)
    bits >>= _U64_3
    layer = np.int64(bits & _U64_FF)
    bits >>= _U64_8
    x = float(np.int64(bits)) * _ZIG_WE[layer]
    if bits < _ZIG_KE[layer]:
        return x, s0, s1, s2, s3
    return _rng_exponential_slow(layer, x, s0, s1, s2, s3)


@njit(cache=True)
def random_uniform(seed: int, size: int) -> np.ndarray:
    """`size` uniforms on [0, 1) from the exact kernels' generator (xoshiro256++ seeded by SplitMix64)."""
    s0, s1, s2, s3 = _rng_seed(seed)
    draws = np.empty(size)
    for i in range(size):
        draws[i], s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
    return draws


@njit(cache=True)
def random_exponential(seed: int, size: int) -> np.ndarray:
    """`size` standard exponentials from the exact kernels' ziggurat sampler (for tests and timing)."""
    s0, s1, s2, s3 = _rng_seed(seed)
    draws = np.empty(size)
    for i in range(size):
        draws[i], s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
    return draws


# --- compiled kernels --------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _choose(n, o):
    # C(n, o) for o <= MAX_ORDER; zero when fewer than o are present.
    if o == 1:
        return n
    if o == 0:
        return 1.0
    if o == 2:
        return 0.5 * n * (n - 1.0)
    return n * (n - 1.0) * (n - 2.0) / 6.0 if n >= 2.0 else 0.0


@njit(cache=True, inline="always")
def _propensity(j, x, rates, r_sp, r_ord):
    # Unrolled over the MAX_ORDER = 3 slots: about three times faster than a loop with a break.
    return (
        rates[j]
        * _choose(float(x[r_sp[j, 0]]), r_ord[j, 0])
        * _choose(float(x[r_sp[j, 1]]), r_ord[j, 1])
        * _choose(float(x[r_sp[j, 2]]), r_ord[j, 2])
    )


@njit(cache=True, inline="always")
def _fire(j, x, c_ptr, c_idx, c_val, times):
    for k in range(c_ptr[j], c_ptr[j + 1]):
        x[c_idx[k]] += times * c_val[k]


@njit(cache=True, inline="always")
def _exponential(rate):
    # 1 - U lies in (0, 1], so the logarithm is finite.
    return -math.log(1.0 - np.random.random()) / rate


@njit(cache=True, inline="always")
def _pick(a, a0, n_r):
    target = np.random.random() * a0
    mu = 0
    acc = a[0]
    while acc <= target and mu < n_r - 1:
        mu += 1
        acc += a[mu]
    if a[mu] <= 0.0:  # rounding can land the target past the last open channel
        while a[mu] <= 0.0:
            mu -= 1
    return mu


@njit(cache=True)
def heap_sift_up(times, heap, pos, k):
    """Move heap slot k towards the root until its parent fires no later."""
    j = heap[k]
    tj = times[j]
    while k > 0:
        parent = (k - 1) >> 1
        p = heap[parent]
        if times[p] <= tj:
            break
        heap[k] = p
        pos[p] = k
        k = parent
    heap[k] = j
    pos[j] = k


@njit(cache=True)
def heap_sift_down(times, heap, pos, k):
    """Move heap slot k towards the leaves until both children fire no earlier."""
    n = heap.size
    j = heap[k]
    tj = times[j]
    while True:
        child = 2 * k + 1
        if child >= n:
            break
        right = child + 1
        if right < n and times[heap[right]] < times[heap[child]]:
            child = right
        c = heap[child]
        if times[c] >= tj:
            break
        heap[k] = c
        pos[c] = k
        k = child
    heap[k] = j
    pos[j] = k


@njit(cache=True)
def heap_build(times, heap, pos):
    """Indexed binary min-heap of channels keyed by `times`: heap[0] is the next channel to fire, pos its inverse."""
    n = times.size
    for j in range(n):
        heap[j] = j
        pos[j] = j
    for k in range(n // 2 - 1, -1, -1):
        heap_sift_down(times, heap, pos, k)


@njit(cache=True)
def heap_update(times, heap, pos, j):
    """Restore the heap after `times[j]` changed: O(log M)."""
    k = pos[j]
    if k > 0 and times[heap[(k - 1) >> 1]] > times[j]:
        heap_sift_up(times, heap, pos, k)
    else:
        heap_sift_down(times, heap, pos, k)


@njit(cache=True)
def _record(out, t_grid, g, t_limit, x):
    # The state holds on [t, t_limit): every grid time strictly before the next event sees it.
    # x carries the padding species at its end; out has only the real ones.
    while g < t_grid.size and t_grid[g] < t_limit:
        out[g, :] = x[: out.shape[1]]
        g += 1
    return g


@njit(cache=True, inline="always")
def _next_grid_time(t_grid, g):
    return t_grid[g] if g < t_grid.size else np.inf


# Propensity shapes the direct method evaluates without the generic three-slot product.
_KIND_CONSTANT, _KIND_ONE, _KIND_PAIR, _KIND_DIMER, _KIND_OTHER = 0, 1, 2, 3, 4


@njit(cache=True)
def _propensity_kinds(r_sp, r_ord):
    # Classify each channel once so the hot loop reads one small code and at most two species indices.
    # Unsigned indices spare Numba's negative-index wraparound on every access in the hot loop.
    n_r = r_sp.shape[0]
    kind = np.full(n_r, _KIND_OTHER, dtype=np.int64)
    first = np.zeros(n_r, dtype=np.uint64)
    second = np.zeros(n_r, dtype=np.uint64)
    for j in range(n_r):
        o0, o1, o2 = r_ord[j, 0], r_ord[j, 1], r_ord[j, 2]
        first[j] = r_sp[j, 0]
        second[j] = r_sp[j, 1]
        if o2 != 0:
            continue
        if o0 == 0:
            kind[j] = _KIND_CONSTANT
        elif o1 == 0:
            kind[j] = _KIND_ONE if o0 == 1 else _KIND_DIMER if o0 == 2 else _KIND_OTHER
        elif o0 == 1 and o1 == 1:
            kind[j] = _KIND_PAIR
    return kind, first, second


@njit(cache=True)
def _direct(x, t_end, t_grid, out, rates, r_sp, r_ord, c_ptr, c_idx, c_val, d_ptr, d_idx, max_events, seed):
    n_r = rates.size
    kind, first, second = _propensity_kinds(r_sp, r_ord)
    changed = c_idx.astype(np.uint64)
    dependents = d_idx.astype(np.uint64)
    a = np.empty(n_r)
    for j in range(n_r):
        a[j] = _propensity(j, x, rates, r_sp, r_ord)
    # Generator state in locals so it stays in registers through the hot loop.
    s0, s1, s2, s3 = _rng_seed(seed)
    last = np.uint64(n_r - 1)
    t = 0.0
    g = 0
    t_record = _next_grid_time(t_grid, 0)
    # One comparison per event covers both the next grid time and the end of the run.
    t_check = min(t_record, t_end)
    n_events = 0
    while n_events < max_events:
        # A full sum (not a running total) so rounding never leaves a phantom rate at absorption.
        a0 = 0.0
        for j in range(n_r):
            a0 += a[j]
        if a0 <= 0.0:
            break
        e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
        t_next = t + e / a0
        if t_next > t_check:
            if t_next > t_end:
                t = t_end
                break
            g = _record(out, t_grid, g, t_next, x)
            t_record = _next_grid_time(t_grid, g)
            t_check = min(t_record, t_end)
        u, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
        target = u * a0
        mu = np.uint64(0)
        acc = a[mu]
        while acc <= target and mu < last:
            mu += np.uint64(1)
            acc += a[mu]
        if a[mu] <= 0.0:  # rounding can land the target past the last open channel
            while a[mu] <= 0.0:
                mu -= np.uint64(1)
        for k in range(c_ptr[mu], c_ptr[mu + np.uint64(1)]):
            x[changed[np.uint64(k)]] += c_val[np.uint64(k)]
        for k in range(d_ptr[mu], d_ptr[mu + np.uint64(1)]):
            dep = dependents[np.uint64(k)]
            # Written out here: the same switch behind an inlined helper compiled ~10x slower (Numba 0.68).
            # Bit-for-bit the value of _propensity, whose padding factors are exact 1.0s.
            shape = kind[dep]
            if shape == _KIND_PAIR:
                a[dep] = rates[dep] * float(x[first[dep]]) * float(x[second[dep]])
            elif shape == _KIND_ONE:
                a[dep] = rates[dep] * float(x[first[dep]])
            elif shape == _KIND_CONSTANT:
                a[dep] = rates[dep]
            elif shape == _KIND_DIMER:
                n = float(x[first[dep]])
                a[dep] = rates[dep] * (0.5 * n * (n - 1.0))
            else:
                a[dep] = _propensity(np.int64(dep), x, rates, r_sp, r_ord)
        t = t_next
        n_events += 1
    g = _record(out, t_grid, g, np.inf, x)
    return n_events, t


@njit(cache=True)
def _next_reaction(x, t_end, t_grid, out, rates, r_sp, r_ord, c_ptr, c_idx, c_val, d_ptr, d_idx, max_events, seed):
    n_r = rates.size
    a = np.empty(n_r)
    fire_at = np.empty(n_r)
    s0, s1, s2, s3 = _rng_seed(seed)
    for j in range(n_r):
        a[j] = _propensity(j, x, rates, r_sp, r_ord)
        e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
        fire_at[j] = e / a[j] if a[j] > 0.0 else np.inf
    heap = np.empty(n_r, dtype=np.int64)
    pos = np.empty(n_r, dtype=np.int64)
    heap_build(fire_at, heap, pos)
    t = 0.0
    g = 0
    t_record = _next_grid_time(t_grid, 0)
    n_events = 0
    while n_events < max_events:
        mu = heap[0]
        t_next = fire_at[mu]
        if t_next == np.inf:  # every channel is closed: absorbing state
            break
        if t_next > t_end:
            t = t_end
            break
        if t_next > t_record:
            g = _record(out, t_grid, g, t_next, x)
            t_record = _next_grid_time(t_grid, g)
        t = t_next
        _fire(mu, x, c_ptr, c_idx, c_val, 1)
        n_events += 1
        # The channel that fired needs a fresh waiting time whether or not its propensity moved.
        a[mu] = _propensity(mu, x, rates, r_sp, r_ord)
        e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
        fire_at[mu] = t + e / a[mu] if a[mu] > 0.0 else np.inf
        heap_update(fire_at, heap, pos, mu)
        for k in range(d_ptr[mu], d_ptr[mu + 1]):
            dep = d_idx[k]
            if dep == mu:
                continue
            a_new = _propensity(dep, x, rates, r_sp, r_ord)
            a_old = a[dep]
            if a_new == a_old:
                continue
            if a_new <= 0.0:
                fire_at[dep] = np.inf
            elif a_old > 0.0:
                # Gibson–Bruck: rescale the unused part of the old exponential instead of drawing anew.
                fire_at[dep] = t + (a_old / a_new) * (fire_at[dep] - t)
            else:
                # Memorylessness makes a fresh draw exact for a channel that was closed.
                e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
                fire_at[dep] = t + e / a_new
            a[dep] = a_new
            heap_update(fire_at, heap, pos, dep)
    g = _record(out, t_grid, g, np.inf, x)
    return n_events, t


@njit(cache=True)
def _g_factor(order, needed, n):
    # Cao, Gillespie & Petzold (2006) eq. 27: how fast a reactant's propensity can change relative to x_i.
    if order <= 1:
        return 1.0
    m1 = max(n - 1.0, 1.0)
    if order == 2:
        return 2.0 if needed == 1 else 2.0 + 1.0 / m1
    if needed == 1:
        return 3.0
    if needed == 2:
        return 1.5 * (2.0 + 1.0 / m1)
    return 3.0 + 1.0 / m1 + 2.0 / max(n - 2.0, 1.0)


@njit(cache=True)
def _tau_leap(
    x,
    t_end,
    t_grid,
    out,
    rates,
    r_sp,
    r_ord,
    c_ptr,
    c_idx,
    c_val,
    order,
    epsilon,
    n_critical,
    max_events,
):
    n_r = rates.size
    n_s = x.size  # includes the padding species, which no reaction changes
    a = np.empty(n_r)
    critical = np.zeros(n_r, dtype=np.bool_)
    mu_i = np.zeros(n_s)
    sigma2_i = np.zeros(n_s)
    g_i = np.zeros(n_s)
    is_reactant = np.zeros(n_s, dtype=np.bool_)
    for j in range(n_r):
        for slot in range(MAX_ORDER):
            if r_ord[j, slot] > 0:
                is_reactant[r_sp[j, slot]] = True
    trial = np.empty(n_s, dtype=np.int64)
    t = 0.0
    g = 0
    n_events = 0
    n_steps = 0
    halved_tau = -1.0  # after a rejected leap: retry with half the step
    while n_events < max_events:
        # Grid times up to now see the current state (a leap lands exactly on a grid time).
        while g < t_grid.size and t_grid[g] <= t:
            out[g, :] = x[: out.shape[1]]
            g += 1
        if t >= t_end:
            break
        a0 = 0.0
        for j in range(n_r):
            a[j] = _propensity(j, x, rates, r_sp, r_ord)
            a0 += a[j]
        if a0 <= 0.0:
            break
        # Critical channels: within n_critical firings of exhausting a reactant.
        for j in range(n_r):
            critical[j] = False
            if a[j] > 0.0:
                room = np.int64(1) << 62
                for k in range(c_ptr[j], c_ptr[j + 1]):
                    if c_val[k] < 0:
                        room = min(room, x[c_idx[k]] // (-c_val[k]))
                critical[j] = room < n_critical
        if halved_tau > 0.0:
            tau_prime = halved_tau
            halved_tau = -1.0
        else:
            for i in range(n_s):
                mu_i[i] = 0.0
                sigma2_i[i] = 0.0
                g_i[i] = 0.0
            for j in range(n_r):
                for slot in range(MAX_ORDER):
                    i = r_sp[j, slot]
                    if r_ord[j, slot] > 0:
                        g_i[i] = max(g_i[i], _g_factor(order[j], r_ord[j, slot], float(x[i])))
                if a[j] > 0.0 and not critical[j]:
                    for k in range(c_ptr[j], c_ptr[j + 1]):
                        v = float(c_val[k])
                        mu_i[c_idx[k]] += v * a[j]
                        sigma2_i[c_idx[k]] += v * v * a[j]
            # Cao et al. (2006) eq. 33: bound the expected and the standard change of every reactant.
            tau_prime = np.inf
            for i in range(n_s):
                if not is_reactant[i]:
                    continue
                bound = max(epsilon * x[i] / g_i[i], 1.0)
                if mu_i[i] != 0.0:
                    tau_prime = min(tau_prime, bound / abs(mu_i[i]))
                if sigma2_i[i] > 0.0:
                    tau_prime = min(tau_prime, bound * bound / sigma2_i[i])
        if tau_prime < 10.0 / a0:
            # Leaping would not pay: take up to 100 exact direct-method steps.
            for _ in range(100):
                t_next = t + _exponential(a0)
                if t_next > t_end:
                    t = t_end
                    break
                g = _record(out, t_grid, g, t_next, x)
                mu = _pick(a, a0, n_r)
                _fire(mu, x, c_ptr, c_idx, c_val, 1)
                t = t_next
                n_events += 1
                n_steps += 1
                a0 = 0.0
                for j in range(n_r):
                    a[j] = _propensity(j, x, rates, r_sp, r_ord)
                    a0 += a[j]
                if a0 <= 0.0 or n_events >= max_events:
                    break
            continue
        a0_critical = 0.0
        for j in range(n_r):
            if critical[j]:
                a0_critical += a[j]
        tau_critical = _exponential(a0_critical) if a0_critical > 0.0 else np.inf
        # Never leap over a grid time or t_end: land on it so the record there is exact in time.
        horizon = t_end
        if g < t_grid.size and t_grid[g] < horizon:
            horizon = t_grid[g]
        fire_critical = tau_critical < tau_prime
        tau = tau_critical if fire_critical else tau_prime
        if t + tau >= horizon:
            tau = horizon - t
            fire_critical = False
        for i in range(n_s):
            trial[i] = x[i]
        fired = 0
        for j in range(n_r):
            if a[j] > 0.0 and not critical[j]:
                count = np.random.poisson(a[j] * tau)
                if count > 0:
                    _fire(j, trial, c_ptr, c_idx, c_val, count)
                    fired += count
        if fire_critical:
            target = np.random.random() * a0_critical
            mu = -1
            acc = 0.0
            for j in range(n_r):
                if critical[j]:
                    mu = j
                    acc += a[j]
                    if acc > target:
                        break
            _fire(mu, trial, c_ptr, c_idx, c_val, 1)
            fired += 1
        negative = False
        for i in range(n_s):
            if trial[i] < 0:
                negative = True
        if negative:
            halved_tau = 0.5 * tau_prime
            continue
        for i in range(n_s):
            x[i] = trial[i]
        t = t + tau if t + tau < horizon else horizon
        n_events += fired
        n_steps += 1
    g = _record(out, t_grid, g, np.inf, x)
    return n_events, n_steps, t


@njit(cache=True)
def _run_one(
    method,
    x,
    t_grid,
    t_end,
    seed,
    rates,
    r_sp,
    r_ord,
    c_ptr,
    c_idx,
    c_val,
    d_ptr,
    d_idx,
    order,
    epsilon,
    n_critical,
    max_events,
    out,
):
    # Every replicate seeds its own generator, so results do not depend on thread scheduling.
    if method == 0:
        n_events, t = _direct(
            x, t_end, t_grid, out, rates, r_sp, r_ord, c_ptr, c_idx, c_val, d_ptr, d_idx, max_events, seed
        )
        return n_events, n_events, t
    if method == 1:
        n_events, t = _next_reaction(
            x, t_end, t_grid, out, rates, r_sp, r_ord, c_ptr, c_idx, c_val, d_ptr, d_idx, max_events, seed
        )
        return n_events, n_events, t
    # Numba keeps one np.random generator per thread; tau-leaping needs its Poisson draws.
    np.random.seed(seed)
    return _tau_leap(
        x,
        t_end,
        t_grid,
        out,
        rates,
        r_sp,
        r_ord,
        c_ptr,
        c_idx,
        c_val,
        order,
        epsilon,
        n_critical,
        max_events,
    )


@njit(cache=True, parallel=True)
def _run_batch_parallel(
    method,
    x0,
    t_grid,
    t_end,
    seeds,
    rates,
    r_sp,
    r_ord,
    c_ptr,
    c_idx,
    c_val,
    d_ptr,
    d_idx,
    order,
    epsilon,
    n_critical,
    max_events,
    counts,
    final_counts,
    final_time,
    events,
    steps,
):
    for r in prange(seeds.size):
        x = np.ones(x0.size + 1, dtype=np.int64)  # the last entry is the padding species (always 1)
        x[: x0.size] = x0
        n_events, n_steps, t = _run_one(
            method,
            x,
            t_grid,
            t_end,
            seeds[r],
            rates,
            r_sp,
            r_ord,
            c_ptr,
            c_idx,
            c_val,
            d_ptr,
            d_idx,
            order,
            epsilon,
            n_critical,
            max_events,
            counts[r],
        )
        final_counts[r, :] = x[: x0.size]
        final_time[r] = t
        events[r] = n_events
        steps[r] = n_steps


@njit(cache=True)
def _run_batch_serial(
    method,
    x0,
    t_grid,
    t_end,
    seeds,
    rates,
    r_sp,
    r_ord,
    c_ptr,
    c_idx,
    c_val,
    d_ptr,
    d_idx,
    order,
    epsilon,
    n_critical,
    max_events,
    counts,
    final_counts,
    final_time,
    events,
    steps,
):
    for r in range(seeds.size):
        x = np.ones(x0.size + 1, dtype=np.int64)  # the last entry is the padding species (always 1)
        x[: x0.size] = x0
        n_events, n_steps, t = _run_one(
            method,
            x,
            t_grid,
            t_end,
            seeds[r],
            rates,
            r_sp,
            r_ord,
            c_ptr,
            c_idx,
            c_val,
            d_ptr,
            d_idx,
            order,
            epsilon,
            n_critical,
            max_events,
            counts[r],
        )
        final_counts[r, :] = x[: x0.size]
        final_time[r] = t
        events[r] = n_events
        steps[r] = n_steps
