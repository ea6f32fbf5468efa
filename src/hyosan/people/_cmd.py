"""`hyosan story` and `hyosan fates`: a run's story, and fates over many seeds (commands register on hyosan.cli's app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hyosan.cli import app, console


@app.command()
def story(
    run_dir: Annotated[Path, typer.Argument(help="Results folder written by `hyosan run`.", show_default=False)],
    person: Annotated[str | None, typer.Option("--person", help='Tell one person\'s path, e.g. "Nam On-jo".')] = None,
    out: Annotated[Path | None, typer.Option(help="Write the Markdown to this file instead of printing it.")] = None,
) -> None:
    """Tell the story of a run from its events: chapters, named characters' fates, who saved whom."""
    from rich.markdown import Markdown
    from rich.markup import escape

    from hyosan.people.story import person_story, story_markdown, strip_citations
    from hyosan.results import atomic_write, load_results

    results = load_results(run_dir)
    text = person_story(results, person) if person is not None else story_markdown(results)
    if out is None:
        console.print(Markdown(strip_citations(text)))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    console.print(f"story written to [bold]{escape(str(out))}[/]")


@app.command()
def fates(
    scenario: Annotated[
        str | None,
        typer.Argument(help="Built-in scenario name or TOML file (default: hyosan-high).", show_default=False),
    ] = None,
    seeds: Annotated[str, typer.Option(help="Seeds to run, e.g. 1-20 or 3,5,8.")] = "1-20",
    workers: Annotated[int, typer.Option(help="Runs at once, each in its own process.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Write the Markdown to this file instead of printing it.")] = None,
) -> None:
    """Run a scenario once per seed and tabulate who lives: named characters, groups against loners, the fall."""
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hyosan.cli import err_console
    from hyosan.people.fates import fate_distribution, parse_seeds
    from hyosan.results import atomic_write

    chosen = parse_seeds(seeds)
    columns = (TextColumn("[bold]fates"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("fates", total=len(chosen))
        tables = fate_distribution(
            scenario, chosen, workers=workers, progress=lambda done, total: bar.update(task, completed=done)
        )
    text = tables.to_markdown()
    if out is None:
        console.print(Markdown(text))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    console.print(f"fates written to [bold]{escape(str(out))}[/]")
