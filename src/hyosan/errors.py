"""User-facing errors: one clear message that names the file, the line and column, and what was expected."""

from __future__ import annotations

from pathlib import Path

__all__ = ["HyosanError", "UserInputError"]


class HyosanError(Exception):
    """Base class for every error hyosan reports to a user without a traceback."""

    exit_code: int = 1


class UserInputError(HyosanError):
    """A mistake in something the user gave us (a scenario, a map, a command-line option).

    Formats as ``file:line:col: message`` like a compiler, so editors can jump to the spot.
    For floor plans, line and column are the map's row and column (1-based).
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.col = col
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        return f"{where}{self.message}"
