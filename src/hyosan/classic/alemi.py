"""The fully connected SZR model of Alemi et al. (2015): mean-field ODE, its closed form, and extinction odds.

Reference: A. A. Alemi, M. Bierbaum, C. R. Myers, J. P. Sethna, "You can run, you can hide: The
epidemiology and statistical mechanics of zombies", Phys. Rev. E 92, 052801 (2015), arXiv:1503.01104.

Reactions S + Z → 2Z (bite, rate β) and S + Z → S + R (kill, rate κ), α = κ/β, well mixed (1/N).
Mean field: Ṡ = −βSZ/N, Ż = (1−α)βSZ/N, Ṙ = αβSZ/N.

Closed form (derivation in docs/classic.md). Ż = −(1−α)Ṡ, so C = Z + (1−α)S is conserved and
Ṡ = −(β/N) S (C − (1−α)S), a logistic (Bernoulli) equation. With u = 1/S it becomes linear,
u̇ = (βC/N) u − (1−α)β/N, whose solution gives, for every α (α = 1 and C = 0 included),

    S(t) = S₀ / (1 + Z₀ φ(t)),   φ(t) = (e^{βCt/N} − 1)/C = (βt/N)·exprel(βCt/N),
    Z(t) = C − (1−α) S(t),       R(t) = R₀ + α (S₀ − S(t)).

Extinction: while S ≈ N each event is a bite (Z+1) with probability p = 1/(1+α) and a kill (Z−1)
with probability q = α/(1+α): a gambler's-ruin walk that ever hits 0 from z₀ with probability
(q/p)^{z₀} = α^{z₀} if α < 1, and surely if α ≥ 1. For finite N the embedded jump chain on (S, Z)
gives the exact value (`extinction_probability(..., population=N)`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ALPHA_CRITICAL",
    "alemi_rhs",
    "closed_form",
    "extinction_probability",
    "final_state",
    "solve_ode",
    "zombies_win",
]

# Well mixed, zombies take everyone when α < 1 and die out when α > 1 (Alemi et al. 2015).
ALPHA_CRITICAL = 1.0


def alemi_rhs(t: float, y: np.ndarray, alpha: float, beta: float, population: float) -> np.ndarray:
    """Mean-field right-hand side (Ṡ, Ż, Ṙ)."""
    s, z, _ = y
    bites = beta * s * z / population
    return np.array([-bites, (1.0 - alpha) * bites, alpha * bites])


def closed_form(
    t: float | Sequence[float] | np.ndarray,
    s0: float,
    z0: float,
    r0: float = 0.0,
    *,
    alpha: float,
    beta: float = 1.0,
    population: float | None = None,
) -> np.ndarray:
    """Exact mean-field solution at times `t`: array of shape (len(t), 3) with columns S, Z, R.

    ``population`` is the N of the 1/N normalisation (default S₀ + Z₀ + R₀).
    """
    _check(alpha, beta, s0, z0, r0)
    n = float(s0 + z0 + r0) if population is None else float(population)
    times = np.atleast_1d(np.asarray(t, dtype=float))
    conserved = z0 + (1.0 - alpha) * s0  # C = Z + (1−α)S
    rate = beta / n
    phi = _phi(times, conserved, rate)
    with np.errstate(over="ignore", invalid="ignore"):
        s = s0 / (1.0 + z0 * phi)
    s = np.where(np.isfinite(s), s, 0.0)
    z = z0 + (1.0 - alpha) * (s0 - s)  # = C − (1−α)S, written to be exact at t = 0
    r = r0 + alpha * (s0 - s)
    return np.column_stack([s, z, r])


def final_state(
    s0: float, z0: float, r0: float = 0.0, *, alpha: float, population: float | None = None
) -> tuple[float, float, float]:
    """The t → ∞ limit of the mean field: zombies win (S = 0) if C > 0, humans win (Z = 0) if C < 0."""
    _check(alpha, 1.0, s0, z0, r0)
    conserved = z0 + (1.0 - alpha) * s0
    if z0 == 0:
        return float(s0), 0.0, float(r0)
    # C ≥ 0: S → 0. C < 0: φ(∞) = −1/C, so S∞ = S₀|C| / (|C| + Z₀).
    s = 0.0 if conserved >= 0 else s0 * (-conserved) / (-conserved + z0)
    return s, conserved - (1.0 - alpha) * s, r0 + alpha * (s0 - s)


def zombies_win(alpha: float) -> bool:
    """In the well-mixed mean field, zombies overrun everyone exactly when α < 1 (from a small seed)."""
    return alpha < ALPHA_CRITICAL


def solve_ode(
    t: Sequence[float] | np.ndarray,
    s0: float,
    z0: float,
    r0: float = 0.0,
    *,
    alpha: float,
    beta: float = 1.0,
    population: float | None = None,
    rtol: float = 1e-11,
    atol: float = 1e-11,
) -> np.ndarray:
    """The mean-field ODE integrated numerically (`solve_ivp`, DOP853): shape (len(t), 3), columns S, Z, R."""
    from scipy.integrate import solve_ivp

    _check(alpha, beta, s0, z0, r0)
    n = float(s0 + z0 + r0) if population is None else float(population)
    times = np.asarray(t, dtype=float)
    solution = solve_ivp(
        alemi_rhs,
        (float(times[0]), float(times[-1])),
        [s0, z0, r0],
        t_eval=times,
        args=(alpha, beta, n),
        method="DOP853",
        rtol=rtol,
        atol=atol,
    )
    if not solution.success:
        raise RuntimeError(f"ODE solver failed: {solution.message}")
    return solution.y.T


def extinction_probability(alpha: float, zombies: int = 1, population: int | None = None) -> float:
    """Probability that an outbreak started by `zombies` zombies dies out (Z reaches 0 before S does).

    Without `population` (N → ∞): min(1, α)^z₀, the gambler's-ruin value. With N, the exact value
    for S₀ = N − z₀ humans from the embedded jump chain: from (s, z) the next event is a bite
    (s−1, z+1) with probability p = 1/(1+α) or a kill (s, z−1) with q = α/(1+α), independent of
    the state (both propensities are ∝ SZ). P(s, 0) = 1, P(0, z) = 0 for z > 0, and
    P(s, z) = p·P(s−1, z+1) + q·P(s, z−1), solved row by row in s — O(N²) work, O(N) memory.
    """
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    if zombies < 0:
        raise ValueError(f"zombies must be >= 0, got {zombies}")
    if zombies == 0:
        return 1.0
    if population is None:
        return min(1.0, alpha) ** zombies
    humans = int(population) - int(zombies)
    if humans < 0:
        raise ValueError(f"population ({population}) must be >= zombies ({zombies})")
    from scipy.signal import lfilter

    p = 1.0 / (1.0 + alpha)
    q = alpha / (1.0 + alpha)
    z_max = zombies + humans  # zombies can never exceed the initial total
    # row[z] = P(s, z) for z = 0..z_max; at s = 0 only z = 0 counts as extinction.
    row = np.zeros(z_max + 2)
    row[0] = 1.0
    for _ in range(humans):
        # P(s, z) − q·P(s, z−1) = p·P(s−1, z+1) for z ≥ 1, with P(s, 0) = 1: a first-order recursion.
        drive = p * row[2 : z_max + 2]
        new = np.empty_like(row)
        new[0] = 1.0
        new[1 : z_max + 1], _ = lfilter([1.0], [1.0, -q], drive, zi=[q * 1.0])
        new[z_max + 1] = 0.0
        row = new
    return float(row[zombies])


# --- helpers -----------------------------------------------------------------------------------


def _phi(times: np.ndarray, conserved: float, rate: float) -> np.ndarray:
    # φ = (e^{rate·C·t} − 1)/C; written with exprel so C → 0 (and α = 1 with Z₀ = 0) needs no special case.
    from scipy.special import exprel

    x = rate * conserved * times
    with np.errstate(over="ignore"):
        return rate * times * exprel(x)


def _check(alpha: float, beta: float, s0: float, z0: float, r0: float) -> None:
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    if not (beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be a finite number > 0, got {beta}")
    for name, value in (("s0", s0), ("z0", z0), ("r0", r0)):
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
