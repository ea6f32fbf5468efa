"""`hyosan story`: the story of a run, or one person's path through it (commands register on hyosan.cli's app)."""

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
