"""The zombie ODE models of Munz, Hudea, Imad & Smith? (2009): SZR, latent SIZR, quarantine, cure, eradication.

Reference: P. Munz, I. Hudea, J. Imad, R. J. Smith?, "When zombies attack! Mathematical modelling of
an outbreak of zombie infection", in *Infectious Disease Modelling Research Progress*, Nova Science
(2009), ch. 4, pp. 133–150. Mass action without 1/N; Π is the birth rate; time in days.

The paper's MATLAB code drops −δS from S′ while keeping +δS in R′ and starts from (500, 0, 0); its
figures are reproduced from one zombie, (499, 1, 0). We integrate the equations as printed unless
``quirk=True``, and the initial state is the caller's choice (default: N − 1 humans, one zombie).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "MODELS",
    "PRESETS",
    "MunzParameters",
    "cure_equilibrium",
    "default_initial_state",
    "doomsday_state",
    "eigenvalues",
    "jacobian",
    "munz_rhs",
    "next_generation_r0",
    "quarantine_r0",
    "simulate_munz",
    "szr_jacobian",
    "zombie_free_state",
]

# Compartments of each model, in the order of the state vector.
MODELS: dict[str, tuple[str, ...]] = {
    "szr": ("S", "Z", "R"),
    "sizr": ("S", "I", "Z", "R"),
    "sizrq": ("S", "I", "Z", "R", "Q"),
    "cure": ("S", "I", "Z", "R"),
    "eradication": ("S", "Z", "R"),
}


@dataclass(frozen=True)
class MunzParameters:
    """Rates of the Munz et al. (2009) models (per day; encounter rates per pair of people per day)."""

    alpha: float = 0.005  # zombies destroyed per S–Z encounter
    beta: float = 0.0095  # humans bitten per S–Z encounter
    zeta: float = 0.0001  # the dead (R) rising as zombies
    delta: float = 0.0001  # natural (non-zombie) death
    birth: float = 0.0  # Π, new humans per day
    rho: float = 0.005  # infected (I) turning into zombies
    kappa: float = 0.0  # infected put in quarantine
    sigma: float = 0.0  # zombies put in quarantine
    gamma: float = 0.0  # quarantined killed trying to escape
    cure: float = 0.0  # c, zombies cured back to humans
    population: float = 500.0  # N, the initial population
    kill_strength: float = 0.25  # k: the n-th attack removes k·n of the zombies
    attack_times: tuple[float, ...] = (2.5, 5.0, 7.5, 10.0)
    t_end: float = 10.0  # days shown by default

    def __post_init__(self) -> None:
        for name in ("alpha", "beta", "zeta", "delta", "birth", "rho", "kappa", "sigma", "gamma", "cure"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not (self.population > 0 and math.isfinite(self.population)):
            raise ValueError(f"population must be a finite number > 0, got {self.population}")
        if not (self.t_end > 0 and math.isfinite(self.t_end)):
            raise ValueError(f"t_end must be a finite number > 0, got {self.t_end}")
        if self.kill_strength < 0:
            raise ValueError(f"kill_strength must be >= 0, got {self.kill_strength}")

    def with_(self, **changes) -> MunzParameters:
        """A copy with some rates changed."""
        return replace(self, **changes)


# "paper" and "eradication" are the values printed in Munz et al. (2009). The quarantine and cure
# rates are not in SCIENCE.md's list of printed values: those presets are illustrative choices of ours
# that show the paper's qualitative claims (quarantine delays; a cure leaves few humans).
PRESETS: dict[str, MunzParameters] = {
    "paper": MunzParameters(),
    "eradication": MunzParameters(
        alpha=0.0075, beta=0.0055, zeta=0.09, delta=0.0001, population=1000.0, kill_strength=0.25
    ),
    "quarantine": MunzParameters(kappa=0.002, sigma=0.01, gamma=0.001, t_end=1000.0),
    "cure": MunzParameters(cure=0.05, t_end=30.0),
}


def munz_rhs(model: str, params: MunzParameters, *, quirk: bool = False) -> Callable[[float, np.ndarray], np.ndarray]:
    """Right-hand side f(t, y) of a Munz model, y ordered as `MODELS[model]`."""
    _check_model(model)
    p = params
    # The paper's MATLAB omits −δS in S′ (the dead never leave the living) but keeps +δS in R′.
    s_death = 0.0 if quirk else p.delta

    if model in ("szr", "eradication"):

        def rhs(t: float, y: np.ndarray) -> np.ndarray:
            s, z, r = y
            return np.array(
                [
                    p.birth - p.beta * s * z - s_death * s,
                    p.beta * s * z + p.zeta * r - p.alpha * s * z,
                    p.delta * s + p.alpha * s * z - p.zeta * r,
                ]
            )

        return rhs

    if model in ("sizr", "cure"):
        c = p.cure if model == "cure" else 0.0

        def rhs(t: float, y: np.ndarray) -> np.ndarray:
            s, i, z, r = y
            return np.array(
                [
                    p.birth - p.beta * s * z - s_death * s + c * z,
                    p.beta * s * z - p.rho * i - p.delta * i,
                    p.rho * i + p.zeta * r - p.alpha * s * z - c * z,
                    p.delta * s + p.delta * i + p.alpha * s * z - p.zeta * r,
                ]
            )

        return rhs

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        s, i, z, r, q = y
        return np.array(
            [
                p.birth - p.beta * s * z - s_death * s,
                p.beta * s * z - p.rho * i - p.delta * i - p.kappa * i,
                p.rho * i + p.zeta * r - p.alpha * s * z - p.sigma * z,
                p.delta * s + p.delta * i + p.alpha * s * z - p.zeta * r + p.gamma * q,
                p.kappa * i + p.sigma * z - p.gamma * q,
            ]
        )

    return rhs


def default_initial_state(model: str, params: MunzParameters) -> np.ndarray:
    """N − 1 humans and one zombie: the state that reproduces the paper's figures."""
    _check_model(model)
    y0 = np.zeros(len(MODELS[model]))
    y0[0] = params.population - 1.0
    y0[MODELS[model].index("Z")] = 1.0
    return y0


