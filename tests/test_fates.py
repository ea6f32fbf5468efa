"""Fates over seeds: the tables add up, do not depend on the number of workers, and name every character."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyosan.people.fates import FATE_ORDER, SURVIVING_FATES, fate_distribution, parse_seeds
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim

SEEDS = [1, 2, 3]


@pytest.fixture(scope="module")
def roster_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in tiny-school with the show's characters (the built-in one has none, and so no groups)."""
    path = tmp_path_factory.mktemp("fates") / "tiny-roster.toml"
    path.write_text(
        'extends = "tiny-school"\nname = "tiny-roster"\n[run]\nduration = "30 min"\n'
        '[people]\ncharacters = true\nnames = "korean"\n'
    )
    return path


@pytest.fixture(scope="module")
def tables(roster_scenario: Path):
    return fate_distribution(str(roster_scenario), SEEDS, workers=1)


def test_every_count_adds_up(tables, roster_scenario):
    named = tables.named
    assert len(named) > 0
    fates = [c for c in named.columns if c in FATE_ORDER]  # escaped_bitten and rescued_bitten too
    assert (named[fates].sum(axis=1) == len(SEEDS)).all()
    assert (named["runs"] == len(SEEDS)).all()
    assert (named["survived"] == named[list(SURVIVING_FATES)].sum(axis=1)).all()
    assert ((named["ci_low"] <= named["share"]) & (named["share"] <= named["ci_high"])).all()

    everyone = tables.groups[tables.groups["who"] == "everyone"]
    people = len(SchoolSim.from_scenario(load_scenario(str(roster_scenario)), seed=1).state)
    assert tables.people == people
    assert everyone["people_runs"].sum() == people * len(SEEDS)
    assert everyone["survived"].sum() == tables.falls["survivors"].sum()
    assert tables.falls["named"].eq(len(named)).all()
    assert tables.falls["named_survivors"].sum() == named["survived"].sum()

    summary = tables.fall_summary.iloc[0]
    assert summary["fell"] + summary["never"] == len(SEEDS) == len(tables.falls)
    assert summary["fell"] == tables.falls["school_fell_s"].notna().sum()
    assert 1 <= tables.distinct_survival <= tables.distinct_fates <= len(SEEDS)


def test_groups_are_read_at_the_start_of_each_run(tables, roster_scenario):
    scenario = load_scenario(str(roster_scenario))
    started = sum(int(np.count_nonzero(SchoolSim(scenario, seed=s).group >= 0)) for s in SEEDS)
    grouped = tables.groups[(tables.groups["who"] == "everyone") & (tables.groups["start"] == "in a group")]
    assert int(grouped["people_runs"].iloc[0]) == started > 0


def test_workers_do_not_change_the_tables(tables, roster_scenario):
    other = fate_distribution(str(roster_scenario), SEEDS, workers=2)
    for name in ("named", "groups", "group_gap", "falls", "fall_summary"):
        pd.testing.assert_frame_equal(getattr(tables, name), getattr(other, name))
    assert (other.distinct_fates, other.distinct_survival) == (tables.distinct_fates, tables.distinct_survival)
    assert other.to_markdown() == tables.to_markdown()


def test_the_markdown_names_every_character(tables):
    text = tables.to_markdown()
    for name in tables.named["name"]:
        assert f"| {name} |" in text
    assert "## Fates over 3 seeds of tiny-roster" in text


def test_the_built_in_tiny_school_has_no_characters_and_everyone_starts_alone():
    tables = fate_distribution("tiny-school", SEEDS, workers=1)
    assert tables.named.empty and "no named characters" in tables.to_markdown()
    assert list(tables.groups["start"]) == ["in a group", "alone"]
    assert tables.groups["people_runs"].tolist() == [0, tables.people * len(SEEDS)]
    assert tables.groups["survived"].sum() == tables.falls["survivors"].sum()


def test_seeds_parse_and_mistakes_are_user_errors(cli, tmp_path):
    assert parse_seeds("1-3,7") == [1, 2, 3, 7]
    for bad, says in (("1-3,2", "given twice"), ("5-1", "runs backwards"), ("x", "expected seeds")):
        result = cli("fates", "tiny-school", "--seeds", bad)
        assert result.exit_code == 2 and says in result.stderr
    result = cli("fates", "no-such-scenario", "--seeds", "1")
    assert result.exit_code == 2


def test_the_command_writes_the_markdown(cli, tmp_path):
    out = tmp_path / "fates.md"
    result = cli("fates", "tiny-school", "--seeds", "1", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("## Fates over 1 seed of tiny-school")
