"""`hyosan sweep` and `hyosan sensitivity`: many runs of a scenario into a resumable table, with reports."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hyosan.cli import app, console, err_console
from hyosan.errors import UserInputError

if TYPE_CHECKING:
    from hyosan.ensemble.runners import Runner
    from hyosan.ensemble.sweep import EnsembleRun

__all__ = ["sensitivity", "sweep"]

ModelArg = Annotated[
    str | None,
    typer.Argument(
        help=(
            "Built-in scenario name or TOML file (default: hyosan-high), classic-alemi for the classic SZR model, "
            "or country-CC (e.g. country-KR, country-US@20km) for the country model."
        ),
        show_default=False,
    ),
]
ReplicatesOpt = Annotated[int, typer.Option("--replicates", "-r", help="Runs of every combination.")]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        help="Master seed: every run's seed derives from it and the run's key (default: the scenario's run.seed)."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", "-w", help="Local worker processes (default: one per core).", show_default=False),
]
SchedulerOpt = Annotated[
    str | None, typer.Option(help="Run on a Dask cluster instead: the scheduler's address, e.g. tcp://host:8786.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or result table.")]


@app.command()
def sweep(
    scenario: ModelArg = None,
    replicates: ReplicatesOpt = 10,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUES to vary, e.g. zombie.sprint_speed=4,5,6 or doors.barricade_strength=100:500:5 "
            "(start:stop:count); repeat for a grid of every combination.",
        ),
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path | None, typer.Option(help="Ensemble folder (default: sweeps/<scenario>).")] = None,
    keep_runs: Annotated[bool, typer.Option(help="Also save every run's results folder in OUT/runs/.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run every combination of --set values, --replicates times each; re-run the same command to continue."""
    from hyosan.ensemble.grid import parse_set, sweep_design
    from hyosan.ensemble.report import write_report

    settings = [parse_set("--set", text) for text in set_ or []]
    design = sweep_design(settings)
    runner, name, folder, master = _setup(scenario, seed, out, "sweeps", keep_runs)
    result = _run(runner, design, replicates, folder, master, workers, scheduler, quiet, "--set")
    runs = result.runs(replicates)
    outcomes = runner.outcomes(list(runs.columns))
    title = f"{name}: {len(design):,} combination{'s' if len(design) != 1 else ''} x {replicates:,} replicates"
    summary = write_report(folder, runs, design.parameters, outcomes, master, title, _notes(runner, master, folder))
    if not quiet:
        _print_summary(summary, design.parameters, [o for o in outcomes if not o.named])
    console.print(
        f"table [bold]{escape(str(folder / 'runs.parquet'))}[/], report [bold]{escape(str(folder / 'report.md'))}[/]"
    )


