"""`hyosan snapshot and hyosan animate` (commands register on the app defined in hyosan.cli)."""

from hyosan.cli import app  # noqa: F401
