"""Scenario loading: defaults, extends, locations of mistakes, and the content hash."""

from pathlib import Path

import pytest

from hyosan.errors import UserInputError
from hyosan.scenario import Scenario, builtin_scenarios, load_scenario


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtins_include_the_default_and_the_tutorial_school():
    names = builtin_scenarios()
    assert {"hyosan-high", "tiny-school"} <= set(names)
    for name in names:
        assert load_scenario(name).name == name


def test_default_scenario_is_hyosan_high():
    assert load_scenario().name == "hyosan-high"


def test_tiny_school_values_are_converted_to_canonical_units():
    s = load_scenario("tiny-school")
    assert s.run.duration == 7200.0
    assert s.run.record_every == 30.0
    assert s.events[0].turn_after == 600.0
    assert s.events[1].at == 1800.0
    assert s.events[1].loudness == 90.0  # announcements default to a loud broadcast
    assert s.zombie.sprint_speed > s.people.sprint_speed  # LORE: zombies outrun students


def test_extends_overrides_only_what_the_child_says(tmp_path):
    path = write(tmp_path, 'extends = "tiny-school"\nname = "mine"\n[zombie]\nsprint_speed = "36 km/h"\n')
    s = load_scenario(path)
    base = load_scenario("tiny-school")
    assert s.name == "mine"
    assert s.zombie.sprint_speed == pytest.approx(10.0)
    assert s.zombie.sight_range_lit == base.zombie.sight_range_lit
    assert s.world.floors == base.world.floors  # parent's maps resolve relative to the parent file
    assert s.events == base.events


def test_arrays_replace_the_parents_array(tmp_path):
    path = write(tmp_path, 'extends = "tiny-school"\nname = "quiet"\n[[events]]\nat = "00:05"\nkind = "power_cut"\n')
    s = load_scenario(path)
    assert [e.kind for e in s.events] == ["power_cut"]


def test_extends_a_file_relative_to_the_child(tmp_path):
    write(tmp_path, 'extends = "tiny-school"\nname = "parent"\n[run]\nseed = 42\n', "parent.toml")
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub", 'extends = "../parent.toml"\nname = "child"\n')
    assert load_scenario(child).run.seed == 42


def test_extends_loop_is_an_error(tmp_path):
    write(tmp_path, 'extends = "b.toml"\nname = "a"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\nname = "b"\n', "b.toml")
    with pytest.raises(UserInputError, match="loop"):
        load_scenario(tmp_path / "a.toml")


def test_content_hash_depends_on_content_not_on_where_files_live(tmp_path):
    a = load_scenario("tiny-school")
    b = load_scenario(write(tmp_path, 'extends = "tiny-school"\n'))
    c = load_scenario(write(tmp_path, 'extends = "tiny-school"\n[run]\nseed = 2\n', "c.toml"))
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        (
            'name = "x"\n[world]\n[[world.floors]]\nname = "1F"\nmap = "m.txt"\nlayr = "a"\n',
            6,
            1,
            "did you mean 'layer'",
        ),
        ('extends = "tiny-school"\n[zombie]\nsprint_sped = 7\n', 3, 1, "did you mean 'sprint_speed'"),
        ('extends = "tiny-school"\n[zombie]\nflavour = 7\n', 3, 1, "expected one of:"),
        ('extends = "tiny-school"\n[zombie]\nsprint_speed = "8 kg"\n', 3, 1, "expected a speed"),
        ('extends = "tiny-school"\n[run]\nseed = "one"\n', 3, 1, "run.seed"),
        ('extends = "tiny-school"\n[infection]\nturn_delay = { median = "1 h", p90 = "10 min" }\n', 3, 1, "p90"),
        ('extends = "tiny-school"\n[infection.turn_delay]\ndistribution = "gamma"\n', 3, 1, "lognormal"),
        ('extends = "tiny-school"\n[[events]]\nat = "00:10"\nkind = "phone_call"\n', 2, 3, "needs a room"),
        ('extends = "tiny-school"\n[[events]]\nat = "00:10"\nkind = "party"\n', 4, 1, "'patient_zero'"),
        ('extends = "tiny-school"\n[people]\nstudents = 1_000_000_000\n', 3, 1, "school-scale agent model"),
        (
            'extends = "tiny-school"\n[people]\nstudents = 600_000\nteachers = 600_000\n',
            2,
            2,
            "1,200,002 people is more than",
        ),
        (
            'extends = "tiny-school"\n[[events]]\nat = "00:10"\nkind = "power_cut"\nroom = "Library"\n',
            2,
            3,
            "does not use room",
        ),
        (
            'extends = "tiny-school"\n[[events]]\nat = "00:10"\nkind = "rescue"\nroom = "Library"\ncount = 3\n',
            2,
            3,
            "does not use count",
        ),
        ('extends = "tiny-school"\n[run]\nstart_clock = "8.30"\n', 3, 1, "HH:MM"),
        ('extends = "tiny-school"\n[world.floors]\n', None, None, "floors"),
        ('name = "x"\n', None, None, "missing required key world"),
    ],
)
def test_mistakes_name_the_file_line_and_what_was_expected(tmp_path, text, line, col, fragment):
    path = write(tmp_path, text)
    with pytest.raises(UserInputError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    assert fragment in err.message
    if line is not None:
        assert (err.line, err.col) == (line, col)


def test_bad_toml_reports_line_and_column(tmp_path):
    path = write(tmp_path, 'name = "x"\n[zombie\nsprint_speed = 3\n')
    with pytest.raises(UserInputError, match="not valid TOML") as info:
        load_scenario(path)
    assert info.value.line == 2


def test_unknown_builtin_suggests_the_closest(tmp_path):
    with pytest.raises(UserInputError, match="did you mean 'tiny-school'"):
        load_scenario("tiny-schol")


def test_missing_scenario_file(tmp_path):
    with pytest.raises(UserInputError, match="not found") as info:
        load_scenario(tmp_path / "nope.toml")
    assert info.value.file.endswith("nope.toml")


def test_locate_points_into_inline_tables():
    s = load_scenario("tiny-school")
    path, line, col = s.locate("world", "floors", 1, "rooms", "i", "light")
    assert path is not None
    text = path.read_text().splitlines()[line - 1]
    assert text[col - 1 :].startswith("light")


def test_every_schema_field_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    missing = []

    def walk(model):
        for name, field in model.model_fields.items():
            if f"`{name}`" not in doc:
                missing.append(f"{model.__name__}.{name}")
            from hyosan.scenario import _inner_model

            inner = _inner_model(field.annotation)
            if isinstance(inner, type) and hasattr(inner, "model_fields"):
                walk(inner)

    walk(Scenario)
    assert not missing, f"docs/scenarios.md does not mention: {missing}"


def test_a_value_out_of_range_is_reported_in_its_unit(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('extends = "tiny-school"\nname = "s"\n[run]\ntick = "2 min"\n')
    with pytest.raises(UserInputError, match=r"run\.tick: input should be less than or equal to 60 s; got 120 s"):
        load_scenario(path)
    path.write_text('extends = "tiny-school"\nname = "s"\n[zombie]\nsprint_speed = "80 km/h"\n')
    with pytest.raises(UserInputError, match=r"less than or equal to 15 m/s; got 22\.2222 m/s"):
        load_scenario(path)