@app.command()
def sensitivity(
    scenario: ModelArg = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="KEY=LOW:HIGH, the range of one parameter, e.g. zombie.sprint_speed=4:7; repeat for each."),
    ] = None,
    samples: Annotated[
        int, typer.Option(help="Sobol' base samples N (a power of two); N x (parameters + 2) points.")
    ] = 64,
    replicates: ReplicatesOpt = 4,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path | None, typer.Option(help="Ensemble folder (default: sensitivity/<scenario>).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Sobol' sensitivity indices (SALib): which parameters matter most for survival and time to fall."""
    from hyosan.ensemble.grid import parse_bounds
    from hyosan.ensemble.sensitivity import sobol_design, sobol_indices, write_sensitivity_report

    bounds = [parse_bounds("--param", text) for text in param or []]
    runner, name, folder, master = _setup(scenario, seed, out, "sensitivity", False)
    design = sobol_design(bounds, samples, master, runner.is_integer)
    result = _run(runner, design, replicates, folder, master, workers, scheduler, quiet, "--param")
    runs = result.runs(replicates)
    outcomes = [o for o in runner.outcomes(list(runs.columns)) if not o.named]
    indices = sobol_indices(runs, design, outcomes, master)
    title = (
        f"{name}: Sobol' indices over {len(design.parameters)} parameters ({len(design):,} points x {replicates} runs)"
    )
    write_sensitivity_report(folder, indices, outcomes, title, _notes(runner, master, folder))
    if not quiet:
        table = Table(
            "output", "parameter", "S1", "ST", box=None, header_style="bold", title=title, title_justify="left"
        )
        labels = {o.name: o.label for o in outcomes}
        for _, r in indices.iterrows():
            table.add_row(
                labels.get(r["output"], r["output"]),
                r["parameter"],
                "—" if r["S1"] != r["S1"] else f"{r['S1']:.3f} ± {r['S1_conf']:.3f}",
                "— (output does not vary)" if r["ST"] != r["ST"] else f"{r['ST']:.3f} ± {r['ST_conf']:.3f}",
            )
        console.print(table)
    console.print(f"indices [bold]{escape(str(folder / 'sensitivity.md'))}[/]")


# --- helpers -----------------------------------------------------------------------------------


def _setup(
    model: str | None, seed: int | None, out: Path | None, kind: str, keep_runs: bool
) -> tuple[Runner, str, Path, int]:
    """The runner, a display name, the output folder and the master seed."""
    from hyosan.ensemble.runners import SchoolRunner, runner_for

    if model is not None and (model == "classic-alemi" or model.startswith("country-")) and keep_runs:
        raise UserInputError(f"--keep-runs: {model} runs are one summary row each; there is no folder to keep")
    runner = runner_for(model or "hyosan-high")
    name, default_seed = model or "hyosan-high", 0
    if isinstance(runner, SchoolRunner):
        name, default_seed = runner.scenario.name, runner.scenario.run.seed
    folder = out or Path(kind) / name
    if keep_runs and isinstance(runner, SchoolRunner):
        runner.keep_runs = folder / "runs"
    return runner, name, folder, default_seed if seed is None else seed


def _run(
    runner: Runner,
    design: Any,
    replicates: int,
    folder: Path,
    master: int,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
    option: str,
) -> EnsembleRun:
    from hyosan.ensemble.sweep import run_ensemble
    from hyosan.ensemble.table import load_table

    started = time.perf_counter()
    try:
        result = run_ensemble(
            runner,
            design,
            replicates,
            folder,
            seed=master,
            workers=workers if workers is not None else (os.cpu_count() or 1),
            scheduler=scheduler,
            progress=not quiet,
            option=option,
        )
    except KeyboardInterrupt:
        saved = len(load_table(folder)) if (folder / "manifest.json").is_file() else 0
        err_console.print(
            f"interrupted: {saved:,} finished runs are saved in {escape(str(folder))}; "
            "run the same command again to go on from there",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    seconds = time.perf_counter() - started
    where = f"on {scheduler}" if scheduler else f"with {workers or os.cpu_count() or 1} local worker(s)"
    before = f" ({result.already_done:,} were already done)" if result.already_done else ""
    console.print(f"ran {result.executed:,} runs{before} in {seconds:.1f} s {where}", highlight=False)
    return result


def _notes(runner: Runner, master: int, folder: Path) -> list[str]:
    described = runner.describe()
    if described["model"] == "school":
        return [
            f"Scenario `{described['scenario']}` (content hash `{described['scenario_hash'][:12]}`), master seed "
            f"{master}; every row of `{folder / 'runs.parquet'}` is one run.",
            "",
            "Survival probability: the mean share of people who survive (healthy, escaped or rescued at the end). "
            "The school falls when half its people have been bitten; a run in which it did not fall counts as "
            "falling at its duration (censored), so a median that reaches the duration reads `not within`.",
        ]
    if described["model"] == "country":
        return [
            f"Country model on `{described['country']}` ({described['cell_km']:g} km cells, {described['zombies']} "
            f"zombies at the default start, {described['method']}), {described['days']} days per run, master seed "
            f"{master}; every row of `{folder / 'runs.parquet'}` is one run.",
            "",
            "Fallen: bitten, turned or dead. A run in which half (90%) of the people had not fallen by its last day "
            "counts as falling on that day (censored).",
        ]
    return [
        f"Model `{described['model']}` ({described.get('defaults', {})}), master seed {master}. Each run goes on "
        "until the zombies die out (extinction) or no human is left; final size is the number of humans bitten.",
    ]


def _print_summary(summary: Any, parameters: Any, outcomes: list) -> None:
    from hyosan.ensemble.report import format_estimate

    table = Table(*parameters, "runs", *(o.label for o in outcomes), box=None, header_style="bold")
    for _, row in summary.iterrows():
        values = [f"{row[p]:.6g}" if isinstance(row[p], float) else str(row[p]) for p in parameters]
        table.add_row(*values, str(int(row["runs"])), *(format_estimate(row, o) for o in outcomes))
    console.print(table)
