"""`hyosan sweep` and `hyosan sensitivity` as a user runs them: reports, resuming, and mistakes that exit 2."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "zombie.sprint_sped=4,5"], "did you mean 'sprint_speed'?"),
        (
            ["--set", "zombie.sprint_speed=4,fast"],
            "--set zombie.sprint_speed=fast: zombie.sprint_speed: expected a speed",
        ),
        (["--set", "zombie.sprint_speed=4:6:0"], "whole count >= 1"),
        (["--set", "doors.barricade_strength=-5,5"], "greater than or equal to 0"),
        (["--set", "zombie"], "expected KEY=VALUES"),
        (["--set", "run.seed=1,2"], "master seed"),
        (["--replicates", "0"], "--replicates must be 1 or more"),
    ],
)
def test_bad_sweep_options_exit_2_with_a_message(cli, tmp_path, args, fragment):
    result = cli("sweep", "tiny-school", "--out", tmp_path / "out", "--workers", "1", *args)
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("out/parts/*.parquet"))


def test_a_classic_sweep_reports_and_a_rerun_continues(cli, tmp_path):
    out = tmp_path / "alemi"
    args = ["sweep", "classic-alemi", "--set", "alpha=0.5,1.5", "--replicates", "200", "--workers", "1", "--out", out]
    first = cli(*args)
    assert first.exit_code == 0, first.stderr
    assert "ran 400 runs" in first.stdout and "extinction probability" in first.stdout
    report = pd.read_csv(out / "report.csv")
    assert list(report["alpha"]) == [0.5, 1.5] and list(report["runs"]) == [200, 200]
    assert (report["extinction_probability_low"] <= report["extinction_probability"]).all()
    assert (out / "extinction_probability.png").is_file()
    again = cli(*args[:-5], "300", "--workers", "1", "--out", out)
    assert "ran 200 runs (400 were already done)" in again.stdout
    other = cli("sweep", "classic-alemi", "--set", "alpha=0.7", "--replicates", "5", "--out", out)
    assert other.exit_code == 2 and "holds runs of a different ensemble" in other.stderr
    assert "alpha=0.5,1.5 there, alpha=0.7 now" in other.stderr


def test_a_school_sweep_writes_the_table_and_a_report(cli, tmp_path):
    out = tmp_path / "school"
    result = cli("sweep", "tiny-school", "--set", "zombie.sprint_speed=4,6", "-r", "2", "-w", "1", "--out", out, "-q")
    assert result.exit_code == 0, result.stderr
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == 4 and {"survived_fraction", "school_fell_s", "seed", "replicate"} <= set(table)
    text = (out / "report.md").read_text()
    assert "| zombie.sprint_speed | runs | survival probability | P(school falls) |" in text
    assert (out / "survival_probability.png").is_file()


def test_sensitivity_ranks_the_parameters(cli, tmp_path):
    out = tmp_path / "sens"
    args = ["sensitivity", "classic-alemi", "--param", "alpha=0.3:1.5", "--param", "beta=0.5:2", "--samples", "16"]
    result = cli(*args, "-r", "20", "-w", "1", "--out", out)
    assert result.exit_code == 0, result.stderr
    indices = pd.read_csv(out / "sensitivity.csv").set_index(["output", "parameter"])
    assert len(pd.read_parquet(out / "runs.parquet")) == 16 * 4 * 20
    # β only sets the time unit of the SZR model: extinction depends on α alone.
    assert (
        indices.loc[("extinction_probability", "alpha"), "ST"] > indices.loc[("extinction_probability", "beta"), "ST"]
    )
    bad = cli(*args[:-1], "12", "--out", tmp_path / "bad")
    assert bad.exit_code == 2 and "power of two" in bad.stderr
    unknown = cli("sensitivity", "tiny-school", "--param", "zombie.sprint_sped=4:7", "--out", tmp_path / "bad")
    assert unknown.exit_code == 2 and "--param zombie.sprint_sped: unknown key" in unknown.stderr
