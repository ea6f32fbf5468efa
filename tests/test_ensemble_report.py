"""Reports: bootstrap intervals that contain the estimate and narrow with more runs; files a user reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyosan.ensemble.report import Outcome, bootstrap_ci, format_estimate, summarize, write_report

SURVIVAL = Outcome("survival_probability", "survival probability", "survived_fraction")
FALL = Outcome("median_fall_s", "median time to fall", "school_fell_s", "median", "time", censor="duration_s")


def test_the_interval_contains_the_estimate_and_narrows_with_more_runs():
    rng = np.random.default_rng(0)
    widths = []
    for n in (20, 80, 320):
        values = rng.binomial(1, 0.3, n).astype(float)
        point, low, high = bootstrap_ci(values, "mean", seed=1)
        assert point == values.mean() and low <= point <= high
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]
    # Binomial proportion: the 95% interval is about ±1.96 standard errors.
    assert widths[2] == pytest.approx(2 * 1.96 * np.sqrt(0.3 * 0.7 / 320), rel=0.25)


def test_the_interval_is_seeded_and_the_median_is_an_observed_value():
    values = np.array([300.0, 420.0, 480.0, 600.0, 900.0, 1200.0])
    assert bootstrap_ci(values, "median", seed=3) == bootstrap_ci(values, "median", seed=3)
    point, low, high = bootstrap_ci(values, "median", seed=3)
    assert point in values and low <= point <= high
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)
    assert np.isnan(bootstrap_ci([2.0])[1])


def runs_table(n=40):
    rng = np.random.default_rng(5)
    frames = []
    for c, speed in enumerate((4.0, 6.0)):
        fell = rng.uniform(600, 3000, n)
        fell[rng.random(n) < (0.7 if c == 0 else 0.1)] = np.nan  # the slow zombies often never take the school
        frames.append(pd.DataFrame({
            "combination": c, "zombie.sprint_speed": speed, "replicate": np.arange(n),
            "survived_fraction": rng.uniform(0.2, 0.6, n) - 0.1 * c, "school_fell_s": fell, "duration_s": 7200.0,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_a_time_that_never_came_counts_at_the_duration():
    summary = summarize(runs_table(), ["zombie.sprint_speed"], [SURVIVAL, FALL], seed=1)
    slow, fast = summary.iloc[0], summary.iloc[1]
    assert slow["median_fall_s"] == 7200.0 and format_estimate(slow, FALL) == "not within 2:00:00"
    assert fast["median_fall_s"] < 3000 and format_estimate(fast, FALL).count(":") == 6
    assert (summary["runs"] == 40).all()


def test_write_report_makes_markdown_csv_and_plots(tmp_path):
    table = runs_table()
    summary = write_report(tmp_path, table, ["zombie.sprint_speed"], [SURVIVAL, FALL], 1, "Test sweep")
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("# Test sweep") and "| zombie.sprint_speed | runs | survival probability |" in text
    assert format_estimate(summary.iloc[1], SURVIVAL) in text
    csv = pd.read_csv(tmp_path / "report.csv")
    assert list(csv["combination"]) == [0, 1] and {"survival_probability_low", "median_fall_s_high"} <= set(csv)
    assert (tmp_path / "survival_probability.png").stat().st_size > 1000

    two = table.assign(**{"doors.barricade_strength": 100.0})
    two = pd.concat([two, two.assign(combination=two["combination"] + 2, **{"doors.barricade_strength": 500.0})])
    write_report(tmp_path, two, ["zombie.sprint_speed", "doors.barricade_strength"], [SURVIVAL], 1, "Grid")
    assert (tmp_path / "survival_probability-heatmap.png").stat().st_size > 1000
    lines = (tmp_path / "report.md").read_text().splitlines()
    assert sum(line.startswith(("| 4 | 100 |", "| 4 | 500 |", "| 6 | 100 |", "| 6 | 500 |")) for line in lines) == 4
