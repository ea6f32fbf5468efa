"""Quantities with units in scenario files."""

import pytest

from hyosan.units import format_duration, parse_quantity


@pytest.mark.parametrize(
    ("value", "dimension", "expected"),
    [
        (90, "duration", 90.0),
        ("90 s", "duration", 90.0),
        ("15 min", "duration", 900.0),
        ("2h", "duration", 7200.0),
        ("3 days", "duration", 259200.0),
        ("01:30", "duration", 5400.0),
        ("00:00:15", "duration", 15.0),
        ("1.5 km", "length", 1500.0),
        ("50 cm", "length", 0.5),
        ("36 km/h", "speed", 10.0),
        ("6 m/s", "speed", 6.0),
        ("95 dB", "level", 95.0),
        (2.5, "speed", 2.5),
    ],
)
def test_parse_quantity_converts_to_canonical_units(value, dimension, expected):
    assert parse_quantity(value, dimension) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "dimension", "fragment"),
    [
        ("8 kg", "speed", "got unit 'kg'"),
        ("fast", "speed", "expected a speed"),
        ("3 m", "duration", "'m' is a unit of length"),
        (True, "length", "expected a length"),
        ([1], "duration", "got list"),
        ("nan", "length", "expected a length"),
        ("25:99", "duration", "expected a duration"),
    ],
)
def test_parse_quantity_rejects_wrong_units_with_the_expected_form(value, dimension, fragment):
    with pytest.raises(ValueError, match="expected a") as info:
        parse_quantity(value, dimension)
    assert fragment in str(info.value)


def test_format_duration_reads_as_hours_minutes_seconds():
    assert format_duration(0) == "0:00:00"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(72 * 3600) == "72:00:00"
