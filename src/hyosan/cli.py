"""The `hyosan` command: run, check and list scenarios, and the classic models."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyosan.classic.cli import app as classic_app
from hyosan.errors import HyosanError

if TYPE_CHECKING:  # imported lazily at run time so `hyosan --help` stays fast
    from hyosan.world import WorldDescription

app = typer.Typer(
    help="hyosan: zombie outbreaks from one high school, agent by agent, to a whole country.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(classic_app, name="classic")

console = Console()
err_console = Console(stderr=True)

ScenarioArg = Annotated[
    str | None,
    typer.Argument(
        help="Built-in scenario name or TOML file (default: hyosan-high).", show_default=False
    ),
]


def main() -> None:
    """Entry point of the console script: user mistakes exit with a message, never a traceback."""
    try:
        app()
    except HyosanError as exc:
        # soft_wrap: a long `file:line:col: message` must stay on one line for editors and grep.
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from hyosan.scenario import builtin_scenarios, load_scenario

    table = Table("name", "description", box=None, header_style="bold")
    for name in sorted(builtin_scenarios()):
        table.add_row(name, load_scenario(name).description)
    console.print(table)


@app.command()
def check(scenario: ScenarioArg = None) -> None:
    """Validate a scenario and its floor plans, and describe the world it makes."""
    description = _load_and_describe(scenario)
    _print_description(description)
    console.print("[green]ok:[/] the scenario is valid.")


@app.command()
def run(
    scenario: ScenarioArg = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the run (default: the scenario's run.seed).")
    ] = None,
) -> None:
    """Simulate a scenario. (The agent-based school model is being built: for now this validates and describes.)"""
    description = _load_and_describe(scenario)
    _print_description(description)
    console.print(
        "\n[yellow]The school simulation is not implemented yet[/] (tracked as the school-model issue): "
        "this run validated the scenario and described its world; no results were written."
    )


# --- helpers -----------------------------------------------------------------------------------


def _load_and_describe(source: str | None) -> WorldDescription:
    from hyosan.scenario import load_scenario
    from hyosan.world import describe_world

    return describe_world(load_scenario(source))


def _print_description(d: WorldDescription) -> None:
    from hyosan.units import format_duration

    console.print(f"[bold]{escape(d.scenario)}[/] — {escape(d.description)}")
    floors = Table(
        "floor", "size (m)", "walkable m²", "rooms", title="Floors", title_justify="left", box=None
    )
    area = d.tile_m**2
    for name, rows, cols, walkable in d.floors:
        n_rooms = sum(1 for r in d.rooms if r[1] == name)
        floors.add_row(
            name,
            f"{cols * d.tile_m:g} x {rows * d.tile_m:g}",
            f"{walkable * area:,.0f}",
            str(n_rooms),
        )
    console.print(floors)
    named = [r[0] for r in d.rooms if not r[0].endswith("corridor") and " corridor " not in r[0]]
    console.print(f"[bold]Rooms[/] ({len(d.rooms)}): " + escape(", ".join(named)))
    doors = ", ".join(f"{n} {state}" for state, n in sorted(d.doors.items()))
    console.print(f"[bold]Doors[/] ({sum(d.doors.values())}): {doors}")
    wells = "; ".join(
        f"{sid}: {'-'.join([fl[0], fl[-1]]) if len(fl) > 1 else fl[0]}"
        for sid, fl in d.stairwells.items()
    )
    console.print(f"[bold]Stairwells[/] ({len(d.stairwells)}): {escape(wells)}")
    console.print(f"[bold]Exits[/]: {d.exits} tiles")
    people = ", ".join(
        f"{n:,} {role}{'s' if n != 1 and role != 'staff' else ''}" for role, n in d.people.items()
    )
    total = sum(d.people.values())
    console.print(f"[bold]People[/]: {total:,} ({people}); capacity {d.capacity:,}")
    if d.events:
        console.print(
            "[bold]Events[/]: "
            + escape(
                "; ".join(
                    f"{format_duration(at)} {kind}{' in ' + where if where else ''}"
                    for at, kind, where in d.events
                )
            )
        )
