"""The runs table: atomic parts, one row per key, a manifest that refuses mixing, a lock against two writers."""

from __future__ import annotations

import pandas as pd
import pytest

from hyosan.ensemble.table import MANIFEST, comparable, load_table, open_table
from hyosan.errors import UserInputError

MANIFEST_A = {"model": {"model": "test"}, "combinations": [{"a": 1.0}, {"a": 2.0}], "seed": 3}


def rows(combination, replicates, value=0.5):
    return [{"combination": combination, "replicate": r, "x": value + r, "wall_s": 0.1 * r} for r in replicates]


def test_parts_add_up_and_compaction_keeps_every_row(tmp_path):
    with open_table(tmp_path / "t", MANIFEST_A) as table:
        assert table.keys() == set()
        table.append(rows(1, [0, 1]))
        table.append(rows(0, [2]))
        assert table.append([]) is None
        assert table.keys() == {(1, 0), (1, 1), (0, 2)}
        before = table.read()
        after = table.compact()
        assert table.part_files() == []
        pd.testing.assert_frame_equal(before, after)
        table.append(rows(0, [0]))
    frame = load_table(tmp_path / "t")
    assert list(zip(frame["combination"], frame["replicate"], strict=True)) == [(0, 0), (0, 2), (1, 0), (1, 1)]


def test_a_key_written_twice_is_read_once(tmp_path):
    # As after a kill between writing runs.parquet and deleting the parts it folded in.
    with open_table(tmp_path / "t", MANIFEST_A) as table:
        table.append(rows(0, [0, 1]))
        table.compact()
        table.append(rows(0, [1, 2]))
        assert len(table.read()) == 3


def test_a_different_ensemble_is_refused(tmp_path):
    open_table(tmp_path / "t", MANIFEST_A).close()
    with pytest.raises(UserInputError, match=r"different ensemble \(seed: 3 there, 4 now\)"):
        open_table(tmp_path / "t", {**MANIFEST_A, "seed": 4})
    with pytest.raises(UserInputError, match="grid: a=1,2 there, a=1,3 now"):
        open_table(tmp_path / "t", {**MANIFEST_A, "combinations": [{"a": 1.0}, {"a": 3.0}]})
    open_table(tmp_path / "t", dict(MANIFEST_A)).close()  # the same ensemble opens again
    assert (tmp_path / "t" / MANIFEST).is_file()


def test_two_writers_are_refused_and_stale_temp_files_removed(tmp_path):
    with open_table(tmp_path / "t", MANIFEST_A), pytest.raises(UserInputError, match="another hyosan process"):
        open_table(tmp_path / "t", MANIFEST_A)
    stale = tmp_path / "t" / "parts" / ".part-1.parquet.abc.tmp"
    stale.write_bytes(b"half a file")
    with open_table(tmp_path / "t", MANIFEST_A) as table:
        assert not stale.exists() and table.keys() == set()


def test_comparable_ignores_wall_time_and_order():
    a = pd.DataFrame(rows(0, [0, 1]))
    b = pd.DataFrame(rows(0, [1, 0])).assign(wall_s=9.0)[["x", "wall_s", "replicate", "combination"]]
    assert comparable(a).equals(comparable(b))
    assert not comparable(a).equals(comparable(b.assign(x=0.0)))


def test_a_folder_that_is_no_ensemble_is_left_alone(tmp_path):
    with pytest.raises(UserInputError, match="not a hyosan ensemble folder"):
        load_table(tmp_path)
    (tmp_path / "summary.json").write_text("{}")  # e.g. the results folder of a single run
    with pytest.raises(UserInputError, match="holds other files than an ensemble"):
        open_table(tmp_path, MANIFEST_A)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
