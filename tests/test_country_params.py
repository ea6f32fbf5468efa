"""Country model parameters: defaults, the turning-delay phases, TOML files with file:line errors, --set."""

from __future__ import annotations

import math

import pytest

from hyosan.country.params import (
    MILE_KM,
    CountryConfig,
    CountryParameters,
    builtin_configs,
    load_config,
)
from hyosan.errors import UserInputError


def test_defaults_follow_alemi() -> None:
    p = CountryParameters()
    assert p.kill_ratio == 0.8
    # Alemi et al.: 11 h to wander a mile; diffusive, so one km takes 11 h / 1.609².
    assert p.walk_time_per_km == pytest.approx(11 * 3600 / MILE_KM**2)
    # D = 1 km² / (4 · t_km), and a zombie leaves a cell of side h at 4D/h².
    assert p.diffusion_km2_per_day == pytest.approx(1.0 / (4.0 * p.walk_time_per_km / 86400))
    assert p.hop_rate(2.0) == pytest.approx(p.diffusion_km2_per_day)


def test_turn_phases_keep_the_lognormal_mean_and_bands() -> None:
    p = CountryParameters(turn_median="3 min", turn_p90="1 h")
    shares, means = p.turn_phases()
    assert shares == pytest.approx([0.5, 0.4, 0.1])
    sigma = math.log(20.0) / 1.2815515655446004
    lognormal_mean_days = 180.0 * math.exp(sigma**2 / 2) / 86400
    assert sum(s * m for s, m in zip(shares, means, strict=True)) == pytest.approx(lognormal_mean_days, rel=1e-9)
    # Each band's mean lies inside the band: below the median, between median and p90, above p90.
    assert means[0] < 180 / 86400 < means[1] < 3600 / 86400 < means[2]


def test_p90_must_exceed_median() -> None:
    with pytest.raises(ValueError, match="turn_p90"):
        CountryParameters(turn_median="2 h", turn_p90="1 h")


def test_overrides_reach_model_and_interventions(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[cordon]]\naround = "Seoul"\nradius = "10 km"\n')
    cfg = load_config(path, ["bite_rate=3", "walk_time_per_km='2 h'", "cordon.0.leak=0.25", "hyosan_at=Suwon"])
    assert cfg.model.bite_rate == 3
    assert cfg.model.walk_time_per_km == 7200
    assert cfg.cordon[0].leak == 0.25
    assert cfg.cordon[0].radius == 10_000
    assert cfg.hyosan_at == "Suwon"


def test_bad_override_names_the_option() -> None:
    with pytest.raises(UserInputError, match="bite_rat") as err:
        load_config(None, ["bite_rat=3"])
    assert "did you mean 'bite_rate'" in str(err.value)
    with pytest.raises(UserInputError, match="key=value"):
        load_config(None, ["bite_rate"])
    with pytest.raises(UserInputError, match="no cordon"):
        load_config(None, ["cordon.0.leak=0.1"])


def test_unknown_key_in_file_has_line_and_hint(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("# comment\n[model]\nbite_rate = 5\nkill_ration = 0.5\n")
    with pytest.raises(UserInputError) as err:
        load_config(path)
    assert err.value.file == str(path) and err.value.line == 4 and err.value.col == 1
    assert "did you mean 'kill_ratio'" in err.value.message


def test_bad_value_in_second_cordon_points_at_it(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[cordon]]\naround = "Seoul"\nradius = "5 km"\n\n[[cordon]]\naround = "Busan"\nradius = "5 km"\nleak = 2\n'
    )
    with pytest.raises(UserInputError) as err:
        load_config(path)
    assert err.value.line == 8 and "cordon.1.leak" in err.value.message


def test_area_needs_exactly_one_shape(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[bombing]]\nday = 3\nradius = "5 km"\n')
    with pytest.raises(UserInputError) as err:
        load_config(path)
    assert err.value.line == 1  # the [[bombing]] table itself
    assert "give exactly one of" in err.value.message


def test_invalid_toml_reports_line_and_column(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[model]\nbite_rate = = 3\n")
    with pytest.raises(UserInputError) as err:
        load_config(path)
    assert err.value.line == 2 and err.value.col is not None


def test_missing_file_and_unknown_builtin() -> None:
    with pytest.raises(UserInputError, match="not found"):
        load_config("nowhere/c.toml")
    with pytest.raises(UserInputError, match="did you mean 'hyosan-lore'"):
        load_config("hyosan-lor")


def test_builtin_lore_configuration_is_valid() -> None:
    assert "hyosan-lore" in builtin_configs()
    cfg = load_config("hyosan-lore")
    assert isinstance(cfg, CountryConfig)
    assert cfg.cordon[0].around == "Hyosan" and cfg.cordon[0].army_factor > 1
    assert cfg.bombing[0].day > cfg.cordon[0].from_day