def simulate_munz(
    model: str = "szr",
    params: MunzParameters | None = None,
    initial: Sequence[float] | None = None,
    *,
    t_end: float | None = None,
    points: int = 201,
    quirk: bool = False,
    rtol: float = 1e-9,
    atol: float = 1e-9,
):
    """Integrate a Munz et al. (2009) model; return a DataFrame with ``time`` and one column per compartment.

    ``model="eradication"`` is the basic SZR model with impulsive attacks: at the n-th attack time
    t_n the zombies drop by ΔZ = −k·n·Z (capped at all of them). It is solved as `solve_ivp`
    segments between attacks with the jump applied in between; each attack time appears twice in the
    output, just before and just after the jump, so plots show the drop.
    """
    from scipy.integrate import solve_ivp

    p = PRESETS["eradication" if model == "eradication" else "paper"] if params is None else params
    _check_model(model)
    names = MODELS[model]
    y0 = default_initial_state(model, p) if initial is None else np.asarray(initial, dtype=float)
    if y0.shape != (len(names),):
        raise ValueError(f"initial state of {model} needs {len(names)} values ({', '.join(names)}), got {len(y0)}")
    if np.any(y0 < 0) or not np.all(np.isfinite(y0)):
        raise ValueError(f"initial counts must be finite and >= 0, got {y0.tolist()}")
    end = p.t_end if t_end is None else float(t_end)
    if not (end > 0 and math.isfinite(end)):
        raise ValueError(f"t_end must be a finite number > 0, got {end}")
    if points < 2:
        raise ValueError(f"points must be >= 2, got {points}")
    grid = np.linspace(0.0, end, points)
    rhs = munz_rhs(model, p, quirk=quirk)

    jumps = [t for t in p.attack_times if 0 < t <= end] if model == "eradication" else []
    boundaries = [0.0, *jumps, end] if not jumps or jumps[-1] < end else [0.0, *jumps]
    times: list[np.ndarray] = []
    states: list[np.ndarray] = []
    y = y0.copy()
    for n, (start, stop) in enumerate(itertools.pairwise(boundaries)):
        inside = grid[(grid >= start) & (grid < stop)]
        t_eval = np.unique(np.concatenate([inside, [start, stop]]))
        solution = solve_ivp(rhs, (start, stop), y, t_eval=t_eval, rtol=rtol, atol=atol, method="LSODA")
        if not solution.success:
            raise RuntimeError(f"ODE solver failed on [{start}, {stop}]: {solution.message}")
        values = solution.y.copy()
        values[:, 0] = y  # the dense-output interpolant can be an ulp off the exact start
        keep = slice(None) if n == 0 else slice(1, None)  # the segment start repeats the last row
        times.append(solution.t[keep])
        states.append(values[:, keep])
        y = solution.y[:, -1].copy()
        if n < len(jumps):
            attack = n + 1
            z_index = names.index("Z")
            y[z_index] -= min(p.kill_strength * attack, 1.0) * y[z_index]
            times.append(np.array([stop]))
            states.append(y[:, None].copy())
    import pandas as pd

    frame = pd.DataFrame({"time": np.concatenate(times)})
    values = np.concatenate(states, axis=1)
    for k, name in enumerate(names):
        frame[name] = values[k]
    return frame


def zombie_free_state(params: MunzParameters) -> np.ndarray:
    """The zombie-free equilibrium (N, 0, 0) of the basic SZR model (with Π = δ = 0)."""
    return np.array([params.population, 0.0, 0.0])


