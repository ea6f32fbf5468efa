"""`hyosan fork`: alternative futures of a school run from one of its checkpoints (commands register on hyosan.cli's app)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from hyosan.cli import app, console
from hyosan.errors import UserInputError

__all__ = ["fork_command"]


@app.command("fork")
def fork_command(
    run_dir: Annotated[Path, typer.Argument(help="Results folder of a run made with --checkpoint-every.")],
    at: Annotated[str, typer.Option(help="When the futures part, e.g. 00:40 (the last checkpoint before it).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A changed rule for the alternative future, KEY=VALUE (repeatable)."),
    ] = None,
    replicates: Annotated[int, typer.Option(help="Pairs of futures (baseline and alternative).")] = 20,
    until: Annotated[
        str | None, typer.Option(help="Stop each future at this time (default: the scenario's end).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes to run futures in.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Folder for the report (default: RUN_DIR/forks/<changes>).")] = None,
) -> None:
    """Run alternative futures of a school run from a checkpoint, and report how the outcomes differ."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from hyosan.ensemble.grid import parse_set
    from hyosan.school.fork import fork_run, write_fork_report
    from hyosan.units import parse_quantity

    def duration(option: str, text: str) -> float:
        try:
            return parse_quantity(text, "duration")
        except ValueError as exc:
            raise UserInputError(f"{option}: {exc}") from None

    changes = {}
    for item in set_ or []:
        key, values = parse_set("--set", item)
        if len(values) != 1:
            raise UserInputError(f"--set {item}: a fork changes a rule to one value (sweeps take lists)")
        changes[key] = values[0]
    at_s = duration("--at", at)
    until_s = duration("--until", until) if until is not None else None
    columns = (TextColumn("futures"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("fork", total=2 * replicates)
        report = fork_run(
            run_dir,
            at_s,
            changes,
            replicates,
            until_s=until_s,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", "_".join(f"{k}={v}" for k, v in changes.items()) or "baseline")
    folder = write_fork_report(report, out or Path(run_dir) / "forks" / f"at{int(at_s)}-{slug}")
    table = Table("outcome", "original", "baseline", "alternative", "difference (95% CI)", box=None)
    for row in report.summary().itertuples():
        table.add_row(
            row.outcome,
            f"{row.original:g}",
            f"{row.baseline_mean:.4g}",
            f"{row.alternative_mean:.4g}",
            f"{row.difference:+.4g} ({row.difference_ci_low:+.4g} to {row.difference_ci_high:+.4g})",
        )
    console.print(table)
    console.print(f"fork report written to [bold]{folder}[/]")
