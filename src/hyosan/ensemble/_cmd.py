"""`hyosan sweep, hyosan sensitivity and hyosan fork` (commands register on the app defined in hyosan.cli)."""

from hyosan.cli import app  # noqa: F401
