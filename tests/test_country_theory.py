"""Theory of the country model: growth rate, front speed (Fisher–KPP limit) and the well-mixed closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyosan.classic.alemi import closed_form
from hyosan.country.params import CountryParameters
from hyosan.country.theory import brunet_derrida_factor, front_speed, growth_rate, well_mixed

INSTANT = {"turn_median": 0.01, "turn_p90": 0.02, "hambie_fraction": 0.0, "half_saturation_density": 0.0}


def test_instant_turning_grows_at_one_minus_alpha_beta() -> None:
    p = CountryParameters(bite_rate=5.0, kill_ratio=0.6, **INSTANT)
    assert growth_rate(p) == pytest.approx((1 - 0.6) * 5.0, rel=1e-3)
    # Zombies lose above α = 1: nothing grows (the zero eigenvalue is the hambies, who never die).
    assert growth_rate(CountryParameters(kill_ratio=1.5, **INSTANT)) <= 1e-12


def test_latency_and_sparse_cells_slow_the_growth() -> None:
    instant = CountryParameters(**INSTANT)
    slow = CountryParameters(**{**INSTANT, "turn_median": 6 * 3600.0, "turn_p90": 24 * 3600.0})
    assert growth_rate(slow) < growth_rate(instant)
    sparse = CountryParameters(**{**INSTANT, "half_saturation_density": 100.0})
    assert growth_rate(sparse, density=100.0) == pytest.approx(0.5 * growth_rate(instant), rel=1e-3)


def test_front_speed_tends_to_fisher_kpp_on_fine_cells() -> None:
    p = CountryParameters(bite_rate=2.0, kill_ratio=0.5, **INSTANT)
    d, r = p.diffusion_km2_per_day, (1 - 0.5) * 2.0
    assert front_speed(p, 0.05) == pytest.approx(2 * math.sqrt(d * r), rel=0.01)
    # Coarse cells: the lattice front is faster than the continuum's (hops jump a whole cell).
    assert front_speed(p, 5.0) > front_speed(p, 0.05)


def test_front_speed_scales_as_root_of_diffusion() -> None:
    fast = CountryParameters(bite_rate=2.0, kill_ratio=0.5, **INSTANT)
    slow = fast.model_copy(update={"walk_time_per_km": 4 * fast.walk_time_per_km})
    assert front_speed(slow, 0.05) == pytest.approx(front_speed(fast, 0.05) / 2, rel=0.01)


def test_brunet_derrida_factor() -> None:
    assert brunet_derrida_factor(1e6) == pytest.approx(1 - math.pi**2 / (2 * math.log(1e6) ** 2))
    assert brunet_derrida_factor(100) < brunet_derrida_factor(1e4) < 1


def test_well_mixed_is_alemis_closed_form() -> None:
    p = CountryParameters(bite_rate=3.0, kill_ratio=0.7, **INSTANT)
    t = np.linspace(0, 10, 11)
    ours = well_mixed(t, 9_990, 10, p)
    assert np.allclose(ours, closed_form(t, 9_990, 10, alpha=0.7, beta=3.0))
    sparse = CountryParameters(**{**INSTANT, "bite_rate": 3.0, "kill_ratio": 0.7, "half_saturation_density": 10_000})
    slower = well_mixed(t, 9_990, 10, sparse, cell_area_km2=1.0)
    assert np.allclose(slower, closed_form(t, 9_990, 10, alpha=0.7, beta=1.5))
