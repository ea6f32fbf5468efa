"""`hyosan classic lattice` and `hyosan classic critical`."""

from hyosan.classic.cli import app  # noqa: I001  (commands register on the app defined there)

import json
import math
import time
from pathlib import Path
from typing import Annotated

import typer

from hyosan.errors import UserInputError

__all__ = ["critical_command", "lattice_command"]


@app.command("lattice")
def lattice_command(
    alpha: Annotated[float, typer.Option(help="Kill ratio α = κ/β (zombies win below α_c ≈ 0.437).")] = 0.45,
    size: Annotated[int, typer.Option(help="Side L of the L x L lattice.")] = 256,
    beta: Annotated[float, typer.Option(help="Bite rate β per S–Z bond (sets the time unit).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the run.")] = 0,
    periodic: Annotated[bool, typer.Option("--periodic/--open", help="Periodic or open boundaries.")] = False,
    zombie: Annotated[
        list[str] | None,
        typer.Option("--zombie", help="Initial zombie as ROW,COL (repeat for more; default: the centre)."),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="Draw the final lattice to this PNG.")] = None,
    crop: Annotated[bool, typer.Option(help="Crop the PNG to the outbreak.")] = False,
    csv: Annotated[Path | None, typer.Option(help="Write the run's summary row as CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Write the run's summary row as Parquet.")] = None,
) -> None:
    """Run one zombie outbreak on a square lattice (Alemi et al. 2015) to its end."""
    if size <= 2:
        raise UserInputError(f"--size must be > 2, got {size}")
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise UserInputError(f"--alpha must be a finite number >= 0, got {alpha}")
    if not (beta > 0 and math.isfinite(beta)):
        raise UserInputError(f"--beta must be a finite number > 0, got {beta}")
    zombies = [_parse_site(text) for text in zombie] if zombie else None
    for path in (png, csv, parquet):
        _check_writable(path)

    from rich.console import Console

    from hyosan.classic.lattice import check_lattice_shape, draw_outbreak_png, simulate_lattice

    check_lattice_shape(size, size, periodic)  # refuses before anything is allocated
    started = time.perf_counter()
    outbreak = simulate_lattice(size, alpha, beta=beta, seed=seed, periodic=periodic, zombies=zombies)
    seconds = time.perf_counter() - started

    row = outbreak.summary() | {"seconds": seconds}
    table = _table("Lattice outbreak")
    for label, value in (
        ("lattice", f"{size} x {size} ({'periodic' if periodic else 'open'})"),
        ("alpha, beta", f"{alpha:g}, {beta:g}"),
        ("seed", str(seed)),
        ("events", f"{outbreak.events:,} ({outbreak.bites:,} bites, {outbreak.kills:,} kills)"),
        ("final time", f"{outbreak.time:.4g} (1/β)"),
        (
            "humans / zombies / removed",
            f"{outbreak.susceptible:,} / {outbreak.zombies:,} / {outbreak.removed:,}",
        ),
        ("outbreak fraction", f"{outbreak.outbreak_fraction:.4f}"),
        ("spans", "yes" if outbreak.spans else "no"),
        (
            "run time",
            f"{seconds:.3f} s ({outbreak.events / max(seconds, 1e-9) / 1e6:.2f} M events/s)",
        ),
    ):
        table.add_row(label, value)
    Console().print(table)

    if png is not None:
        draw_outbreak_png(outbreak, png, crop=crop)
    _write_rows([row], csv=csv, parquet=parquet)


