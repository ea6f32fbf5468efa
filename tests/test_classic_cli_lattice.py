"""`hyosan classic lattice` and `hyosan classic critical` as a user runs them."""

import json

import pandas as pd
import pytest
from matplotlib.image import imread


def test_lattice_prints_a_table_and_writes_png_csv_parquet(cli, tmp_path):
    png, csv, parquet = tmp_path / "c.png", tmp_path / "run.csv", tmp_path / "run.parquet"
    result = cli(
        "classic", "lattice", "--alpha", "0.3", "--size", "48", "--seed", "4",
        "--png", png, "--csv", csv, "--parquet", parquet,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for fragment in ("Lattice outbreak", "48 x 48 (open)", "events", "spans", "run time"):
        assert fragment in result.stdout, fragment
    assert imread(png).shape[:2] == (480, 480)
    row = pd.read_csv(csv).iloc[0]
    assert row["events"] == row["bites"] + row["kills"]
    assert row["susceptible"] + row["zombies"] + row["removed"] == 48 * 48
    assert pd.read_parquet(parquet).iloc[0]["events"] == row["events"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "run.csv", "run.parquet"]


def test_lattice_same_seed_same_result(cli, tmp_path):
    outputs = []
    for name in ("a.csv", "b.csv"):
        result = cli(
            "classic",
            "lattice",
            "--alpha",
            "0.4",
            "--size",
            "32",
            "--seed",
            "7",
            "--periodic",
            "--csv",
            tmp_path / name,
        )
        assert result.exit_code == 0, result.stderr
        outputs.append(pd.read_csv(tmp_path / name).drop(columns="seconds"))
    pd.testing.assert_frame_equal(*outputs)
    assert bool(outputs[0]["periodic"].iloc[0])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["lattice", "--size", "2"], "--size must be > 2"),
        (["lattice", "--alpha", "-0.5"], "--alpha must be a finite number >= 0"),
        (["lattice", "--size", "1000000"], "too large"),
        (["lattice", "--zombie", "1;2"], "ROW,COL"),
        (["lattice", "--zombie", "99,0", "--size", "10"], "outside"),
        (["lattice", "--png", "no/such/folder/x.png"], "does not exist"),
        (["critical", "--sizes", "64,abc"], "--sizes expects comma-separated integers"),
        (["critical", "--sizes", "64"], "at least two different sizes"),
        (["critical", "--sizes", "2,64"], "must be > 2"),
        (["critical", "--sizes", "64,1000000"], "too large"),
        (["critical", "--alphas", "0.4,x"], "--alphas expects"),
        (["critical", "--alphas", "0.4,0.5"], "at least three"),
        (["critical", "--alphas", "-0.1:0.5:4"], "every alpha must be"),
        (["critical", "--seeding", "corner"], "--seeding"),
        (["critical", "--json", "no/such/folder/x.json"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(cli, args, fragment):
    result = cli("classic", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_critical_runs_end_to_end_on_tiny_sizes(cli, tmp_path):
    out, cells = tmp_path / "out.json", tmp_path / "cells.csv"
    args = (
        "classic", "critical", "--sizes", "8,16", "--alphas", "0.2,0.44,0.8",
        "--replicates", "20", "--bootstrap", "10", "--seed", "3", "--no-progress",
    )  # fmt: skip
    result = cli(*args, "--json", out, "--csv", cells)
    assert result.exit_code == 0, result.stderr
    for fragment in (
        "Spanning probability",
        "alpha_c (this run)",
        "95% bootstrap interval",
        "Alemi et al. 2015",
        "run time",
    ):
        assert fragment in result.stdout, fragment
    document = json.loads(out.read_text())
    estimate = document["estimate"]
    assert estimate["ci95"][0] <= estimate["ci95"][1]
    assert estimate["published_alpha_c"] == pytest.approx(0.437344)
    assert document["sizes"] == [8, 16] and document["replicates"] == 20
    table = pd.read_csv(cells)
    assert len(table) == 6 and (table["spans"] <= 20).all()
    assert table.sort_values(["size", "alpha"])["spans"].tolist() == [c["spans"] for c in document["cells"]]
    again = tmp_path / "again.json"
    assert cli(*args, "--json", again).exit_code == 0
    assert json.loads(again.read_text())["cells"] == document["cells"]
