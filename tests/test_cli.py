"""The `hyosan` command as a user sees it: check, scenarios, run, and scenario mistakes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_describes_the_tiny_school(cli):
    result = cli("check", "tiny-school")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for fragment in (
        "tiny-school",
        "1F",
        "2F",
        "Science lab",
        "Library",
        "7 closed",
        "1 locked",
        "2 open",
        "Stairwells (1)",
        "Exits",
        "40 (34 students, 4 teachers, 2 staff)",
        "capacity 486",
        "patient_zero in Science lab",
    ):
        assert fragment in out, fragment


def test_check_without_argument_describes_hyosan_high(cli):
    result = cli("check")
    assert result.exit_code == 0, result.stderr
    assert "hyosan-high" in result.stdout
    for room in (
        "Classroom 2-5",
        "Science lab",
        "Infirmary",
        "Broadcasting room",
        "Library",
        "Music room",
        "Rooftop",
        "Gym",
        "Archery hall",
    ):
        assert room in result.stdout, room


def test_scenarios_lists_every_builtin_with_its_description(cli):
    result = cli("scenarios")
    assert result.exit_code == 0
    assert "hyosan-high" in result.stdout and "tiny-school" in result.stdout


def test_run_writes_the_results_folder_and_a_summary(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "tiny-school", "--seed", "3", "--until", "20 min")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "runs" / "tiny-school-seed3"
    for name in (
        "summary.json",
        "timeseries.parquet",
        "timeseries.csv",
        "events.jsonl",
        "people.csv",
        "trajectories.parquet",
        "run-info.json",
    ):
        assert (folder / name).is_file(), name
    assert "first bite" in result.stdout and "results written to" in result.stdout
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["simulated_s"] == 1200.0


def test_run_quiet_and_custom_folder(cli, tmp_path):
    result = cli("run", "tiny-school", "--until", "00:05", "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "summary.json").is_file()
    assert "first bite" not in result.stdout


def test_run_refuses_a_bad_until(cli, tmp_path):
    result = cli("run", "tiny-school", "--until", "soon", "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert "--until: expected a duration" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("extra", "line", "fragment"),
    [
        ('[[world.doors]]\nfloor = "3F"\nrow = 5\ncol = 5\nstate = "open"\n', 4, "no floor named '3F'"),
        ('[[world.doors]]\nfloor = "1F"\nrow = 2\ncol = 2\nstate = "barricaded"\n', 3, "is not a door on the map"),
        (
            '[[world.doors]]\nfloor = "1F"\nrow = 5\ncol = 5\nstate = "open"\nbarricade_strength = "10 min"\n',
            8,
            "only applies to barricaded doors",
        ),
        ('[[events]]\nat = "00:10"\nkind = "phone_call"\nroom = "Libary"\n', 6, "did you mean 'Library'"),
        ('[[events]]\nat = "3 h"\nkind = "power_cut"\n', 4, "after the end of the run"),
        ("[people]\nstudents = 5000\n", 3, "do not fit"),
        ('[people]\nroster = "nobody.csv"\n', 4, "roster file not found"),
    ],
)
def test_world_mistakes_point_at_the_scenario_line(cli, tmp_path, extra, line, fragment):
    path = write(tmp_path, 'extends = "tiny-school"\nname = "t"\n' + extra)
    result = cli("check", path)
    assert result.exit_code == 2
    assert f"error: {path}:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_barricaded_door_setting_is_applied(tmp_path):
    from hyosan.building import DoorState
    from hyosan.scenario import load_scenario
    from hyosan.world import build_building

    path = write(
        tmp_path,
        'extends = "tiny-school"\n[[world.doors]]\nfloor = "1F"\nrow = 5\ncol = 5\nstate = "barricaded"\nbarricade_strength = "10 min"\n',
    )
    b = build_building(load_scenario(path))
    assert b.door_state[0, 4, 4] == DoorState.BARRICADED
    assert b.barricade_strength[0, 4, 4] == pytest.approx(600.0)


@pytest.mark.parametrize(
    ("roster", "fragment", "where"),
    [
        ("name,class\nKim,2-5\n", "roster needs columns role", ":1:1:"),
        ("name,role\nKim,student\nLee,janitor\n", "role 'janitor' is not one of", ":3:2:"),
        ("name,role\n,student\n", "empty name", ":2:1:"),
    ],
)
def test_roster_mistakes(cli, tmp_path, roster, fragment, where):
    write(tmp_path, roster, "roster.csv")
    path = write(tmp_path, 'extends = "tiny-school"\n[people]\nroster = "roster.csv"\n')
    result = cli("check", path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'roster.csv'}{where}" in result.stderr and fragment in result.stderr


def test_roster_counts_people_by_role(cli, tmp_path):
    write(tmp_path, "name,role\nNam On-jo,student\nLee Cheong-san,student\nPark Sun-hwa,teacher\n", "roster.csv")
    path = write(tmp_path, 'extends = "tiny-school"\n[people]\nroster = "roster.csv"\n')
    result = cli("check", path)
    assert result.exit_code == 0, result.stderr
    assert "3 (2 students, 1 teacher)" in result.stdout


def test_console_script_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, 'extends = "tiny-school"\n[zombie]\nsprint_sped = 9\n')
    proc = subprocess.run(
        [sys.executable, "-m", "hyosan", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f"error: {path}:3:1: unknown key 'sprint_sped' in zombie; did you mean 'sprint_speed'?"
    )
