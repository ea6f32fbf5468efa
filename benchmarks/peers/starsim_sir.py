"""Starsim's well-mixed SIR (peer for benchmarks/bench_country.py): time one outbreak of N agents.

Starsim (https://starsim.org) is an agent-based disease modelling framework: one row per agent in
NumPy arrays, a network of contacts per step. Its nearest setting to hyosan's well-mixed cell is
an SIR on a dynamic random network (new random contacts every day), which mixes everyone.
Imported only by the benchmark: Starsim is an optional `peers` dependency.
"""

from __future__ import annotations

import time

__all__ = ["time_starsim_sir"]


def time_starsim_sir(n: int, days: int, r0: float, initial: int, seed: int = 1, contacts: int = 10) -> dict:
    """One SIR outbreak of `n` agents over `days` daily steps with basic reproduction number about `r0`.

    Infectious for 10 days on average; each agent meets `contacts` random others a day; the chance of
    infection per contact per day is r0 / (contacts · 10), so R0 = β · contacts · duration.
    """
    import starsim as ss

    duration = 10.0
    beta = r0 / (contacts * duration)
    sim = ss.Sim(
        n_agents=n,
        diseases=ss.SIR(beta=dict(random=beta), dur_inf=ss.expon(duration), init_prev=initial / n),
        networks=ss.RandomNet(n_contacts=contacts),
        start=0,
        stop=days,
        dt=1,
        rand_seed=seed,
        verbose=0,
    )
    started = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - started
    sir = sim.results.sir
    susceptible = float(sir.n_susceptible[-1])
    return {
        "seconds": seconds,
        "person_days_per_second": n * days / seconds,
        "ever_infected_share": 1.0 - susceptible / n,
        "steps": len(sir.n_susceptible),
        "version": ss.__version__,
    }
