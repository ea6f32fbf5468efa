"""`hyosan snapshot` and `hyosan animate`: pictures of a results folder (commands register on hyosan.cli's app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from hyosan.cli import app, console
from hyosan.errors import UserInputError

if TYPE_CHECKING:
    from hyosan.results import Results

__all__ = ["animate", "snapshot"]

RunDirArg = Annotated[Path, typer.Argument(help="A results folder written by `hyosan run`.", show_default=False)]
FloorsOpt = Annotated[
    str | None, typer.Option(help="Only these floors, comma-separated, e.g. 1F,2F (default: every floor).")
]


@app.command()
def snapshot(
    run_dir: RunDirArg,
    time: Annotated[
        str | None,
        typer.Option(help="Moment to draw, counted from the start of the run: 01:30, 45 min... (default: the end)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="PNG to write (default: RUN_DIR/snapshot-<hhmm>.png).")] = None,
    floors: FloorsOpt = None,
) -> None:
    """Draw every floor at one moment of a run: people by state, doors by state, rooms, a clock."""
    from hyosan.viz.curves import RunClock
    from hyosan.viz.floors import check_time, pick_floors, run_end, write_snapshot

    results = _load(run_dir)
    at = check_time(results, time) if time is not None else run_end(results)
    pick_floors(results, floors)  # a wrong floor name fails before anything is drawn
    path = out if out is not None else run_dir / f"snapshot-{_hhmm(at)}.png"
    if path.suffix.lower() != ".png":
        raise UserInputError(f"--out {path}: a snapshot is a PNG; give a file name ending in .png")
    _make_parent(path)
    write_snapshot(results, at, path, floors=floors)
    console.print(f"snapshot at {RunClock(results).text(at)} written to [bold]{escape(str(path))}[/]")


@app.command()
def animate(
    run_dir: RunDirArg,
    out: Annotated[Path | None, typer.Option(help="Video to write: .mp4 or .gif (default: RUN_DIR/run.mp4).")] = None,
    fps: Annotated[float, typer.Option(help="Frames per second of the video.")] = 12.0,
    step: Annotated[str, typer.Option(help="Simulated time between frames, e.g. 30s, 2 min.")] = "30s",
    start: Annotated[
        str | None, typer.Option("--from", help="First moment, from the start of the run (default: 0:00).")
    ] = None,
    stop: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last moment (default: when the outbreak's busy part is over, as in curves.png's first panel)."
        ),
    ] = None,
    floors: FloorsOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Animate the floors over a run (people, doors, a clock and the counts so far) as MP4 or GIF."""
    from hyosan.units import parse_quantity
    from hyosan.viz.animate import VIDEO_FORMATS, frame_times, write_animation
    from hyosan.viz.curves import busy_until
    from hyosan.viz.floors import check_time, pick_floors

    path = out if out is not None else run_dir / "run.mp4"
    if path.suffix.lower() not in VIDEO_FORMATS:
        raise UserInputError(
            f"--out {path}: cannot write {path.suffix or 'a file without an extension'}; "
            f"give a name ending in {' or '.join(VIDEO_FORMATS)}"
        )
    if not fps > 0:
        raise UserInputError(f"--fps {fps:g}: must be more than 0")
    try:
        step_s = parse_quantity(step, "duration")
    except ValueError as exc:
        raise UserInputError(f"--step {step}: {exc}") from None
    if step_s < 1.0:
        raise UserInputError(f"--step {step}: must be at least 1 s (the clock on each frame counts seconds)")
    results = _load(run_dir)
    first = check_time(results, start, "--from") if start is not None else 0.0
    last = check_time(results, stop, "--to") if stop is not None else max(busy_until(results), first)
    if last < first:
        raise UserInputError(f"--to {stop}: comes before --from {start or '0:00'}")
    pick_floors(results, floors)
    _make_parent(path)
    total = len(frame_times(first, last, step_s))
    if quiet:
        info = write_animation(results, path, fps=fps, step_s=step_s, start_s=first, end_s=last, floors=floors)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("[bold]frames"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("frames", total=total)
            info = write_animation(
                results,
                path,
                fps=fps,
                step_s=step_s,
                start_s=first,
                end_s=last,
                floors=floors,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    console.print(
        f"{info.frames:,} frames ({info.frames / fps:.1f} s at {fps:g} fps, {info.width}x{info.height}) "
        f"written to [bold]{escape(str(path))}[/] in {info.wall_s:.1f} s ({info.frames_per_s:.1f} frames/s)"
    )


# --- helpers -------------------------------------------------------------------------------------------------


def _load(run_dir: Path) -> Results:
    from hyosan.results import load_results

    if not run_dir.is_dir():
        raise UserInputError("no such folder; give a results folder written by `hyosan run`", run_dir)
    return load_results(run_dir)


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the folder for the output: {exc.strerror}", path.parent) from None


def _hhmm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}{minutes % 60:02d}"