def doomsday_state(params: MunzParameters, zombies: float | None = None) -> np.ndarray:
    """The doomsday equilibrium (0, Z̄, 0) of the basic SZR model (Π = δ = 0); any Z̄ > 0 is one, default N."""
    return np.array([0.0, params.population if zombies is None else float(zombies), 0.0])


def szr_jacobian(params: MunzParameters, state: Sequence[float]) -> np.ndarray:
    """Analytic Jacobian of the basic SZR right-hand side at (S, Z, R)."""
    s, z, _ = state
    p = params
    return np.array(
        [
            [-p.beta * z - p.delta, -p.beta * s, 0.0],
            [(p.beta - p.alpha) * z, (p.beta - p.alpha) * s, p.zeta],
            [p.delta + p.alpha * z, p.alpha * s, -p.zeta],
        ]
    )


def jacobian(model: str, params: MunzParameters, state: Sequence[float], *, quirk: bool = False) -> np.ndarray:
    """Jacobian of any Munz model at `state` by central differences (exact up to rounding: f is quadratic)."""
    rhs = munz_rhs(model, params, quirk=quirk)
    y = np.asarray(state, dtype=float)
    n = y.size
    out = np.empty((n, n))
    for k in range(n):
        h = 1e-4 * max(1.0, abs(y[k]))
        up, down = y.copy(), y.copy()
        up[k] += h
        down[k] -= h
        out[:, k] = (rhs(0.0, up) - rhs(0.0, down)) / (2 * h)
    return out


def eigenvalues(model: str, params: MunzParameters, state: Sequence[float], *, quirk: bool = False) -> np.ndarray:
    """Eigenvalues of the Jacobian at `state`, sorted by real part (largest first)."""
    values = np.linalg.eigvals(jacobian(model, params, state, quirk=quirk))
    return values[np.argsort(-values.real)]


def quarantine_r0(params: MunzParameters, population: float | None = None) -> float:
    """Basic reproduction number of the quarantine model as printed: R0 = βNρ / ((ρ+κ)(αN+σ)).

    The formula is the next-generation value with δ = 0 and no resurrection feeding new zombies
    (ζR = 0 near the zombie-free state); `next_generation_r0` computes it directly.
    """
    p = params
    n = p.population if population is None else float(population)
    return p.beta * n * p.rho / ((p.rho + p.kappa) * (p.alpha * n + p.sigma))


def next_generation_r0(params: MunzParameters, population: float | None = None) -> float:
    """R0 of the quarantine model by the next-generation matrix method (van den Driessche & Watmough 2002).

    Infected compartments (I, Z) at the zombie-free state S = N: F holds new infections (the bite
    βSZ entering I), V every other flow; R0 is the spectral radius of F V⁻¹. Derivatives are taken
    numerically from the model's right-hand side, so this checks `quarantine_r0` independently.
    """
    p = params.with_(zeta=0.0)  # resurrection is not a new infection and R is empty at the zombie-free state
    n = p.population if population is None else float(population)
    rhs = munz_rhs("sizrq", p)
    infected = [1, 2]  # I, Z in (S, I, Z, R, Q)
    base = np.array([n, 0.0, 0.0, 0.0, 0.0])

    def new_infections(y: np.ndarray) -> np.ndarray:
        return np.array([p.beta * y[0] * y[2], 0.0])

    def transitions(y: np.ndarray) -> np.ndarray:
        return new_infections(y) - rhs(0.0, y)[infected]

    f = np.empty((2, 2))
    v = np.empty((2, 2))
    h = 1e-3
    for col, k in enumerate(infected):
        up, down = base.copy(), base.copy()
        up[k] += h
        down[k] -= h
        f[:, col] = (new_infections(up) - new_infections(down)) / (2 * h)
        v[:, col] = (transitions(up) - transitions(down)) / (2 * h)
    return float(np.max(np.abs(np.linalg.eigvals(f @ np.linalg.inv(v)))))


def cure_equilibrium(params: MunzParameters, population: float | None = None) -> np.ndarray:
    """Coexistence equilibrium (S̄, Ī, Z̄, R̄) of the treatment model with Π = δ = 0: S̄ = c/β.

    Setting Z′ = 0 with I′ = R′ = 0 gives Z̄(βS̄ − c) = 0, so S̄ = c/β; then Ī = cZ̄/ρ,
    R̄ = αcZ̄/(βζ), and Z̄ follows from S̄ + Ī + Z̄ + R̄ = N (conserved when Π = δ = 0).
    """
    p = params
    if p.beta <= 0 or p.rho <= 0 or p.zeta <= 0:
        raise ValueError("the cure equilibrium needs beta, rho and zeta > 0")
    n = p.population if population is None else float(population)
    s = p.cure / p.beta
    z = (n - s) / (1.0 + p.cure / p.rho + p.alpha * p.cure / (p.beta * p.zeta))
    return np.array([s, p.cure * z / p.rho, z, p.alpha * p.cure * z / (p.beta * p.zeta)])


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown Munz model {model!r}; choose one of {', '.join(MODELS)}")
