"""Scenario overrides by dotted key, validated like a scenario file."""

from __future__ import annotations

import pytest

from hyosan.ensemble.overrides import override_scenario, parse_key, scenario_value
from hyosan.errors import UserInputError
from hyosan.scenario import load_scenario


@pytest.fixture(scope="module")
def tiny():
    return load_scenario("tiny-school")


def test_an_override_changes_the_value_and_the_hash(tiny):
    changed = override_scenario(tiny, {"zombie.sprint_speed": "18 km/h", "doors.barricade_strength": 100})
    assert changed.zombie.sprint_speed == pytest.approx(5.0)  # units as in a scenario file
    assert changed.doors.barricade_strength == 100.0
    assert changed.content_hash() != tiny.content_hash()
    assert tiny.zombie.sprint_speed == 7.0  # the original is untouched
    # Everything else is as before: setting the old value back gives the old content.
    same = override_scenario(tiny, {"zombie.sprint_speed": tiny.zombie.sprint_speed})
    assert same.content_hash() == tiny.content_hash()


def test_the_same_override_written_in_a_file_hashes_the_same(tiny, tmp_path):
    path = tmp_path / "fast.toml"
    path.write_text('extends = "tiny-school"\n[zombie]\nsprint_speed = 5.0\n')
    assert override_scenario(tiny, {"zombie.sprint_speed": 5}).content_hash() == load_scenario(path).content_hash()


def test_items_of_lists_and_tables(tiny):
    changed = override_scenario(tiny, {"events[0].at": "00:05", "world.floors[1].rooms.i.light": True})
    assert changed.events[0].at == 300.0 and changed.world.floors[1].rooms["i"].light is True
    path, _ = parse_key("events.0.at", tiny)
    assert scenario_value(changed, path) == 300.0
    assert override_scenario(tiny, {"infection.turn_delay.median": 60}).infection.turn_delay.median == 60.0


def test_integer_parameters_are_recognised(tiny):
    assert parse_key("people.students", tiny)[1] is int
    assert parse_key("zombie.sprint_speed", tiny)[1] is float


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"zombie.sprint_sped": 4}, "did you mean 'sprint_speed'"),
        ({"zombi.sprint_speed": 4}, "did you mean 'zombie'"),
        ({"zombie.sprint_speed": "fast"}, "expected a speed such as"),
        ({"zombie.sprint_speed": 99}, "less than or equal to 15"),
        ({"people.students": 3.5}, "valid integer"),
        ({"zombie": 3}, "is a table"),
        ({"events[9].at": 3}, "list of 2 items"),
        ({"world.floors[0].rooms.z.light": True}, "unknown key 'z'"),
        ({"zombie.sprint_speed.x": 1}, "single value"),
        ({"run.seed": 3}, "master seed"),
        ({"infection.turn_delay.median": "2 h"}, "must be longer than the median"),
    ],
)
def test_mistakes_name_the_option_and_what_was_expected(tiny, changes, fragment):
    with pytest.raises(UserInputError, match="--set") as info:
        override_scenario(tiny, changes)
    assert fragment in str(info.value)
