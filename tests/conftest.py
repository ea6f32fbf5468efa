"""Shared fixtures: run the `hyosan` command in-process and capture what a user would see."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyosan.cli import main

TINY_MAPS = Path(__file__).resolve().parents[1] / "src" / "hyosan" / "data" / "maps" / "tiny-school"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Call `cli("check", "x.toml")` to run `hyosan check x.toml` as the console script would."""

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["hyosan", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
