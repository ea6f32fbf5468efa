"""`hyosan country`: what a user sees, what lands on disk, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path / "cache"))


def test_korea_from_seoul_writes_every_output(cli, tmp_path) -> None:
    out = tmp_path / "kr"
    gif = tmp_path / "kr.gif"
    result = cli(
        "country", "--country", "KR", "--from-place", "Seoul", "--cell-km", "20", "--days", "12",
        "--method", "tau", "--out", out, "--maps", "3,12", "--animate", gif,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "KR" in result.stdout and "results written to" in result.stdout
    assert "50% fallen" in result.stdout  # the summary table
    for name in ("summary.json", "run-info.json", "daily.parquet", "daily.csv", "regions.csv", "places.csv",
                 "events.jsonl", "map-day3.png", "map-day12.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert gif.is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["country"] == "KR" and summary["days_simulated"] == 12 and summary["method"] == "tau"
    assert summary["start"] == "10 zombies at Seoul"


def test_raster_file_with_cells_and_overrides(cli, tmp_path) -> None:
    grid = tmp_path / "grid.npy"
    np.save(grid, np.full((10, 10), 500.0))
    out = tmp_path / "r"
    result = cli(
        "country", "--population", grid, "--at-cell", "5,5", "--days", "5", "--out", out, "--quiet",
        "--set", "bite_rate=3", "--set", "trip_rate=0", "--zombies", "25",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["bite_rate"] == 3 and summary["population"] == 50_000
    assert summary["start"] == "25 zombies at cell 5,5"


def test_config_file_with_a_cordon(cli, tmp_path) -> None:
    grid = tmp_path / "grid.npy"
    np.save(grid, np.full((1, 30), 1_000.0))
    config = tmp_path / "c.toml"
    config.write_text("[[cordon]]\ncells = [[0, 3]]\ncell_radius = 5.5\nleak = 0\n")
    result = cli("country", "--population", grid, "--at-cell", "0,3", "--days", "15", "--out", tmp_path / "o",
                 "--config", config, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["cordons"][0]["broke_day"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "KRR"], "unknown country code"),
        (["--country", "KR", "--cell-km", "20", "--from-place", "Seoull"], "did you mean 'Seoul'"),
        (["--method", "fast"], "--method must be exact or tau"),
        (["--set", "bite_rat=2"], "did you mean 'bite_rate'"),
        (["--at", "37.5"], "--at expects two numbers"),
        (["--from-place", "Seoul", "--at", "37,127"], "give one start"),
        (["--country", "KR", "--cell-km", "20", "--maps", "200"], "outside the run"),
        (["--animate", "x.avi"], ".gif or .mp4"),
        (["--population", "nowhere.csv"], "not found"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(cli, tmp_path, args, message) -> None:
    result = cli("country", "--out", tmp_path / "x", "--days", "2", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_names_file_and_line(cli, tmp_path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[model]\nbite_rate = -1\n")
    result = cli("country", "--config", config, "--days", "1", "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert f"{config}:2:1:" in result.stderr


def test_school_run_without_infected_escapees_is_explained(cli, tmp_path) -> None:
    from hyosan.scenario import load_scenario
    from hyosan.school import SchoolSim

    school = tmp_path / "school"
    SchoolSim(load_scenario("tiny-school"), 1).run().save(school)
    people = __import__("pandas").read_csv(school / "people.csv")
    result = cli("country", "--from", school, "--cell-km", "20", "--days", "3", "--out", tmp_path / "c", "--quiet")
    if result.exit_code == 2:
        assert "--breakout" in result.stderr
    breakout = cli("country", "--from", school, "--breakout", "--cell-km", "20", "--days", "3",
                   "--out", tmp_path / "b", "--quiet")  # fmt: skip
    if people["fate"].isin(["zombie", "bitten", "hambie"]).any():
        assert breakout.exit_code == 0, breakout.stderr
        summary = json.loads((tmp_path / "b" / "summary.json").read_text())
        assert "Hyosan (at Cheonan)" in summary["start"]
