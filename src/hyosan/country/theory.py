"""What the country model should do where theory knows the answer: its well-mixed limit and its front speed.

**Well-mixed limit.** One cell whose people turn at once (no latency), with no hambies and
K = 0, is Alemi et al.'s fully connected SZR: bites β·S·Z/N, kills α·β·S·Z/N, N = S + Z + R constant.
`well_mixed` gives its closed-form mean field (`hyosan.classic.alemi.closed_form`); with K > 0 the
bite rate is β·N/(N + K).

**Front speed.** Far ahead of the outbreak, where S ≈ N in every cell, the model is linear in the
infected (B phases, Z, H). A mode e^{−q x} along one lattice axis grows at σ(q), the largest
eigenvalue of

    dB_k/dt = s_k (β f Z + β_h f H) − λ_k B_k
    dZ/dt   = Σ λ_k (1 − p) B_k − κ f Z + (μ/4) (e^{q h} + e^{−q h} − 2) Z
    dH/dt   = Σ λ_k p B_k

with f = N/(N + K), μ the hop rate out of a cell of side h, s_k the phase shares and p the hambie
fraction. The front of such a "pulled" front moves at c* = min_q σ(q)/q (the linear spreading speed;
van Saarloos 2003). In the continuum, instant-turning limit this is Fisher–KPP's 2·√(D·r), with
D = μh²/4 the zombies' diffusion and r = (1 − α)β f. A finite number of people per cell makes the
stochastic front slower by about π²/(2 ln² N) (Brunet & Derrida 1997). Long trips of the bitten
are left out: they make the spread jump ahead of any front.
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.country.params import CountryParameters

__all__ = ["brunet_derrida_factor", "front_speed", "growth_rate", "leading_edge_matrix", "well_mixed"]


def leading_edge_matrix(
    params: CountryParameters, cell_km: float, q: float = 0.0, density: float | None = None
) -> np.ndarray:
    """Linear growth matrix of (B1, B2, B3, Z, H) where S ≈ N, for a mode e^{−q x} (q in 1/km).

    ``density`` (people/km²) sets f = N/(N + K); None means f = 1 (dense cells).
    """
    shares, means = params.turn_phases()
    beta = params.bite_rate
    kappa = params.kill_ratio * beta
    beta_h = params.hambie_bite_ratio * beta
    p = params.hambie_fraction
    f = 1.0 if density is None else density / (density + params.half_saturation_density)
    hop = params.hop_rate(cell_km)
    walk = 0.25 * hop * (math.exp(q * cell_km) + math.exp(-q * cell_km) - 2.0)
    a = np.zeros((5, 5))
    for k in range(3):
        lam = 1.0 / means[k]
        a[k, k] = -lam
        a[k, 3] = shares[k] * beta * f
        a[k, 4] = shares[k] * beta_h * f
        a[3, k] = lam * (1.0 - p)
        a[4, k] = lam * p
    a[3, 3] = -kappa * f + walk
    return a


def growth_rate(params: CountryParameters, density: float | None = None) -> float:
    """Early growth rate (per day) of an outbreak in one dense, well-mixed cell: σ(0), latency included."""
    return float(np.max(np.linalg.eigvals(leading_edge_matrix(params, 1.0, 0.0, density)).real))


def front_speed(params: CountryParameters, cell_km: float, density: float | None = None) -> float:
    """Linear spreading speed c* = min_q σ(q)/q of the zombie front along a lattice axis (km/day)."""
    from scipy.optimize import minimize_scalar

    if growth_rate(params, density) <= 0.0:
        return 0.0

    def speed(log_q: float) -> float:
        q = math.exp(log_q)
        sigma = np.max(np.linalg.eigvals(leading_edge_matrix(params, cell_km, q, density)).real)
        return float(sigma / q)

    best = minimize_scalar(speed, bounds=(math.log(1e-4 / cell_km), math.log(20.0 / cell_km)), method="bounded")
    return float(best.fun)


def brunet_derrida_factor(people_per_cell: float) -> float:
    """Rough slow-down of a stochastic pulled front with N people per cell: 1 − π²/(2 ln² N)."""
    n = max(float(people_per_cell), math.e)
    return 1.0 - math.pi**2 / (2.0 * math.log(n) ** 2)


def well_mixed(
    t: np.ndarray | list[float],
    susceptible: float,
    zombies: float,
    params: CountryParameters,
    cell_area_km2: float = 1.0,
) -> np.ndarray:
    """Alemi et al.'s closed-form mean field (columns S, Z, R) for one cell with instant turning.

    Valid for the country model with no hambies (or hambies counted as zombies) and a turning delay
    much shorter than 1/β; K = half-saturation density x area enters as β·N/(N + K).
    """
    from hyosan.classic.alemi import closed_form

    n = susceptible + zombies
    k = params.half_saturation_density * cell_area_km2
    beta = params.bite_rate * n / (n + k)
    return closed_form(np.asarray(t, dtype=float), susceptible, zombies, alpha=params.kill_ratio, beta=beta)
