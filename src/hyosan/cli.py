"""The `hyosan` command: run, check and list scenarios, and the classic models."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyosan.classic.cli import app as classic_app
from hyosan.errors import HyosanError, UserInputError

if TYPE_CHECKING:  # imported lazily at run time so `hyosan --help` stays fast
    from hyosan.results import Results
    from hyosan.school import ProgressInfo, SchoolSim
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
    typer.Argument(help="Built-in scenario name or TOML file (default: hyosan-high).", show_default=False),
]


def main() -> None:
    """Entry point of the console script: user mistakes exit with a message, never a traceback."""
    try:
        app()
    except HyosanError as exc:
        # soft_wrap: a long `file:line:col: message` must stay on one line for editors and grep.
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
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
    seed: Annotated[int | None, typer.Option(help="Seed of the run (default: the scenario's run.seed).")] = None,
    out: Annotated[Path | None, typer.Option(help="Results folder (default: runs/<scenario>-seed<N>).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop early at this simulated time, e.g. 01:30 or 45 min.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
    checkpoint_every: Annotated[
        str | None,
        typer.Option(help="Save the whole state this often (e.g. \"10 min\") in OUT/checkpoints/, to resume or fork."),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Go on from a checkpoint file instead of starting afresh (SCENARIO is ignored).")
    ] = None,
) -> None:
    """Simulate a scenario and write its results folder."""
    from hyosan.scenario import load_scenario
    from hyosan.school import SchoolSim
    from hyosan.units import parse_quantity

    def duration(option: str, text: str | None) -> float | None:
        if text is None:
            return None
        try:
            return parse_quantity(text, "duration")
        except ValueError as exc:
            raise UserInputError(f"{option}: {exc}") from None

    until_s = duration("--until", until)
    every_s = duration("--checkpoint-every", checkpoint_every)
    if every_s is not None and every_s <= 0:
        raise UserInputError("--checkpoint-every: must be longer than 0 s")
    if resume is not None:
        sim = SchoolSim.resume(resume)
        if seed is not None and seed != sim.seed:
            raise UserInputError(f"--seed {seed}: the checkpoint belongs to a run with seed {sim.seed}")
    else:
        sim = SchoolSim(load_scenario(scenario), seed)
    folder = out or Path("runs") / f"{sim.scenario.name}-seed{sim.seed}"
    checkpoints = folder / "checkpoints" if every_s is not None else None
    try:
        results = _run_with_progress(sim, until_s, quiet, every_s, checkpoints)
    except KeyboardInterrupt:
        err_console.print(f"interrupted at simulated {sim.t:.0f} s; nothing was written to {folder}")
        raise typer.Exit(130) from None
    results.save(folder)
    if not quiet:
        _print_summary(results.summary)
    console.print(f"results written to [bold]{escape(str(folder))}[/]")


# --- helpers -----------------------------------------------------------------------------------


def _run_with_progress(
    sim: SchoolSim, until_s: float | None, quiet: bool, every_s: float | None = None, checkpoints: Path | None = None
) -> Results:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from hyosan.units import format_duration

    if quiet:
        return sim.run(until=until_s, checkpoint_every=every_s, checkpoint_dir=checkpoints)
    end = min(until_s, sim.scenario.run.duration) if until_s is not None else sim.scenario.run.duration
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[clock]}"),
        TextColumn("people {task.fields[people]:>5}"),
        TextColumn("zombies {task.fields[zombies]:>5}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(
            sim.scenario.name,
            total=end,
            completed=sim.t,
            clock=format_duration(sim.t),
            people=len(sim.state),
            zombies=0,
        )

        def show(info: ProgressInfo) -> None:
            bar.update(
                task,
                completed=info.time_s,
                clock=format_duration(info.time_s),
                people=info.people,
                zombies=info.zombies,
            )

        results = sim.run(until=until_s, progress=show, checkpoint_every=every_s, checkpoint_dir=checkpoints)
        bar.update(task, completed=end)
    return results


def _print_summary(summary: dict) -> None:
    from hyosan.units import format_duration

    def when(key: str) -> str:
        value = summary.get(key)
        return "—" if value is None else format_duration(value)

    table = Table(
        title=f"{summary['scenario']} · seed {summary['seed']}",
        box=None,
        show_header=False,
        title_justify="left",
    )
    table.add_column(style="bold")
    table.add_column()
    left_bitten = summary.get("left_bitten", 0)
    for state, count in summary["counts"].items():
        note = ""
        if state == "escaped" and left_bitten:
            note = f" ({left_bitten:,} of those who got out were bitten)"
        table.add_row(state, f"{count:,}{note}")
    if "survivors" in summary:
        table.add_row("survivors (never bitten)", f"{summary['survivors']:,}")
    table.add_row("first bite", when("first_bite_s"))
    table.add_row("school fell (half bitten)", when("school_fell_s"))
    table.add_row("last survivor", when("last_survivor_s"))
    table.add_row("rescue", when("rescue_s"))
    table.add_row("simulated", f"{summary['simulated']} ({summary['ended']})")
    named = summary.get("survivors_by_name") or []
    table.add_row("named survivors", escape(", ".join(named)) if named else "—")
    console.print(table)


def _load_and_describe(source: str | None) -> WorldDescription:
    from hyosan.scenario import load_scenario
    from hyosan.world import describe_world

    return describe_world(load_scenario(source))


def _print_description(d: WorldDescription) -> None:
    from hyosan.units import format_duration

    console.print(f"[bold]{escape(d.scenario)}[/] — {escape(d.description)}")
    floors = Table("floor", "size (m)", "walkable m²", "rooms", title="Floors", title_justify="left", box=None)
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
        f"{sid}: {'-'.join([fl[0], fl[-1]]) if len(fl) > 1 else fl[0]}" for sid, fl in d.stairwells.items()
    )
    console.print(f"[bold]Stairwells[/] ({len(d.stairwells)}): {escape(wells)}")
    console.print(f"[bold]Exits[/]: {d.exits} tiles")
    people = ", ".join(f"{n:,} {role}{'s' if n != 1 and role != 'staff' else ''}" for role, n in d.people.items())
    total = sum(d.people.values())
    console.print(f"[bold]People[/]: {total:,} ({people}); capacity {d.capacity:,}")
    if d.events:
        console.print(
            "[bold]Events[/]: "
            + escape(
                "; ".join(
                    f"{format_duration(at)} {kind}{' in ' + where if where else ''}" for at, kind, where in d.events
                )
            )
        )


# Commands that live beside what they drive register themselves on `app` when imported; each module
# imports its heavy dependencies inside the command so that `hyosan --help` stays fast.
from hyosan import _cmd_fork as _fork_cmd  # noqa: E402, F401
from hyosan.country import _cmd as _country_cmd  # noqa: E402, F401
from hyosan.ensemble import _cmd as _ensemble_cmd  # noqa: E402, F401
from hyosan.people import _cmd as _people_cmd  # noqa: E402, F401
from hyosan.viz import _cmd_static as _viz_static_cmd  # noqa: E402, F401
from hyosan.viz import _cmd_view as _viz_view_cmd  # noqa: E402, F401
