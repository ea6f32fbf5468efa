"""Compiled kernels of the country model: exact next-subvolume simulation and tau-leaping on a lattice.

State lives only in *active* cells ("slots"), created lazily the first time an infected person or a
zombie reaches a cell; an inactive cell holds nothing but its susceptible residents (``home``).
A slot's row is ``S, B1, B2, B3, Z, H, R, 1``: susceptible, bitten in one of three turning phases,
zombie, hambie, removed, and a padding column that is always 1 (a row is then one 64-byte cache
line; `cell_reaction_model` gives the same reactions to `hyosan.classic.ssa` for checks).

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

from hyosan.classic.ssa import Reaction, ReactionModel, _g_factor, heap_build, heap_update

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
    "new_cells_bound",
    "refresh_all",
    "region_counts",
    "run_exact",
    "run_tau",
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


@njit(cache=True)
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
def _trip_destination(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf, cdf_ready, par,
                      bc_ptr, bc_cell, bc_cdf):  # fmt: skip
    """A destination cell drawn from the gravity model (-1 if the cell's block has no residents)."""
    r = cell // cols
    c = cell - r * cols
    a = ne_of_block[(r // block_cells) * nb_cols + c // block_cells]
    if a < 0:
        return -1
    n = ne_pop.size
    if not cdf_ready[a]:
        acc = 0.0
        gamma = par[P_GAMMA]
        d_min = par[P_DMIN]
        for b in range(n):
            d = math.sqrt((ne_x[a] - ne_x[b]) ** 2 + (ne_y[a] - ne_y[b]) ** 2)
            acc += ne_pop[b] / max(d, d_min) ** gamma
            cdf[a, b] = acc
        cdf_ready[a] = 1
    row = cdf[a]
    b = _search(row, 0, n, np.random.random() * row[n - 1])
    # bc_cdf restarts at every block: the cumulative residents of the block's cells.
    lo, hi = bc_ptr[b], bc_ptr[b + 1]
    return bc_cell[_search(bc_cdf, lo, hi, np.random.random() * bc_cdf[hi - 1])]


@njit(cache=True)
def _refresh(k, t, state, cell_of_slot, times, heap, pos, chan, par, cordon_of, cordon_army):
    """Fresh channel rates and event time for the cell in slot k (exact: waiting times are memoryless).

    The rates are kept in ``chan[k]`` (bite, hambie bite, kill, turn by phase, walk, trip) so the
    event that fires next in this cell need not compute them again.
    """
    army = _army(cell_of_slot[k], cordon_of, cordon_army)
    s = float(state[k, S])
    z = float(state[k, Z])
    h = float(state[k, H])
    n1, n2, n3 = state[k, B1], state[k, B2], state[k, B3]
    b = float(n1 + n2 + n3)
    d = s + b + z + h + float(state[k, R]) + par[P_KHALF]
    if s > 0.0:
        chan[k, 0] = par[P_BETA] * s * z / d
        chan[k, 1] = par[P_BETA_H] * s * h / d
        chan[k, 2] = par[P_KAPPA] * army * s * z / d
    else:
        chan[k, 0] = 0.0
        chan[k, 1] = 0.0
        chan[k, 2] = 0.0
    chan[k, 3] = par[P_LAM1] * n1
    chan[k, 4] = par[P_LAM2] * n2
    chan[k, 5] = par[P_LAM3] * n3
    chan[k, 6] = par[P_HOP] * z
    chan[k, 7] = par[P_TRIP] * b
    rate = chan[k, 0] + chan[k, 1] + chan[k, 2] + chan[k, 3] + chan[k, 4] + chan[k, 5] + chan[k, 6] + chan[k, 7]
    times[k] = t + _exp(rate) if rate > 0.0 else np.inf
    heap_update(times, heap, pos, k)


# --- exact: next-subvolume method ----------------------------------------------------------------------


@njit(cache=True)
def run_exact(t, t_stop, seed, state, cell_of_slot, slot_of, home, times, heap, pos, chan, counters, par, rows, cols,
              cordon_of, cordon_active, cordon_leak, cordon_army, block_cells, nb_cols, ne_of_block, ne_x, ne_y,
              ne_pop, cdf, cdf_ready, bc_ptr, bc_cell, bc_cdf, breach_t, breach_i, max_events):  # fmt: skip
    """Fire events in time order until t_stop; returns (status, time reached).

    The heap spans every slot of the arrays; slots not yet in use wait at time infinity, so a cell
    that becomes active only needs its time set. Status 0: reached t_stop (or fired max_events);
    1: the slot arrays are (nearly) full, grow them and call again; 2: nothing can happen any more.
    ``seed`` >= 0 reseeds the generator first.
    """
    if seed >= 0:
        np.random.seed(seed)
    capacity = cell_of_slot.size
    fired = 0
    while True:
        if counters[C_ACTIVE] + 2 > capacity:
            return STATUS_FULL, t
        k = heap[0]
        t_next = times[k]
        if t_next == np.inf:
            return STATUS_QUIET, t_stop
        if t_next > t_stop:
            return STATUS_DONE, t_stop
        if fired >= max_events:
            return STATUS_DONE, t
        t = t_next
        fired += 1
        cell = cell_of_slot[k]
        a_bite = chan[k, 0]
        a_hbite = chan[k, 1]
        a_t1 = chan[k, 3]
        a_t2 = chan[k, 4]
        a_t3 = chan[k, 5]
        a_walk = chan[k, 6]
        a_trip = chan[k, 7]
        a_react = a_bite + a_hbite + chan[k, 2]
        a_turn = a_t1 + a_t2 + a_t3
        n1, n2, n3 = state[k, B1], state[k, B2], state[k, B3]
        b = float(n1 + n2 + n3)
        u = np.random.random() * (a_react + a_turn + a_walk + a_trip)
        other = -1
        if u < a_bite + a_hbite:
            state[k, S] -= 1
            state[k, _bite_phase(par)] += 1
            counters[C_BITES if u < a_bite else C_HBITES] += 1
        elif u < a_react:
            state[k, Z] -= 1
            state[k, R] += 1
            counters[C_KILLS] += 1
        elif u < a_react + a_turn:
            v = u - a_react
            phase = B1 if v < a_t1 else (B2 if v < a_t1 + a_t2 else B3)
            if state[k, phase] == 0:  # rounding at a boundary: take a phase that has people
                phase = B1 if n1 > 0 else (B2 if n2 > 0 else B3)
            state[k, phase] -= 1
            if np.random.random() < par[P_HAMBIE]:
                state[k, H] += 1
                counters[C_TURN_H] += 1
            else:
                state[k, Z] += 1
                counters[C_TURN_Z] += 1
        elif u < a_react + a_turn + a_walk or a_trip == 0.0:
            dest = _neighbour(cell, int(np.random.random() * 4.0) & 3, rows, cols)
            p = 1.0
            if dest >= 0:
                p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
            if dest >= 0 and state[k, Z] > 0 and (p >= 1.0 or np.random.random() < p):
                j = _activate(dest, state, cell_of_slot, slot_of, home, counters)
                state[k, Z] -= 1
                state[j, Z] += 1
                other = j
                counters[C_WALKS] += 1
                if p < 1.0:
                    _log_breach(t, cell, dest, Z, 1, cordon_of, cordon_active, breach_t, breach_i, counters)
            else:
                counters[C_BLOCKED] += 1
        else:
            v = np.random.random() * b
            phase = B1 if v < n1 else (B2 if v < n1 + n2 else B3)
            if state[k, phase] == 0:
                phase = B1 if n1 > 0 else (B2 if n2 > 0 else B3)
            dest = _trip_destination(cell, cols, block_cells, nb_cols, ne_of_block, ne_x, ne_y, ne_pop, cdf,
                                     cdf_ready, par, bc_ptr, bc_cell, bc_cdf)  # fmt: skip
            if dest >= 0 and dest != cell:
                p = _crossing_allowed(cell, dest, cordon_of, cordon_active, cordon_leak)
                if p >= 1.0 or np.random.random() < p:
                    j = _activate(dest, state, cell_of_slot, slot_of, home, counters)
                    state[k, phase] -= 1
                    state[j, phase] += 1
                    other = j
                    counters[C_TRIPS] += 1
                    if p < 1.0:
                        _log_breach(t, cell, dest, B1, 1, cordon_of, cordon_active, breach_t, breach_i, counters)
                else:
                    counters[C_BLOCKED] += 1
        counters[C_EVENTS] += 1
        _refresh(k, t, state, cell_of_slot, times, heap, pos, chan, par, cordon_of, cordon_army)
        if other >= 0:
            _refresh(other, t, state, cell_of_slot, times, heap, pos, chan, par, cordon_of, cordon_army)


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
def refresh_all(t, seed, state, cell_of_slot, times, heap, pos, chan, counters, par, cordon_of, cordon_army):
    """Fresh rates and event times for every active cell and a rebuilt heap (after an intervention)."""
    if seed >= 0:
        np.random.seed(seed)
    n = counters[C_ACTIVE]
    times[:] = np.inf
    heap_build(times, heap, pos)  # every slot at infinity: any order is a heap
    for k in range(n):
        _refresh(k, t, state, cell_of_slot, times, heap, pos, chan, par, cordon_of, cordon_army)


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
