"""Compiled kernels of the country model: exact next-subvolume simulation and tau-leaping on a lattice.

State lives only in *active* cells ("slots"), created lazily the first time an infected person or a
zombie reaches a cell; an inactive cell holds nothing but its susceptible residents (``home``).
A slot's row is ``S, B1, B2, B3, Z, H, R, 1``: susceptible, bitten in one of three turning phases,
zombie, hambie, removed, and a padding column that is always 1 (int32: two rows share a 64-byte
cache line; `cell_reaction_model` gives the same reactions to `hyosan.classic.ssa` for checks).

Channels of one cell, with D = S + B + Z + H + R + K (K = half-saturation density x cell area):

    bite        S + Z → B_k + Z   β·S·Z/D      (phase k drawn with the phase shares)
    hambie bite S + H → B_k + H   β_h·S·H/D
    kill        S + Z → S + R     κ·a·S·Z/D    (a: the army's factor inside an active cordon)
    turn        B_k → Z or H      λ_k·B_k      (H with the hambie fraction)
    walk        Z → Z next door   μ·Z          (one of 4 neighbours; off the lattice: no move)
    trip        B_k → B_k far     ν·B          (gravity model destination)

Exact method: the next-subvolume method (Elf & Ehrenberg 2004), i.e. Gibson–Bruck's next-reaction
method with one indexed-priority-queue entry per active cell keyed by the cell's next event time.
After an event only the cells it touched get a fresh exponential time (exact by memorylessness), so
an event costs O(log active cells). Tau-leaping: within a movement step Δ every reacting cell leaps
through its own reactions with steps chosen by Cao–Gillespie–Petzold (2006) (`hyosan.classic.ssa`'s
g factors; exact steps where a leap would not pay); then walks and trips over Δ are drawn as
binomials (operator splitting).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hyosan.classic.ssa import (
    Reaction,
    ReactionModel,
    _g_factor,
    _rng_exponential,
    _rng_seed,
    _rng_uniform,
)

__all__ = [
    "B1",
    "B3",
    "COUNTER_NAMES",
    "N_COLUMNS",
    "N_SPECIES",
    "PAR",
    "SPECIES",
    "H",
    "R",
    "S",
    "Z",
    "activate_cells",
    "cell_reaction_model",
    "grid_counts",
    "heap_build",
    "new_cells_bound",
    "refresh_all",
    "region_counts",
    "run_exact",
    "run_tau",
    "slot_times",
]

SPECIES = ("S", "B1", "B2", "B3", "Z", "H", "R")
S, B1, B2, B3, Z, H, R = range(7)
N_SPECIES = 7
N_COLUMNS = 8  # plus the padding column

# Indices of the parameter vector handed to the kernels.
PAR = {
    name: i
    for i, name in enumerate(
        (
            "beta",
            "beta_h",
            "kappa",
            "lam1",
            "lam2",
            "lam3",
            "share1",
            "share2",
            "share3",
            "p_hambie",
            "hop",
            "trip",
            "k_half",
            "gamma",
            "d_min",
        )
    )
}
(
    P_BETA,
    P_BETA_H,
    P_KAPPA,
    P_LAM1,
    P_LAM2,
    P_LAM3,
    P_SHARE1,
    P_SHARE2,
    P_SHARE3,
    P_HAMBIE,
    P_HOP,
    P_TRIP,
    P_KHALF,
    P_GAMMA,
    P_DMIN,
) = range(len(PAR))

# counters[0] is the number of active slots; the rest count what happened.
COUNTER_NAMES = (
    "active",
    "bites",
    "hambie_bites",
    "kills",
    "turned_zombie",
    "turned_hambie",
    "walks",
    "trips",
    "blocked",
    "breaches",
    "events",
)
(
    C_ACTIVE,
    C_BITES,
    C_HBITES,
    C_KILLS,
    C_TURN_Z,
    C_TURN_H,
    C_WALKS,
    C_TRIPS,
    C_BLOCKED,
    C_BREACHES,
    C_EVENTS,
) = range(len(COUNTER_NAMES))

STATUS_DONE, STATUS_FULL, STATUS_QUIET = 0, 1, 2


def cell_reaction_model(par: np.ndarray, normaliser: float, army: float = 1.0) -> ReactionModel:
    """The reactions inside one closed cell as a `ReactionModel` of `hyosan.classic.ssa`.

    In a cell nobody enters or leaves, D = S + B + Z + H + R + K is constant, so the cell's channels
    are plain mass action with rates divided by D (`normaliser`): the classic engine can simulate the
    same system, which the tests use as an independent check of the country kernels.
    """
    phases = ("B1", "B2", "B3")
    share = par[P_SHARE1 : P_SHARE1 + 3]
    lam = par[P_LAM1 : P_LAM1 + 3]
    d = float(normaliser)
    reactions = [
        Reaction(f"bite{k}", {"S": 1, "Z": 1}, {b: 1, "Z": 1}, par[P_BETA] * share[k] / d) for k, b in enumerate(phases)
    ]
    reactions += [
        Reaction(f"hambie bite{k}", {"S": 1, "H": 1}, {b: 1, "H": 1}, par[P_BETA_H] * share[k] / d)
        for k, b in enumerate(phases)
    ]
    reactions.append(Reaction("kill", {"S": 1, "Z": 1}, {"S": 1, "R": 1}, par[P_KAPPA] * army / d))
    reactions += [Reaction(f"turn{k}", {b: 1}, {"Z": 1}, lam[k] * (1.0 - par[P_HAMBIE])) for k, b in enumerate(phases)]
    reactions += [Reaction(f"hambie{k}", {b: 1}, {"H": 1}, lam[k] * par[P_HAMBIE]) for k, b in enumerate(phases)]
    return ReactionModel.from_reactions(SPECIES, reactions)


# --- shared pieces ---------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _exp(rate):
    return -math.log(1.0 - np.random.random()) / rate


@njit(cache=True, inline="always")
def _army(cell, cordon_of, cordon_army):
    cid = cordon_of[cell]
    return cordon_army[cid] if cid >= 0 else 1.0


@njit(cache=True)
def _activate(cell, state, cell_of_slot, slot_of, home, counters):
    """Slot of a cell, created from its residents if it has none (no heap work here)."""
    k = slot_of[cell]
    if k >= 0:
        return k
    k = counters[C_ACTIVE]
    counters[C_ACTIVE] = k + 1
    slot_of[cell] = k
    cell_of_slot[k] = cell
    for i in range(N_COLUMNS):
        state[k, i] = 0
    state[k, S] = home[cell]
    state[k, N_SPECIES] = 1
    home[cell] = 0
    return k


@njit(cache=True)
def _bite_phase(par):
    u = np.random.random()
    if u < par[P_SHARE1]:
        return B1
    if u < par[P_SHARE1] + par[P_SHARE2]:
        return B2
    return B3


@njit(cache=True)
def _crossing_allowed(a, b, cordon_of, cordon_active, cordon_leak):
    """Chance that a move from cell a to cell b gets through the active cordons between them."""
    ca = cordon_of[a]
    cb = cordon_of[b]
    if ca == cb:
        return 1.0
    p = 1.0
    if ca >= 0 and cordon_active[ca]:
        p *= cordon_leak[ca]
    if cb >= 0 and cordon_active[cb]:
        p *= cordon_leak[cb]
    return p


@njit(cache=True)
def _log_breach(t, a, b, kind, count, cordon_of, cordon_active, breach_t, breach_i, counters):
    ca = cordon_of[a]
    if ca >= 0 and cordon_active[ca] and cordon_of[b] != ca:
        n = counters[C_BREACHES]
        if n < breach_t.size:
            breach_t[n] = t
            breach_i[n, 0] = a
            breach_i[n, 1] = b
            breach_i[n, 2] = kind
            breach_i[n, 3] = count
        counters[C_BREACHES] = n + 1


@njit(cache=True, inline="always")
def _neighbour(cell, direction, rows, cols):
    r = cell // cols
    c = cell - r * cols
    if direction == 0:
        r -= 1
    elif direction == 1:
        r += 1
    elif direction == 2:
        c -= 1
    else:
        c += 1
    if r < 0 or r >= rows or c < 0 or c >= cols:
        return -1
    return r * cols + c


@njit(cache=True)
def _search(cdf, lo, hi, u):
    """Smallest index i in [lo, hi) with cdf[i] > u (hi - 1 if none): cdf is non-decreasing."""
    hi -= 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _trip_block(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready, par):
    """Gravity-model row of the cell's block, its CDF built on first use (-1 if the block has no residents)."""
    r = cell // cols
    c = cell - r * cols
    a = ne_of_block[(r // block_cells) * nb_cols + c // block_cells]
    if a < 0:
        return -1
    if not cdf_ready[a]:
        acc = 0.0
        gamma = par[P_GAMMA]
        d_min = par[P_DMIN]
        for b in range(ne_pop.size):
            d = math.sqrt((ne_x[a] - ne_x[b]) ** 2 + (ne_y[a] - ne_y[b]) ** 2)
            acc += ne_pop[b] / max(d, d_min) ** gamma
            cdf[a, b] = acc
        cdf_ready[a] = 1
    return a


@njit(cache=True)
def _trip_cell(a, u1, u2, cdf, bc_ptr, bc_cell, bc_cdf):
    """Destination cell of a trip from block row a, by inversion of two uniforms (block, then cell)."""
    row = cdf[a]
    n = row.size
    b = _search(row, 0, n, u1 * row[n - 1])
    # bc_cdf restarts at every block: the cumulative residents of the block's cells.
    lo, hi = bc_ptr[b], bc_ptr[b + 1]
    return bc_cell[_search(bc_cdf, lo, hi, u2 * bc_cdf[hi - 1])]


@njit(cache=True)
def _trip_destination(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready, par,
                      bc_ptr, bc_cell, bc_cdf):  # fmt: skip
    """A destination cell drawn from the gravity model with np.random (-1 if the cell's block has no residents)."""
    a = _trip_block(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready, par)
    if a < 0:
        return -1
    u1 = np.random.random()
    u2 = np.random.random()
    return _trip_cell(a, u1, u2, cdf, bc_ptr, bc_cell, bc_cdf)


# --- exact: next-subvolume method ----------------------------------------------------------------------
#
# The queue is an indexed 4-ary min-heap with the keys inline: heap_t[i] is the next event time of the
# cell in slot heap[i], pos[slot] its place. Inline keys spare a sift the indirect times[heap[c]] load
# per child, and four children share one or two cache lines, so a sift through a million cells misses
# the cache about half as often as in a binary heap with separate times.


@njit(cache=True, inline="always")
def _heap_down(heap_t, heap, pos, i, key, slot):
    n = heap_t.size
    while True:
        c = 4 * i + 1
        if c >= n:
            break
        if c + 4 <= n:
            # A tournament of selects (no branches to mispredict): two pairs, then their winners.
            k0 = heap_t[c]
            k1 = heap_t[c + 1]
            k2 = heap_t[c + 2]
            k3 = heap_t[c + 3]
            m01 = c + 1 if k1 < k0 else c
            k01 = min(k0, k1)
            m23 = c + 3 if k3 < k2 else c + 2
            k23 = min(k2, k3)
            m = m23 if k23 < k01 else m01
            km = min(k01, k23)
        else:
            m = c
            km = heap_t[c]
            for q in range(c + 1, n):
                if heap_t[q] < km:
                    m, km = q, heap_t[q]
        if km >= key:
            break
        heap_t[i] = km
        moved = heap[m]
        heap[i] = moved
        pos[moved] = i
        i = m
    heap_t[i] = key
    heap[i] = slot
    pos[slot] = i


@njit(cache=True, inline="always")
def _heap_up(heap_t, heap, pos, i, key, slot):
    while i > 0:
        parent = (i - 1) >> 2
        kp = heap_t[parent]
        if kp <= key:
            break
        heap_t[i] = kp
        moved = heap[parent]
        heap[i] = moved
        pos[moved] = i
        i = parent
    heap_t[i] = key
    heap[i] = slot
    pos[slot] = i


@njit(cache=True, inline="always")
def _heap_set(heap_t, heap, pos, slot, key):
    i = pos[slot]
    if i > 0 and heap_t[(i - 1) >> 2] > key:
        _heap_up(heap_t, heap, pos, i, key, slot)
    else:
        _heap_down(heap_t, heap, pos, i, key, slot)


@njit(cache=True)
def heap_build(slot_times, heap_t, heap, pos):
    """The 4-ary heap over every slot from each slot's next event time (Floyd's bottom-up build)."""
    n = heap_t.size
    for j in range(n):
        heap_t[j] = slot_times[j] if j < slot_times.size else np.inf
        heap[j] = j
        pos[j] = j
    for i in range((n - 2) // 4, -1, -1):
        _heap_down(heap_t, heap, pos, i, heap_t[i], heap[i])


@njit(cache=True)
def slot_times(heap_t, pos, n):
    """Next event time of each of the first n slots (inverse of `heap_build`)."""
    out = np.empty(n)
    for k in range(n):
        out[k] = heap_t[pos[k]]
    return out


@njit(cache=True, inline="always")
def _inverse_size(s, b, z, h, r, k_half):
    """1 / D, the normaliser of a cell's pair channels (0 for an empty cell, which has none)."""
    d = s + b + z + h + r + k_half
    return 1.0 / d if d > 0.0 else 0.0


@njit(cache=True, inline="always")
def _cell_rates(s, b1, b2, b3, z, h, inv_d, beta, beta_h, kappa_a, lam1, lam2, lam3, hop, trip):
    """The 8 channel rates of one cell and their sum, from its counts (floats) and 1 / D.

    D is the same before and after a bite, a kill or a turn (they only relabel people), so a cell
    that fires several of those in a row divides once.
    """
    f = s * inv_d
    a_bite = beta * f * z
    a_hbite = beta_h * f * h
    a_kill = kappa_a * f * z
    a_t1 = lam1 * b1
    a_t2 = lam2 * b2
    a_t3 = lam3 * b3
    a_walk = hop * z
    a_trip = trip * (b1 + b2 + b3)
    a0 = a_bite + a_hbite + a_kill + a_t1 + a_t2 + a_t3 + a_walk + a_trip
    return a_bite, a_hbite, a_kill, a_t1, a_t2, a_t3, a_walk, a_trip, a0


@njit(cache=True, inline="always")
def _slot_rate(state, j, army, par):
    s, z, h = float(state[j, S]), float(state[j, Z]), float(state[j, H])
    b1, b2, b3 = float(state[j, B1]), float(state[j, B2]), float(state[j, B3])
    inv_d = _inverse_size(s, b1 + b2 + b3, z, h, float(state[j, R]), par[P_KHALF])
    return _cell_rates(
        s, b1, b2, b3, z, h, inv_d, par[P_BETA], par[P_BETA_H], par[P_KAPPA] * army, par[P_LAM1], par[P_LAM2],
        par[P_LAM3], par[P_HOP], par[P_TRIP],
    )[8]  # fmt: skip


@njit(cache=True, inline="always")
def _phase(v, c1, c2, b1, b2, b3):
    """Phase whose share [0, c1), [c1, c2), [c2, ...) holds v, never an empty one (rounding at a boundary)."""
    if (v < c1 or b2 + b3 == 0.0) and b1 > 0.0:
        return B1
    if (v < c2 or b3 == 0.0) and b2 > 0.0:
        return B2
    return B3


@njit(cache=True)
def run_exact(t, t_stop, seed, rng, state, cell_of_slot, slot_of, home, heap_t, heap, pos, counters, par, rows, cols,
              cordon_of, cordon_active, cordon_leak, cordon_army, block_cells, nb_cols, ne_of_block, ne_x, ne_y,
              ne_pop, cdf, cdf_ready, bc_ptr, bc_cell, bc_cdf, breach_t, breach_i, max_events):  # fmt: skip
    """Fire events in time order until t_stop; returns (status, time reached).

    The heap spans every slot of the arrays; slots not yet in use wait at time infinity, so a cell
    that becomes active only needs its time set. Status 0: reached t_stop (or fired max_events);
    1: the slot arrays are (nearly) full, grow them and call again; 2: nothing can happen any more.
    ``seed`` >= 0 reseeds the generator (xoshiro256++, state in ``rng``) first; otherwise the run goes
    on with the state ``rng`` holds, and leaves its state there.

    The cell at the top keeps firing in registers while its next event still comes before every
    other cell's (the heap root's children): the heap is the same, only untouched in between.
    """
    if seed >= 0:
        s0, s1, s2, s3 = _rng_seed(seed)
    else:
        s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    capacity = cell_of_slot.size
    n_heap = heap_t.size
    beta, beta_h, kappa = par[P_BETA], par[P_BETA_H], par[P_KAPPA]
    lam1, lam2, lam3 = par[P_LAM1], par[P_LAM2], par[P_LAM3]
    hop, trip, k_half = par[P_HOP], par[P_TRIP], par[P_KHALF]
    p_h = par[P_HAMBIE]
    share1 = par[P_SHARE1]
    share12 = par[P_SHARE1] + par[P_SHARE2]
    # Without an active cordon or army every cell has the same rates and every crossing is free:
    # skip the per-cell lookups into the lattice-sized cordon map.
    cordons_on = False
    army_on = False
    for i in range(cordon_active.size):
        cordons_on = cordons_on or cordon_active[i] != 0
        army_on = army_on or cordon_army[i] != 1.0
    n_bites = n_hbites = n_kills = n_turn_z = n_turn_h = n_walks = n_trips = n_blocked = 0
    fired = 0
    status = STATUS_DONE
    while True:
        if counters[C_ACTIVE] + 2 > capacity:
            status = STATUS_FULL
            break
        t_next = heap_t[0]
        if t_next == np.inf:
            status = STATUS_QUIET
            t = t_stop
            break
        if t_next > t_stop:
            t = t_stop
            break
        if fired >= max_events:
            break
        t = t_next
        k = heap[0]
        cell = cell_of_slot[k]
        army = 1.0
        if army_on and cordon_of[cell] >= 0:
            army = cordon_army[cordon_of[cell]]
        kappa_a = kappa * army
        # The earliest other cell: the smallest of the root's children.
        t_other = np.inf
        for q in range(1, min(5, n_heap)):
            if heap_t[q] < t_other:
                t_other = heap_t[q]
        s = float(state[k, S])
        b1 = float(state[k, B1])
        b2 = float(state[k, B2])
        b3 = float(state[k, B3])
        z = float(state[k, Z])
        h = float(state[k, H])
        r = float(state[k, R])
        inv_d = _inverse_size(s, b1 + b2 + b3, z, h, r, k_half)
        a_bite, a_hbite, a_kill, a_t1, a_t2, a_t3, a_walk, a_trip, a0 = _cell_rates(
            s, b1, b2, b3, z, h, inv_d, beta, beta_h, kappa_a, lam1, lam2, lam3, hop, trip
        )
        other = -1
        while True:
            fired += 1
            u, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
            u *= a0
            a_react = a_bite + a_hbite + a_kill
            a_turn = a_t1 + a_t2 + a_t3
            if u < a_bite + a_hbite:
                s -= 1.0
                v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                if v < share1:
                    b1 += 1.0
                elif v < share12:
                    b2 += 1.0
                else:
                    b3 += 1.0
                if u < a_bite:
                    n_bites += 1
                else:
                    n_hbites += 1
            elif u < a_react:
                z -= 1.0
                r += 1.0
                n_kills += 1
            elif u < a_react + a_turn:
                phase = _phase(u - a_react, a_t1, a_t1 + a_t2, b1, b2, b3)
                if phase == B1:
                    b1 -= 1.0
                elif phase == B2:
                    b2 -= 1.0
                else:
                    b3 -= 1.0
                v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                if v < p_h:
                    h += 1.0
                    n_turn_h += 1
                else:
                    z += 1.0
                    n_turn_z += 1
            elif u < a_react + a_turn + a_walk or a_trip == 0.0:
                v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                dest = _neighbour(cell, int(v * 4.0) & 3, rows, cols)
                p = 1.0
                if dest >= 0 and cordons_on:
                    p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
                    if p < 1.0:
                        v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                        if v >= p:
                            dest = -1
                if dest >= 0 and z > 0.0:
                    other = slot_of[dest]
                    if other < 0:
                        other = _activate(dest, state, cell_of_slot, slot_of, home, counters)
                    z -= 1.0
                    state[other, Z] += 1
                    n_walks += 1
                    if p < 1.0:
                        _log_breach(t, cell, dest, Z, 1, cordon_of, cordon_active, breach_t, breach_i, counters)
                else:
                    n_blocked += 1
            else:
                v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                v *= b1 + b2 + b3
                phase = _phase(v, b1, b1 + b2, b1, b2, b3)
                dest = -1
                row = _trip_block(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready,
                                  par)  # fmt: skip
                if row >= 0:
                    v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                    w, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                    dest = _trip_cell(row, v, w, cdf, bc_ptr, bc_cell, bc_cdf)
                if dest >= 0 and dest != cell:
                    p = 1.0
                    if cordons_on:
                        p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
                        if p < 1.0:
                            v, s0, s1, s2, s3 = _rng_uniform(s0, s1, s2, s3)
                            if v >= p:
                                dest = -1
                    if dest >= 0:
                        other = slot_of[dest]
                        if other < 0:
                            other = _activate(dest, state, cell_of_slot, slot_of, home, counters)
                        if phase == B1:
                            b1 -= 1.0
                        elif phase == B2:
                            b2 -= 1.0
                        else:
                            b3 -= 1.0
                        state[other, phase] += 1
                        n_trips += 1
                        if p < 1.0:
                            _log_breach(t, cell, dest, B1, 1, cordon_of, cordon_active, breach_t, breach_i, counters)
                    else:
                        n_blocked += 1
            if other >= 0:  # someone left: D changed
                inv_d = _inverse_size(s, b1 + b2 + b3, z, h, r, k_half)
            a_bite, a_hbite, a_kill, a_t1, a_t2, a_t3, a_walk, a_trip, a0 = _cell_rates(
                s, b1, b2, b3, z, h, inv_d, beta, beta_h, kappa_a, lam1, lam2, lam3, hop, trip
            )
            if a0 > 0.0:
                e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
                t_k = t + e / a0
            else:
                t_k = np.inf
            # Exact by memorylessness: the cell's next event, from its new rates, at a fresh exponential time.
            if other >= 0 or t_k >= t_other or t_k > t_stop or fired >= max_events:
                break
            t = t_k
        state[k, S] = int(s)
        state[k, B1] = int(b1)
        state[k, B2] = int(b2)
        state[k, B3] = int(b3)
        state[k, Z] = int(z)
        state[k, H] = int(h)
        state[k, R] = int(r)
        _heap_down(heap_t, heap, pos, 0, t_k, k)
        if other >= 0:
            army_j = 1.0
            if army_on and cordon_of[cell_of_slot[other]] >= 0:
                army_j = cordon_army[cordon_of[cell_of_slot[other]]]
            a_j = _slot_rate(state, other, army_j, par)
            t_j = np.inf
            if a_j > 0.0:
                e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
                t_j = t + e / a_j
            _heap_set(heap_t, heap, pos, other, t_j)
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
    counters[C_BITES] += n_bites
    counters[C_HBITES] += n_hbites
    counters[C_KILLS] += n_kills
    counters[C_TURN_Z] += n_turn_z
    counters[C_TURN_H] += n_turn_h
    counters[C_WALKS] += n_walks
    counters[C_TRIPS] += n_trips
    counters[C_BLOCKED] += n_blocked
    counters[C_EVENTS] += fired
    return status, t


@njit(cache=True)
def new_cells_bound(state, cell_of_slot, slot_of, n, rows, cols):
    """Most cells one movement step can activate: empty neighbours of zombie cells, plus one per bitten."""
    bound = 0
    for k in range(n):
        if state[k, Z] > 0:
            for direction in range(4):
                dest = _neighbour(cell_of_slot[k], direction, rows, cols)
                if dest >= 0 and slot_of[dest] < 0:
                    bound += 1
        bound += state[k, B1] + state[k, B2] + state[k, B3]
    return bound


@njit(cache=True)
def refresh_all(t, seed, rng, state, cell_of_slot, heap_t, heap, pos, counters, par, cordon_of, cordon_army):
    """Fresh event times for every active cell and a rebuilt heap (after an intervention)."""
    if seed >= 0:
        s0, s1, s2, s3 = _rng_seed(seed)
    else:
        s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    times = np.full(heap_t.size, np.inf)
    for k in range(counters[C_ACTIVE]):
        cid = cordon_of[cell_of_slot[k]]
        rate = _slot_rate(state, k, cordon_army[cid] if cid >= 0 else 1.0, par)
        if rate > 0.0:
            e, s0, s1, s2, s3 = _rng_exponential(s0, s1, s2, s3)
            times[k] = t + e / rate
    heap_build(times, heap_t, heap, pos)
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3


@njit(cache=True)
def activate_cells(cells, state, cell_of_slot, slot_of, home, counters):
    """Slots for a list of cells (created as needed); returns the slot of each, or -1 when out of room."""
    out = np.full(cells.size, -1, dtype=np.int64)
    capacity = cell_of_slot.size
    for i in range(cells.size):
        if slot_of[cells[i]] < 0 and counters[C_ACTIVE] >= capacity:
            return out
        out[i] = _activate(cells[i], state, cell_of_slot, slot_of, home, counters)
    return out


# --- tau-leaping ------------------------------------------------------------------------------------


@njit(cache=True)
def _leap_cell(x, dt, par, army, epsilon, counters):
    """Advance one cell's reactions by dt days: CGP-selected binomial leaps, exact steps when leaps would be short.

    A leap of length τ draws who is bitten (each susceptible with the chance of a bite in τ, a
    binomial) and how many zombies are destroyed (Poisson, capped by the zombies there), with the
    rates taken at Gillespie's estimated midpoint of the leap (second-order in τ), so no count goes negative.
    Turning is linear, so it is integrated exactly: each bitten person present turns within τ with
    chance 1 − e^{−λτ}, and each one bitten during the leap (at a uniform time in it) with chance
    1 − (1 − e^{−λτ})/(λτ). τ comes from Cao, Gillespie & Petzold (2006) eq. 33 over the species the
    second-order channels read (S, Z, H; the g factors are ssa's); where a leap would hold fewer than
    ten of those events, the cell takes exact steps instead.
    """
    t = 0.0
    k_half = par[P_KHALF]
    beta, beta_h, kappa = par[P_BETA], par[P_BETA_H], par[P_KAPPA] * army
    p_h = par[P_HAMBIE]
    while t < dt:
        s = float(x[S])
        z = float(x[Z])
        h = float(x[H])
        d = s + float(x[B1] + x[B2] + x[B3]) + z + h + float(x[R]) + k_half
        force_z = beta * z / d if d > 0.0 else 0.0
        force_h = beta_h * h / d if d > 0.0 else 0.0
        a_inf = (force_z + force_h) * s
        a_kill = kappa * s * z / d if d > 0.0 else 0.0
        a_t1 = par[P_LAM1] * x[B1]
        a_t2 = par[P_LAM2] * x[B2]
        a_t3 = par[P_LAM3] * x[B3]
        a_turn = a_t1 + a_t2 + a_t3
        a_pair = a_inf + a_kill
        if a_pair + a_turn <= 0.0:
            return
        # Cao–Gillespie–Petzold bound on the expected and the standard change of S, Z and H.
        tau = np.inf
        for i in (S, Z, H):
            if i == S:
                mu, var, g, xi = -a_inf, a_inf, _g_factor(2, 1, s), s
            elif i == Z:
                gain = a_turn * (1.0 - p_h)
                mu, var, g, xi = gain - a_kill, gain + a_kill, _g_factor(2, 1, z), z
            else:
                mu, var, g, xi = a_turn * p_h, a_turn * p_h, _g_factor(2, 1, h), h
            bound = max(epsilon * xi / g, 1.0)
            if mu != 0.0:
                tau = min(tau, bound / abs(mu))
            if var > 0.0:
                tau = min(tau, bound * bound / var)
        if a_pair > 0.0 and tau < 10.0 / a_pair:
            # Leaping would not pay: exact steps (direct method) on this cell's channels.
            a0 = a_pair + a_turn
            for _ in range(20):
                step = _exp(a0)
                if t + step > dt:
                    return
                t += step
                u = np.random.random() * a0
                if u < a_inf:
                    x[S] -= 1
                    x[_bite_phase(par)] += 1
                    counters[C_BITES if u < force_z * s else C_HBITES] += 1
                elif u < a_pair:
                    x[Z] -= 1
                    x[R] += 1
                    counters[C_KILLS] += 1
                else:
                    v = u - a_pair
                    phase = B1 if v < a_t1 else (B2 if v < a_t1 + a_t2 else B3)
                    if x[phase] == 0:
                        phase = B1 if x[B1] > 0 else (B2 if x[B2] > 0 else B3)
                    x[phase] -= 1
                    if np.random.random() < p_h:
                        x[H] += 1
                        counters[C_TURN_H] += 1
                    else:
                        x[Z] += 1
                        counters[C_TURN_Z] += 1
                counters[C_EVENTS] += 1
                s = float(x[S])
                z = float(x[Z])
                h = float(x[H])
                d = s + float(x[B1] + x[B2] + x[B3]) + z + h + float(x[R]) + k_half
                force_z = beta * z / d
                force_h = beta_h * h / d
                a_inf = (force_z + force_h) * s
                a_kill = kappa * s * z / d
                a_t1 = par[P_LAM1] * x[B1]
                a_t2 = par[P_LAM2] * x[B2]
                a_t3 = par[P_LAM3] * x[B3]
                a_turn = a_t1 + a_t2 + a_t3
                a_pair = a_inf + a_kill
                a0 = a_pair + a_turn
                if a0 <= 0.0:
                    return
            continue
        tau = min(tau, dt - t)
        # Gillespie's estimated midpoint: rates at the state the mean drift reaches halfway through
        # the leap, which removes the first-order bias of evaluating them at its start.
        half = 0.5 * tau
        s_mid = max(s - a_inf * half, 0.0)
        z_mid = max(z + (a_turn * (1.0 - p_h) - a_kill) * half, 0.0)
        h_mid = h + a_turn * p_h * half
        force_z = beta * z_mid / d
        force_h = beta_h * h_mid / d
        force = force_z + force_h
        bitten = np.random.binomial(x[S], -math.expm1(-force * tau)) if force > 0.0 and x[S] > 0 else 0
        expected_kills = kappa * s_mid * z_mid / d * tau
        killed = np.random.poisson(expected_kills) if expected_kills > 0.0 else 0
        if bitten > 0:
            by_hambie = np.random.binomial(bitten, force_h / (force_z + force_h)) if force_h > 0.0 else 0
            counters[C_BITES] += bitten - by_hambie
            counters[C_HBITES] += by_hambie
            x[S] -= bitten
        turned = 0
        left = bitten
        for phase in range(B1, B3 + 1):
            lam_tau = par[P_LAM1 + phase - B1] * tau
            done = -math.expm1(-lam_tau)  # chance that one bitten before the leap turns in it
            if x[phase] > 0:
                m = np.random.binomial(x[phase], done)
                x[phase] -= m
                turned += m
            if left > 0:  # the newly bitten: phase by the shares, some turn before the leap ends
                if phase == B3:
                    new = left
                else:
                    share = par[P_SHARE1 + phase - B1]
                    rest = 1.0 - _shares_before(par, phase)
                    new = np.random.binomial(left, min(share / rest, 1.0)) if rest > 0.0 else 0
                left -= new
                quick = np.random.binomial(new, 1.0 - done / lam_tau) if new > 0 and lam_tau > 0.0 else 0
                x[phase] += new - quick
                turned += quick
        turned_h = np.random.binomial(turned, p_h) if turned > 0 and p_h > 0.0 else 0
        killed = min(killed, x[Z] + turned - turned_h)
        x[Z] += turned - turned_h - killed
        x[R] += killed
        x[H] += turned_h
        counters[C_KILLS] += killed
        counters[C_TURN_Z] += turned - turned_h
        counters[C_TURN_H] += turned_h
        counters[C_EVENTS] += bitten + killed + turned
        t += tau


@njit(cache=True, inline="always")
def _shares_before(par, phase):
    acc = 0.0
    for i in range(B1, phase):
        acc += par[P_SHARE1 + i - B1]
    return acc


@njit(cache=True)
def run_tau(t, t_stop, seed, step, state, cell_of_slot, slot_of, home, incoming, counters, par, rows, cols,
            cordon_of, cordon_active, cordon_leak, cordon_army, block_cells, nb_cols, ne_of_block, ne_x, ne_y,
            ne_pop, cdf, cdf_ready, bc_ptr, bc_cell, bc_cdf, breach_t, breach_i, epsilon):  # fmt: skip
    """Advance by movement steps of at most `step` days until t_stop; returns (status, time reached).

    Status 1 means the slot arrays may overflow in the next step: grow them and call again.
    """
    if seed >= 0:
        np.random.seed(seed)
    capacity = cell_of_slot.size
    while t < t_stop:
        n0 = counters[C_ACTIVE]
        if n0 + new_cells_bound(state, cell_of_slot, slot_of, n0, rows, cols) + 16 > capacity:
            return STATUS_FULL, t
        dt = min(step, t_stop - t)
        # 1. Reactions inside each cell, with movement frozen.
        for k in range(n0):
            if state[k, B1] + state[k, B2] + state[k, B3] == 0 and (
                state[k, S] == 0 or (state[k, Z] == 0 and state[k, H] == 0)
            ):
                continue
            _leap_cell(state[k], dt, par, _army(cell_of_slot[k], cordon_of, cordon_army), epsilon, counters)
        # 2. Walks and trips over dt, all decided from the counts after the reactions. At most one
        # move per person per step, with chance rate x dt (not 1 - e^(-rate dt)): the mean number of
        # moves, hence the zombies' diffusion coefficient, is then exactly that of the exact process.
        p_hop = min(par[P_HOP] * dt, 1.0)
        p_trip = min(par[P_TRIP] * dt, 1.0)
        if p_hop > 0.0:
            _walk_step(t + dt, p_hop, n0, state, cell_of_slot, slot_of, home, incoming, counters, rows, cols,
                       cordon_of, cordon_active, cordon_leak, breach_t, breach_i)  # fmt: skip
        if p_trip > 0.0:
            _trip_step(t + dt, p_trip, n0, state, cell_of_slot, slot_of, home, incoming, counters, par, cols,
                       cordon_of, cordon_active, cordon_leak, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop,
                       cdf, cdf_ready, bc_ptr, bc_cell, bc_cdf, breach_t, breach_i)  # fmt: skip
        n = counters[C_ACTIVE]
        for k in range(n):
            if incoming[k, 0] or incoming[k, 1] or incoming[k, 2] or incoming[k, 3]:
                state[k, Z] += incoming[k, 0]
                for phase in range(B1, B3 + 1):
                    state[k, phase] += incoming[k, phase]
                for i in range(4):
                    incoming[k, i] = 0
        t = t + dt if t + dt < t_stop else t_stop
    return STATUS_DONE, t


@njit(cache=True)
def _walk_step(t, p_hop, n0, state, cell_of_slot, slot_of, home, incoming, counters, rows, cols, cordon_of,
               cordon_active, cordon_leak, breach_t, breach_i):  # fmt: skip
    """Every zombie steps to a random neighbour with chance p_hop; arrivals wait in `incoming`."""
    walks = 0
    blocked = 0
    table = _binomial_cdf_table(p_hop, _TABLE_N)
    for k in range(n0):
        z = state[k, Z]
        if z == 0:
            continue
        movers = _binomial(z, p_hop, table)
        if movers == 0:
            continue
        # Split the movers over the 4 directions: one draw each when they are few (cheaper than
        # three binomials), a multinomial by successive binomials when they are many.
        counts = (0, 0, 0, 0)
        if movers <= 12:
            n_up, n_down, n_left = 0, 0, 0
            for _ in range(movers):
                u = np.random.random()
                if u < 0.25:
                    n_up += 1
                elif u < 0.5:
                    n_down += 1
                elif u < 0.75:
                    n_left += 1
            counts = (n_up, n_down, n_left, movers - n_up - n_down - n_left)
        else:
            n_up = np.random.binomial(movers, 0.25)
            n_down = np.random.binomial(movers - n_up, 1.0 / 3.0)
            n_left = np.random.binomial(movers - n_up - n_down, 0.5)
            counts = (n_up, n_down, n_left, movers - n_up - n_down - n_left)
        cell = cell_of_slot[k]
        for direction in range(4):
            m = counts[direction]
            if m == 0:
                continue
            dest = _neighbour(cell, direction, rows, cols)
            if dest < 0:
                blocked += m
                continue
            p = 1.0
            if cordon_of[cell] != cordon_of[dest]:
                p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
            through = m if p >= 1.0 else np.random.binomial(m, p)
            blocked += m - through
            if through == 0:
                continue
            j = slot_of[dest]
            if j < 0:
                j = _activate(dest, state, cell_of_slot, slot_of, home, counters)
            state[k, Z] -= through
            incoming[j, 0] += through
            walks += through
            if p < 1.0:
                _log_breach(t, cell, dest, Z, through, cordon_of, cordon_active, breach_t, breach_i, counters)
    counters[C_WALKS] += walks
    counters[C_EVENTS] += walks
    counters[C_BLOCKED] += blocked


_TABLE_N = 96  # cells with up to this many zombies draw their movers from a table


@njit(cache=True)
def _binomial_cdf_table(p, n_max):
    """CDFs of Binomial(n, p) for n = 0..n_max, row n, as a (n_max + 1, n_max + 1) table."""
    table = np.ones((n_max + 1, n_max + 1))
    q = 1.0 - p
    for n in range(1, n_max + 1):
        pmf = q**n
        acc = pmf
        for k in range(n + 1):
            table[n, k] = min(acc, 1.0)
            if k < n:
                pmf *= (n - k) / (k + 1.0) * p / q if q > 0.0 else 0.0
                acc += pmf
        if q <= 0.0:
            table[n, :n] = 0.0
    return table


@njit(cache=True, inline="always")
def _binomial(n, p, table):
    """A Binomial(n, p) draw: by inversion of a precomputed CDF row for small n (numba's own is slower)."""
    if n >= table.shape[0]:
        return np.random.binomial(n, p)
    u = np.random.random()
    k = 0
    while k < n and table[n, k] <= u:
        k += 1
    return k


@njit(cache=True)
def _trip_step(t, p_trip, n0, state, cell_of_slot, slot_of, home, incoming, counters, par, cols, cordon_of,
               cordon_active, cordon_leak, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready,
               bc_ptr, bc_cell, bc_cdf, breach_t, breach_i):  # fmt: skip
    """Every bitten person sets off on a gravity-model trip with chance p_trip; arrivals wait in `incoming`."""
    for k in range(n0):
        if state[k, B1] + state[k, B2] + state[k, B3] == 0:
            continue
        cell = cell_of_slot[k]
        for phase in range(B1, B3 + 1):
            if state[k, phase] == 0:
                continue
            m = np.random.binomial(state[k, phase], p_trip)
            for _ in range(m):
                dest = _trip_destination(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf,
                                         cdf_ready, par, bc_ptr, bc_cell, bc_cdf)  # fmt: skip
                if dest < 0 or dest == cell:
                    continue
                p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
                if p < 1.0 and np.random.random() >= p:
                    counters[C_BLOCKED] += 1
                    continue
                j = _activate(dest, state, cell_of_slot, slot_of, home, counters)
                state[k, phase] -= 1
                incoming[j, phase] += 1
                counters[C_TRIPS] += 1
                counters[C_EVENTS] += 1
                if p < 1.0:
                    _log_breach(t, cell, dest, B1, 1, cordon_of, cordon_active, breach_t, breach_i, counters)


# --- reading the state -------------------------------------------------------------------------------


@njit(cache=True)
def region_counts(state, cell_of_slot, n, region_flat, home, n_regions):
    """Counts per region (rows; the last row is for cells without a region) and species (columns)."""
    out = np.zeros((n_regions + 1, N_SPECIES), dtype=np.int64)
    for cell in range(home.size):
        if home[cell] > 0:
            r = region_flat[cell]
            out[r if r >= 0 else n_regions, S] += home[cell]
    for k in range(n):
        r = region_flat[cell_of_slot[k]]
        row = r if r >= 0 else n_regions
        for i in range(N_SPECIES):
            out[row, i] += state[k, i]
    return out


@njit(cache=True)
def grid_counts(state, cell_of_slot, n, home, out):
    """Fill out (species, cells), int32, with the count of every species in every cell."""
    out[:] = 0
    for cell in range(home.size):
        out[S, cell] = home[cell]
    for k in range(n):
        cell = cell_of_slot[k]
        for i in range(N_SPECIES):
            out[i, cell] = state[k, i]
