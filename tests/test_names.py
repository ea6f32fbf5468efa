"""Names of generated people: Korean names drawn per seed, numbered placeholders, no repeats."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from hyosan.people import names
from hyosan.people.names import korean_names, numbered_names

KOREAN = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]*-[a-z]+$")  # "Nam On-jo", "Lee A-ra"


def test_korean_names_are_unique_well_formed_and_deterministic_per_seed():
    first = korean_names(2000, np.random.default_rng(7))
    assert len(first) == len(set(first)) == 2000
    assert all(KOREAN.match(n) for n in first), [n for n in first if not KOREAN.match(n)][:5]
    assert first == korean_names(2000, np.random.default_rng(7))
    other = korean_names(2000, np.random.default_rng(8))
    assert first != other
    assert len(set(first) & set(other)) < 1000  # most names differ between seeds


def test_surnames_follow_their_share_of_the_population():
    drawn = korean_names(5000, np.random.default_rng(1))
    share = Counter(n.split()[0] for n in drawn)
    # Kim is about 21.5 % of Koreans, Lee 14.7 %, Park 8.4 % (binomial sd below 0.6 %).
    assert abs(share["Kim"] / 5000 - 0.215) < 0.03
    assert abs(share["Lee"] / 5000 - 0.147) < 0.03
    assert share["Kim"] > share["Lee"] > share["Park"] > share["Choi"]


def test_names_already_taken_are_never_drawn():
    taken = korean_names(300, np.random.default_rng(3))
    again = korean_names(300, np.random.default_rng(3), taken=taken)
    assert not set(again) & set(taken)


def test_when_combinations_run_out_names_get_a_number(monkeypatch):
    tiny = (np.array(["Kim"], dtype=object), np.array([1.0]))
    first = (np.array(["Min"], dtype=object), np.array([1.0]))
    second = (np.array(["Jun", "Ho"], dtype=object), np.array([0.5, 0.5]))
    monkeypatch.setattr(names, "_syllables", lambda: (tiny, first, second))
    drawn = korean_names(5, np.random.default_rng(0))
    assert len(set(drawn)) == 5
    assert {"Kim Min-jun", "Kim Min-ho"} <= set(drawn)
    assert sum(bool(re.fullmatch(r"Kim Min-(jun|ho) \d+", n)) for n in drawn) == 3


def test_numbered_names_count_per_role_and_skip_names_in_use():
    roles = ["student", "student", "teacher", "student", "staff"]
    assert numbered_names(roles) == ["Student 1", "Student 2", "Teacher 1", "Student 3", "Staff 1"]
    assert numbered_names(["student", "student"], taken=["Student 1"]) == ["Student 2", "Student 3"]
