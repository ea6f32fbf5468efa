"""The Alemi et al. (2015) fully connected SZR model in GillesPy2, timed the same way as hyosan's SSA.

Run alone as ``python benchmarks/peers/gillespy2_szr.py [--n 1000000] [--solver c++|numpy]``.
Needs ``pip install gillespy2`` (the ``peers`` extra); the C++ solver compiles its model with g++ once.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

__all__ = ["build_model", "time_gillespy2"]


def build_model(n: int, alpha: float, zombies: int, t_end: float, points: int = 101):
    """SZR as GillesPy2 mass-action reactions: bite S+Z → 2Z at β/N, kill S+Z → S+R at αβ/N (β = 1)."""
    import gillespy2

    model = gillespy2.Model(name="szr")
    bite = gillespy2.Parameter(name="bite_rate", expression=repr(1.0 / n))
    kill = gillespy2.Parameter(name="kill_rate", expression=repr(alpha / n))
    model.add_parameter([bite, kill])
    s = gillespy2.Species(name="S", initial_value=n - zombies, mode="discrete")
    z = gillespy2.Species(name="Z", initial_value=zombies, mode="discrete")
    r = gillespy2.Species(name="R", initial_value=0, mode="discrete")
    model.add_species([s, z, r])
    model.add_reaction(gillespy2.Reaction(name="bite", reactants={s: 1, z: 1}, products={z: 2}, rate=bite))
    model.add_reaction(gillespy2.Reaction(name="kill", reactants={s: 1, z: 1}, products={s: 1, r: 1}, rate=kill))
    model.timespan(np.linspace(0.0, t_end, points))
    return model


def time_gillespy2(
    n: int, alpha: float, zombies: int, t_end: float, *, solver: str = "c++", seeds: tuple[int, ...] = (1, 2, 3)
) -> dict[str, float]:
    """Best-of-seeds wall time of one trajectory (solver build excluded) and its events per second.

    GillesPy2 does not report event counts; for SZR they follow from the final state:
    bites = Z_end + R_end − Z_0 and kills = R_end.
    """
    import gillespy2

    model = build_model(n, alpha, zombies, t_end)
    started = time.perf_counter()
    if solver == "c++":
        engine = gillespy2.SSACSolver(model=model)
    elif solver == "numpy":
        engine = gillespy2.NumPySSASolver(model=model)
    else:
        raise ValueError(f"solver must be 'c++' or 'numpy', got {solver!r}")
    build_seconds = time.perf_counter() - started
    best = None
    for seed in seeds:
        started = time.perf_counter()
        result = model.run(solver=engine, seed=seed)
        seconds = time.perf_counter() - started
        z_end, r_end = float(result["Z"][-1]), float(result["R"][-1])
        events = (z_end + r_end - zombies) + r_end
        rate = events / seconds
        if best is None or rate > best["rate"]:
            best = {"events": events, "seconds": seconds, "rate": rate, "build_seconds": build_seconds}
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--zombies", type=int, default=10)
    parser.add_argument("--t-end", type=float, default=100.0)
    parser.add_argument("--solver", choices=("c++", "numpy"), default="c++")
    args = parser.parse_args()
    best = time_gillespy2(args.n, args.alpha, args.zombies, args.t_end, solver=args.solver)
    print(
        f"GillesPy2 {args.solver}: {best['events']:,.0f} events in {best['seconds']:.3f} s "
        f"= {best['rate'] / 1e6:.2f} M events/s (build {best['build_seconds']:.1f} s)"
    )


if __name__ == "__main__":
    main()
