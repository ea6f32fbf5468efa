"""`hyosan classic ...`: the textbook models from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Classic zombie models: Munz et al. 2009, Alemi et al. 2015, exact stochastic simulation, lattice.",
    no_args_is_help=True,
)

# Command modules register themselves on `app` when imported.
from hyosan.classic import _cmd_lattice, _cmd_models  # noqa: E402, F401
