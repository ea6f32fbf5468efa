"""`hyosan classic munz` and `hyosan classic alemi` from the command line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from hyosan.cli import app
from hyosan.errors import UserInputError

runner = CliRunner()


def test_munz_sizr_paper_plot_and_files(tmp_path):
    png, csv, parquet = tmp_path / "out.png", tmp_path / "sizr.csv", tmp_path / "sizr.parquet"
    result = runner.invoke(
        app,
        [
            "classic",
            "munz",
            "--model",
            "sizr",
            "--preset",
            "paper",
            "--plot",
            str(png),
            "--csv",
            str(csv),
            "--parquet",
            str(parquet),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sizr" in result.output and "zombie peak" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["time", "S", "I", "Z", "R"]
    assert len(frame) == 201 and frame["time"].iloc[-1] == 10
    assert pd.read_parquet(parquet)["S"].iloc[0] == 499
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no debris


def test_munz_eradication_and_quarantine_tables():
    result = runner.invoke(app, ["classic", "munz", "--model", "eradication"])
    assert result.exit_code == 0, result.output
    assert "eradication" in result.output
    result = runner.invoke(app, ["classic", "munz", "--model", "sizrq"])
    assert result.exit_code == 0, result.output
    assert "R0" in result.output


def test_alemi_replicates_and_csv(tmp_path):
    csv = tmp_path / "alemi.csv"
    result = runner.invoke(
        app,
        ["classic", "alemi", "--alpha", "0.8", "--n", "200", "--replicates", "50", "--points", "5", "--csv", str(csv)],
    )
    assert result.exit_code == 0, result.output
    assert "died out" in result.output and "0.8000" in result.output
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["replicate", "time", "S", "Z", "R"]
    assert len(frame) == 50 * 5
    assert (frame[["S", "Z", "R"]].sum(axis=1) == 200).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["munz", "--model", "vampire"], "--model"),
        (["munz", "--preset", "nope"], "--preset"),
        (["munz", "--initial", "1,2"], "--initial"),
        (["munz", "--t-end", "-1"], "--t-end"),
        (["alemi", "--n", "-5"], "--n"),
        (["alemi", "--alpha", "-0.5"], "--alpha"),
        (["alemi", "--replicates", "0"], "--replicates"),
        (["alemi", "--method", "euler"], "--method"),
        (["alemi", "--n", "10", "--zombies", "11"], "--zombies"),
    ],
)
def test_bad_input_raises_user_input_error(args, message):
    result = runner.invoke(app, ["classic", *args])
    assert isinstance(result.exception, UserInputError)
    assert message in str(result.exception)


def test_missing_output_folder_is_refused_before_running(tmp_path):
    result = runner.invoke(app, ["classic", "munz", "--csv", str(tmp_path / "no" / "such.csv")])
    assert isinstance(result.exception, UserInputError)
    assert "does not exist" in str(result.exception)


def test_entry_point_exits_2_without_traceback():
    completed = subprocess.run(
        [sys.executable, "-c", "from hyosan.cli import main; main()", "classic", "alemi", "--n", "-5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "--n must be >= 1" in completed.stderr
    assert "Traceback" not in completed.stderr
