"""The roster: the show's characters, a user's people and generated ones, their classes, traits and ties."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyosan.ensemble.overrides import override_scenario
from hyosan.people.roster import SYMMETRIC_KINDS, TIE_KINDS, build_roster, role_counts
from hyosan.scenario import load_scenario
from hyosan.school import SchoolSim

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "my-class"
SHOW_2_5 = {"Nam On-jo", "Lee Cheong-san", "Lee Su-hyeok", "Choi Nam-ra", "Lee Na-yeon", "Yang Dae-su"}


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def scenario_with(tmp_path: Path, people: str, extends: str = "tiny-school", extra: str = "") -> Path:
    return write(tmp_path, f'extends = "{extends}"\n{extra}[people]\n{people}\n', "s.toml")


@pytest.fixture(scope="module")
def default_roster():
    return build_roster(load_scenario("hyosan-high"), np.random.default_rng(1))


# --- the default school -------------------------------------------------------------------------------


def test_the_default_school_keeps_its_counts_with_the_characters_in_their_classes(default_roster):
    r = default_roster
    assert Counter(r.role) == {"student": 900, "teacher": 45, "staff": 15}
    roles = list(r.role)
    assert roles == sorted(roles, key=["student", "teacher", "staff", "soldier"].index)  # the order the run uses
    assert len(set(r.name)) == len(r)
    named = dict(zip(r.name[r.named], r.class_name[r.named], strict=True))
    assert set(named) >= SHOW_2_5 and all(named[n] == "2-5" for n in SHOW_2_5)
    assert named["Park Sun-hwa"] == "2-5" and r.role[r.index_of("Park Sun-hwa")] == "teacher"
    assert r.courage[r.index_of("Lee Cheong-san")] == pytest.approx(0.95)
    assert np.isnan(r.courage[~r.named]).all()
    # Generated students fill the 30 classrooms evenly, the named ones included.
    sizes = Counter(r.class_name[r.role == "student"])
    assert len(sizes) == 30 and max(sizes.values()) - min(sizes.values()) <= 1


def test_the_shows_ties_are_there_both_ways_where_they_should_be(default_roster):
    r = default_roster
    t = r.ties
    on = r.index_of("Nam On-jo")
    cheong = r.index_of("Lee Cheong-san")
    edges = set(zip(t["person"], t["other"], t["kind"], strict=True))
    assert (cheong, on, "best_friend") in edges and (on, cheong, "best_friend") in edges
    assert (cheong, on, "crush") in edges and (on, cheong, "crush") not in edges
    gwi, eun = r.index_of("Yoon Gwi-nam"), r.index_of("Park Eun-ji")
    assert (gwi, eun, "bully") in edges and (eun, gwi, "bully") not in edges
    for a, b, kind in edges:
        if kind in SYMMETRIC_KINDS:
            assert (b, a, kind) in edges
    assert t["weight"].between(0, 1).all() and (t["person"] != t["other"]).all()
    assert not t.duplicated(["person", "other", "kind"]).any()


def test_a_teacher_tie_to_a_class_reaches_every_student_of_it_and_no_one_else(default_roster):
    r = default_roster
    teacher = r.index_of("Park Sun-hwa")
    taught = set(r.ties.loc[(r.ties["person"] == teacher) & (r.ties["kind"] == "teacher"), "other"])
    assert taught == set(np.flatnonzero((r.role == "student") & (r.class_name == "2-5")))


def test_ties_in_compressed_rows_are_the_same_ties(default_roster):
    r = default_roster
    offsets, other, kind, weight = r.ties_csr()
    assert offsets[0] == 0 and offsets[-1] == len(r.ties) and np.all(np.diff(offsets) >= 0)
    rows = {
        (i, int(other[k]), TIE_KINDS[kind[k]], round(float(weight[k]), 5))
        for i in range(len(r))
        for k in range(offsets[i], offsets[i + 1])
    }
    frame = {
        (int(a), int(b), k, round(float(w), 5))
        for a, b, k, w in zip(r.ties["person"], r.ties["other"], r.ties["kind"], r.ties["weight"], strict=True)
    }
    assert rows == frame


def test_names_are_deterministic_per_seed_and_differ_between_seeds():
    sc = load_scenario("hyosan-high")
    a, b = build_roster(sc, np.random.default_rng(5)), build_roster(sc, np.random.default_rng(5))
    assert list(a.name) == list(b.name) and a.ties.equals(b.ties)
    c = build_roster(sc, np.random.default_rng(6))
    assert list(a.name[a.named]) == list(c.name[c.named])
    assert (a.name[~a.named] != c.name[~c.named]).mean() > 0.9


def test_generated_ties_are_among_classmates_and_a_few_bully_or_love():
    sc = override_scenario(load_scenario("hyosan-high"), {"people.generated_ties": True})
    r = build_roster(sc, np.random.default_rng(2))
    t = r.ties
    generated = ~r.named
    friends = t[t["kind"] == "friend"]
    mine = generated[friends["person"]] & generated[friends["other"]]
    assert mine.sum() > 900  # a couple of friends each
    same = r.class_name[friends["person"][mine]] == r.class_name[friends["other"][mine]]
    assert same.all()
    kinds = Counter(t.loc[generated[t["person"]], "kind"])
    assert 0 < kinds["bully"] < 0.1 * 900 and 0 < kinds["crush"] < 0.2 * 900
    # Every class has a homeroom teacher.
    homerooms = set(r.class_name[r.role == "teacher"]) - {""}
    assert homerooms == set(r.class_name[r.role == "student"])


def test_a_run_gives_names_classes_and_ties_to_its_results(tmp_path):
    path = scenario_with(tmp_path, 'characters = true\nnames = "korean"')
    sim = SchoolSim(load_scenario(path), seed=3)
    results = sim.run(until=120)
    people = results.people
    assert list(people.columns[:5]) == ["id", "name", "role", "class", "named"]
    assert people["named"].sum() == 19 and len(people) == 40
    on = int(people.index[people["name"] == "Nam On-jo"][0])
    assert people.at[on, "class"] == "2-5"
    assert sim.building.rooms[sim.start_room[on]].name == "Classroom 2-5"  # students start in their classroom
    assert len(results.relationships) == len(sim.roster.ties) > 0
    survivors = people[people["fate"].isin(["healthy", "escaped", "rescued"])]
    assert results.summary["survivors_by_name"] == sorted(survivors.loc[survivors["named"], "name"])


def test_names_come_from_their_own_stream_and_leave_positions_and_traits_alone(tmp_path):
    numbered = SchoolSim(load_scenario(scenario_with(tmp_path, 'names = "numbered"')), seed=4)
    korean = SchoolSim(load_scenario(scenario_with(tmp_path, 'names = "korean"')), seed=4)
    assert numbered.names[0] == "Student 1" and numbered.names[0] != korean.names[0]
    for array in ("floor", "row", "col", "walk_speed", "strength", "courage"):
        assert np.array_equal(getattr(numbered, array), getattr(korean, array)), array


def test_roster_traits_replace_the_drawn_ones(tmp_path):
    write(
        tmp_path,
        "name,role,courage,strength,leadership,speed_factor\nA,student,0.9,2.5,0.8,1.5\nB,student,,,,\n",
        "r.csv",
    )
    plain = write(tmp_path, "name,role\nA,student\nB,student\n", "plain.csv")
    sim = SchoolSim(load_scenario(scenario_with(tmp_path, 'roster = "r.csv"')), seed=1)
    base = SchoolSim(load_scenario(scenario_with(tmp_path, f'roster = "{plain.name}"')), seed=1)
    assert sim.courage[0] == 0.9 and sim.strength[0] == 2.5 and sim.leadership[0] == 0.8
    assert sim.walk_speed[0] == pytest.approx(1.5 * base.walk_speed[0])
    assert sim.courage[1] == base.courage[1] and sim.walk_speed[1] == base.walk_speed[1]


# --- a user's roster ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["with-tiny-school.toml", "with-hyosan-high.toml"])
def test_the_documented_example_class_fits_into_either_school(scenario):
    sc = load_scenario(EXAMPLE / scenario)
    r = build_roster(sc, np.random.default_rng(1))
    counts = Counter(r.role)
    base = load_scenario(sc.extends).people
    assert counts["student"] == base.students and counts["teacher"] == base.teachers  # fill keeps the totals
    da_eun, yu_na = r.index_of("Kim Da-eun"), r.index_of("Choi Yu-na")
    edges = set(zip(r.ties["person"], r.ties["other"], r.ties["kind"], strict=True))
    assert (da_eun, yu_na, "best_friend") in edges and (yu_na, da_eun, "best_friend") in edges
    teacher = r.index_of("Song Mi-ra")
    taught = set(r.ties.loc[(r.ties["person"] == teacher) & (r.ties["kind"] == "teacher"), "other"])
    assert taught == set(np.flatnonzero((r.role == "student") & (r.class_name == "2-6")))
    assert r.courage[r.index_of("Park Ji-hoon")] == pytest.approx(0.8)


def test_a_roster_without_fill_is_the_whole_school_and_replaces_a_character_by_name(tmp_path):
    write(tmp_path, "name,role,class\nNam On-jo,student,2-6\nKim Bo-ra,teacher,\n", "r.csv")
    alone = load_scenario(scenario_with(tmp_path, 'roster = "r.csv"'))
    assert role_counts(alone) == {"student": 1, "teacher": 1}
    both = load_scenario(scenario_with(tmp_path, 'roster = "r.csv"\ncharacters = true\nfill = true'))
    r = build_roster(both, np.random.default_rng(0))
    assert Counter(r.role) == {"student": 34, "teacher": 4, "staff": 2}
    assert list(r.name).count("Nam On-jo") == 1 and r.class_name[r.index_of("Nam On-jo")] == "2-6"


def test_the_counts_grow_to_fit_the_named_people(tmp_path):
    sc = load_scenario(scenario_with(tmp_path, "characters = true\nstudents = 3\nteachers = 0\nstaff = 0"))
    assert role_counts(sc) == {"student": 17, "teacher": 2}


@pytest.mark.parametrize(
    ("files", "people", "fragment", "where"),
    [
        (
            {"r.csv": "name,role\nKim A,student\nLee B,student\n", "t.csv": "person,other,kind\nKim A,Le B,friend\n"},
            'roster = "r.csv"\nties = "t.csv"',
            "no person named 'Le B' in the roster; did you mean 'Lee B'?",
            "t.csv:2:2:",
        ),
        (
            {"r.csv": "name,role\nKim A,student\nLee B,student\n", "t.csv": "person,other,kind\nKim A,Lee B,frend\n"},
            'roster = "r.csv"\nties = "t.csv"',
            "unknown kind of tie 'frend'; did you mean 'friend'?",
            "t.csv:2:3:",
        ),
        (
            {
                "r.csv": "name,role\nKim A,student\nLee B,student\n",
                "t.csv": "person,other,kind,weight\nKim A,Lee B,crush,1.5\n",
            },
            'roster = "r.csv"\nties = "t.csv"',
            "weight must be a number from 0 to 1; got '1.5'",
            "t.csv:2:4:",
        ),
        (
            {"r.csv": "name,role\nKim A,student\nLee B,student\nKim A,teacher\n"},
            'roster = "r.csv"',
            "'Kim A' is already on line 2; names must be unique",
            "r.csv:4",
        ),
        (
            {"r.csv": "name,role\nKim A,studnet\n"},
            'roster = "r.csv"',
            "role 'studnet' is not one of student, teacher, staff, soldier; did you mean 'student'?",
            "r.csv:2:2:",
        ),
        (
            {"r.csv": "name,role,courage\nKim A,student,brave\n"},
            'roster = "r.csv"',
            "courage must be a number from 0 to 1; got 'brave'",
            "r.csv:2:3:",
        ),
        (
            {"r.csv": "name,role,courge\nKim A,student,0.5\n"},
            'roster = "r.csv"',
            "unknown column 'courge'; did you mean 'courage'?",
            "r.csv:1:3:",
        ),
        (
            {
                "r.toml": '[[person]]\nname = "Kim A"\nrole = "student"\n\n[[tie]]\nfrom = "Kim A"\nto = "Park C"\nkind = "friend"\n'
            },
            'roster = "r.toml"',
            "no person named 'Park C' in the roster",
            "r.toml:7:1:",
        ),
        (
            {"r.toml": '[[person]]\nname = "Kim A"\nrole = "student"\nclas = "2-5"\n'},
            'roster = "r.toml"',
            "unknown key 'clas' in a person; did you mean 'class'?",
            "r.toml:4:1:",
        ),
        (
            {"r.toml": '[[person]]\nname = "Kim A"\nrole = "student"\nroom = "Clasroom 2-5"\n'},
            'roster = "r.toml"',
            "no room named 'Clasroom 2-5'; did you mean 'Classroom 2-5'?",
            "r.toml:1",
        ),
        (
            {
                "r.toml": '[[person]]\nname = "Kim A"\nrole = "student"\n\n[[tie]]\nfrom = "Kim A"\nto = "Kim A"\nkind = "teacher"\nweight = -1\n'
            },
            'roster = "r.toml"',
            "weight must be a number from 0 to 1; got -1",
            "r.toml:9:1:",
        ),
    ],
)
def test_roster_mistakes_are_located_and_exit_2(cli, tmp_path, files, people, fragment, where):
    for name, text in files.items():
        write(tmp_path, text, name)
    result = cli("check", scenario_with(tmp_path, people))
    assert result.exit_code == 2, result.stdout
    assert fragment in result.stderr, result.stderr
    assert f"{tmp_path}/{where}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_check_counts_a_filled_roster(cli):
    result = cli("check", EXAMPLE / "with-tiny-school.toml")
    assert result.exit_code == 0, result.stderr
    assert "40 (34 students, 4 teachers, 2 staff)" in result.stdout


# --- nothing scripted -------------------------------------------------------------------------------------


def test_the_named_characters_fates_differ_from_seed_to_seed(tmp_path):
    """Over a few seeds of a small roster scenario, who is bitten, turns, escapes or survives changes."""
    path = scenario_with(
        tmp_path,
        'characters = true\nnames = "korean"',
        extra='[run]\nduration = "60 min"\n'
        '[[events]]\nat = 0\nkind = "patient_zero"\nroom = "Classroom 2-5"\nturn_after = "2 min"\ncount = 2\n',
    )
    sc = load_scenario(path)
    fates = pd.DataFrame({seed: SchoolSim(sc, seed).run().people.set_index("name")["fate"] for seed in range(1, 9)})
    roster = build_roster(sc, np.random.default_rng(0))
    named = fates.loc[roster.name[roster.named]]
    assert len(named) == 19
    varies = named.nunique(axis=1) > 1
    assert varies.sum() >= 6, named  # many characters meet different ends in different runs
    assert named.T.drop_duplicates().shape[0] >= 6  # and almost no two runs tell the same story
    bitten = named.isin(["zombie", "dead", "hambie"])
    assert bitten.any(axis=1).sum() >= 6 and not bitten.all(axis=1).any()  # nobody is doomed in every run