@app.command("critical")
def critical_command(
    sizes: Annotated[str, typer.Option(help="Lattice sizes L, comma-separated (at least two).")] = "64,128,256,512",
    alphas: Annotated[
        str,
        typer.Option(help="Kill ratios: a comma list, or START:STOP:COUNT (evenly spaced)."),
    ] = "0.42:0.455:8",
    replicates: Annotated[int, typer.Option(help="Outbreaks per (L, alpha).")] = 400,
    seed: Annotated[int, typer.Option(help="Master seed of all runs and of the bootstrap.")] = 2015,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the uncertainty.")] = 200,
    nu: Annotated[
        float | None,
        typer.Option(help="Hold the exponent ν fixed (2D percolation: 1.3333); default: fit it."),
    ] = None,
    seeding: Annotated[str, typer.Option(help="'edge': left column of zombies; 'centre': one zombie.")] = "edge",
    workers: Annotated[int | None, typer.Option(help="Threads (default: all cores).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the estimate and all counts as JSON.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the (L, alpha) counts as CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Write the (L, alpha) counts as Parquet.")] = None,
) -> None:
    """Estimate the critical kill ratio α_c by finite-size scaling of the spanning probability."""
    size_list = _parse_sizes(sizes)
    alpha_list = _parse_alphas(alphas)
    if replicates < 2:
        raise UserInputError(f"--replicates must be >= 2, got {replicates}")
    if bootstrap < 0:
        raise UserInputError(f"--bootstrap must be >= 0, got {bootstrap}")
    if nu is not None and not (nu > 0 and math.isfinite(nu)):
        raise UserInputError(f"--nu must be a positive number, got {nu}")
    if seeding not in ("edge", "centre"):
        raise UserInputError(f"--seeding must be 'edge' or 'centre', got {seeding!r}")
    if workers is not None and workers < 1:
        raise UserInputError(f"--workers must be >= 1, got {workers}")
    for path in (json_path, csv, parquet):
        _check_writable(path)

    from rich.console import Console

    from hyosan.classic.critical import estimate_alpha_c, scan_spanning
    from hyosan.classic.lattice import check_lattice_shape

    for size in size_list:
        check_lattice_shape(size, size)
    console = Console()
    started = time.perf_counter()
    scan = scan_spanning(
        size_list,
        alpha_list,
        replicates,
        seed=seed,
        seeding=seeding,
        workers=workers,
        progress=progress,
        console=console,
    )
    estimate = estimate_alpha_c(scan, nu=nu, n_bootstrap=bootstrap, seed=seed)
    seconds = time.perf_counter() - started

    probabilities = _table(f"Spanning probability ({replicates} outbreaks per cell)", header=True)
    probabilities.add_column("alpha", justify="right")
    for size in scan.sizes:
        probabilities.add_column(f"L={size}", justify="right")
    for j, alpha in enumerate(scan.alphas):
        probabilities.add_row(
            f"{alpha:.4f}",
            *(f"{scan.spans[i, j] / replicates:.3f}" for i in range(len(scan.sizes))),
        )
    console.print(probabilities)

    result = _table("Critical point")
    result.add_row("alpha_c (this run)", f"{estimate.alpha_c:.5f} ± {estimate.stderr:.5f}")
    result.add_row("95% bootstrap interval", f"[{estimate.ci95[0]:.5f}, {estimate.ci95[1]:.5f}]")
    nu_text = f"{estimate.nu:.3f} (fixed)" if estimate.nu_fixed else f"{estimate.nu:.3f} ± {estimate.nu_stderr:.3f}"
    result.add_row("nu", nu_text + " (2D percolation: 4/3)")
    for crossing in estimate.crossings:
        result.add_row(
            f"crossing L={crossing['size_small']}/{crossing['size_large']}",
            f"{crossing['alpha']:.5f}",
        )
    result.add_row("alpha_c (Alemi et al. 2015)", f"{estimate.published_alpha_c:.6f}")
    result.add_row("published value inside 95% interval", "yes" if estimate.contains_published() else "no")
    result.add_row("run time", f"{seconds:.1f} s")
    console.print(result)

    if json_path is not None:
        document = {
            "estimate": estimate.to_dict(),
            "sizes": list(scan.sizes),
            "alphas": list(scan.alphas),
            "replicates": replicates,
            "seed": seed,
            "seeding": seeding,
            "bootstrap": bootstrap,
            "seconds": seconds,
            "cells": scan.cells(),
        }
        _write_text(json_path, json.dumps(document, indent=2) + "\n")
    _write_rows(scan.cells(), csv=csv, parquet=parquet)


# --- helpers -----------------------------------------------------------------------------------


def _table(title: str, *, header: bool = False):
    from rich.table import Table

    return Table(title=title, title_justify="left", box=None, header_style="bold", show_header=header)


def _parse_site(text: str) -> tuple[int, int]:
    parts = text.replace(" ", "").split(",")
    try:
        row, col = (int(p) for p in parts)
    except ValueError:
        raise UserInputError(f"--zombie expects ROW,COL (two integers), got {text!r}") from None
    return row, col


def _parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part)
        except ValueError:
            raise UserInputError(f"--sizes expects comma-separated integers like 64,128,256, got {text!r}") from None
        if size <= 2:
            raise UserInputError(f"--sizes: every lattice size must be > 2, got {size}")
        sizes.append(size)
    sizes = sorted(set(sizes))
    if len(sizes) < 2:
        raise UserInputError(f"--sizes needs at least two different sizes, got {text!r}")
    return sizes


def _parse_alphas(text: str) -> list[float]:
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            n = int(count)
            if n < 1:
                raise ValueError
            values = [float(start) + (float(stop) - float(start)) * k / max(n - 1, 1) for k in range(n)]
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise UserInputError(
            f"--alphas expects a comma list like 0.42,0.43,0.44 or START:STOP:COUNT, got {text!r}"
        ) from None
    values = sorted({round(v, 10) for v in values})
    for v in values:
        if not (v >= 0 and math.isfinite(v)):
            raise UserInputError(f"--alphas: every alpha must be a finite number >= 0, got {v}")
    if len(values) < 3:
        raise UserInputError(f"--alphas needs at least three different values, got {text!r}")
    return values


def _check_writable(path: Path | None) -> None:
    """Fail before a long run, not after it, when an output cannot be written."""
    if path is None:
        return
    if path.is_dir():
        raise UserInputError(f"cannot write {path}: it is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserInputError(f"cannot write {path}: folder {parent} does not exist")


def _write_text(path: Path, text: str) -> None:
    from hyosan.classic.lattice import _atomic_path

    with _atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_rows(rows: list[dict], *, csv: Path | None, parquet: Path | None) -> None:
    if csv is None and parquet is None:
        return
    import pandas as pd

    from hyosan.classic.lattice import _atomic_path

    frame = pd.DataFrame(rows)
    if csv is not None:
        with _atomic_path(csv) as tmp:
            frame.to_csv(tmp, index=False)
    if parquet is not None:
        with _atomic_path(parquet) as tmp:
            frame.to_parquet(tmp, index=False)
