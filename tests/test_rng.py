"""Named random streams."""

import numpy as np
import pytest

from hyosan.rng import RandomStreams


def test_same_seed_and_name_give_the_same_numbers():
    a = RandomStreams(7)["movement"].random(5)
    b = RandomStreams(7)["movement"].random(5)
    assert np.array_equal(a, b)


def test_streams_do_not_depend_on_each_other():
    # Drawing from "bites" first must not change "movement": subsystems stay independent.
    s1 = RandomStreams(3)
    s1["bites"].random(1000)
    s2 = RandomStreams(3)
    assert np.array_equal(s1["movement"].random(5), s2["movement"].random(5))


def test_different_names_and_seeds_differ():
    s = RandomStreams(1)
    assert not np.array_equal(s["movement"].random(5), s["bites"].random(5))
    assert not np.array_equal(RandomStreams(1)["x"].random(5), RandomStreams(2)["x"].random(5))
    assert RandomStreams(1).seed_for("x") != RandomStreams(1).seed_for("y")
    assert RandomStreams(1).seed_for("x") == RandomStreams(1).seed_for("x")
    assert 0 <= RandomStreams(1).seed_for("x") < 2**63


def test_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        RandomStreams(-1)
