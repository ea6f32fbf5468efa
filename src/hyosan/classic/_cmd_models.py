"""`hyosan classic munz` and `hyosan classic alemi`."""

from hyosan.classic.cli import app  # noqa: I001  (commands register on the app defined there)

import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from hyosan.errors import UserInputError

__all__ = ["alemi_command", "munz_command"]

_MUNZ_MODELS = ("szr", "sizr", "sizrq", "cure", "eradication")
_MUNZ_ALIASES = {
    "basic": "szr",
    "latent": "sizr",
    "quarantine": "sizrq",
    "treatment": "cure",
    "impulsive": "eradication",
}


@app.command("munz")
def munz_command(
    model: Annotated[str, typer.Option(help="szr, sizr (latent), sizrq (quarantine), cure or eradication.")] = "szr",
    preset: Annotated[
        str | None,
        typer.Option(help="Parameter preset: paper, eradication, quarantine or cure (default: fits the model)."),
    ] = None,
    t_end: Annotated[float | None, typer.Option(help="Days to simulate (default: the preset's).")] = None,
    initial: Annotated[
        str | None,
        typer.Option(help="Initial counts, comma-separated in the model's order (default: N-1 humans, 1 zombie)."),
    ] = None,
    quirk: Annotated[
        bool, typer.Option("--quirk/--as-printed", help="Integrate the paper's MATLAB (no −δS in S′).")
    ] = False,
    points: Annotated[int, typer.Option(help="Output times (evenly spaced).")] = 201,
    plot: Annotated[Path | None, typer.Option(help="Draw the curves to this PNG.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the time series as CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Write the time series as Parquet.")] = None,
) -> None:
    """Integrate a Munz et al. (2009) zombie model and summarise the outbreak."""
    name = _MUNZ_ALIASES.get(model.lower(), model.lower())
    if name not in _MUNZ_MODELS:
        raise UserInputError(f"--model must be one of {', '.join(_MUNZ_MODELS)}, got {model!r}")
    if points < 2:
        raise UserInputError(f"--points must be >= 2, got {points}")
    if t_end is not None and not (t_end > 0 and math.isfinite(t_end)):
        raise UserInputError(f"--t-end must be a finite number > 0, got {t_end}")
    for path in (plot, csv, parquet):
        _check_writable(path)

    from rich.console import Console

    from hyosan.classic.munz import MODELS, PRESETS, quarantine_r0, simulate_munz

    chosen = preset or {"eradication": "eradication", "sizrq": "quarantine", "cure": "cure"}.get(name, "paper")
    if chosen not in PRESETS:
        raise UserInputError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    params = PRESETS[chosen]
    compartments = MODELS[name]
    state = None
    if initial is not None:
        state = _parse_counts(initial, "--initial", len(compartments), ", ".join(compartments))
    try:
        frame = simulate_munz(name, params, state, t_end=t_end, points=points, quirk=quirk)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None

    last = frame.iloc[-1]
    peak = frame["Z"].idxmax()
    table = _table(f"Munz et al. 2009 · {name} · preset {chosen}{' · MATLAB quirk' if quirk else ''}")
    table.add_row("days", f"{frame['time'].iloc[-1]:g}")
    table.add_row("start", ", ".join(f"{c} {frame[c].iloc[0]:,.1f}" for c in compartments))
    table.add_row("end", ", ".join(f"{c} {last[c]:,.2f}" for c in compartments))
    table.add_row("zombie peak", f"{frame['Z'].iloc[peak]:,.2f} on day {frame['time'].iloc[peak]:.2f}")
    humans_gone = frame.loc[frame["S"] < 1.0, "time"]
    table.add_row("humans below 1", f"day {humans_gone.iloc[0]:.2f}" if len(humans_gone) else "never")
    if name == "sizrq":
        table.add_row("R0 (βNρ/((ρ+κ)(αN+σ)))", f"{quarantine_r0(params):.3f}")
    Console().print(table)

    if plot is not None:
        _atomic(plot, lambda tmp: _plot_curves(frame, compartments, f"Munz et al. 2009: {name} ({chosen})", tmp))
    _write_frame(frame, csv=csv, parquet=parquet)


@app.command("alemi")
def alemi_command(
    alpha: Annotated[float, typer.Option(help="Kill ratio α = κ/β (zombies win the mean field below 1).")] = 0.8,
    n: Annotated[int, typer.Option("--n", help="Population N (humans + initial zombies).")] = 1000,
    zombies: Annotated[int, typer.Option(help="Initial zombies.")] = 1,
    beta: Annotated[float, typer.Option(help="Bite rate β (sets the time unit).")] = 1.0,
    replicates: Annotated[int, typer.Option(help="Stochastic outbreaks to simulate.")] = 1000,
    method: Annotated[str, typer.Option(help="direct, next (Gibson–Bruck) or tau (tau-leaping).")] = "direct",
    seed: Annotated[int, typer.Option(help="Master seed of the replicates.")] = 0,
    t_end: Annotated[float | None, typer.Option(help="Time span of the recorded curves (default: automatic).")] = None,
    points: Annotated[int, typer.Option(help="Recorded times per replicate.")] = 101,
    csv: Annotated[Path | None, typer.Option(help="Write the replicates' time series (tidy) as CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Write the replicates' time series (tidy) as Parquet.")] = None,
) -> None:
    """Run fully connected SZR outbreaks (Alemi et al. 2015) and compare them with the theory."""
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise UserInputError(f"--alpha must be a finite number >= 0, got {alpha}")
    if not (beta > 0 and math.isfinite(beta)):
        raise UserInputError(f"--beta must be a finite number > 0, got {beta}")
    if n < 1:
        raise UserInputError(f"--n must be >= 1, got {n}")
    if not 0 < zombies <= n:
        raise UserInputError(f"--zombies must be between 1 and N ({n}), got {zombies}")
    if replicates < 1:
        raise UserInputError(f"--replicates must be >= 1, got {replicates}")
    if method not in ("direct", "next", "tau"):
        raise UserInputError(f"--method must be direct, next or tau, got {method!r}")
    if points < 2:
        raise UserInputError(f"--points must be >= 2, got {points}")
    if seed < 0:
        raise UserInputError(f"--seed must be >= 0, got {seed}")
    if t_end is not None and not (t_end > 0 and math.isfinite(t_end)):
        raise UserInputError(f"--t-end must be a finite number > 0, got {t_end}")
    for path in (csv, parquet):
        _check_writable(path)

    import numpy as np
    from rich.console import Console

    from hyosan.classic.alemi import closed_form, extinction_probability, final_state
    from hyosan.classic.ssa import alemi_szr, simulate_runs

    humans = n - zombies
    if t_end is None:
        # A few e-folding times of the early growth (or decay) rate β|1−α|, plus the log of N.
        t_end = (math.log(n) + 5.0) / (beta * max(abs(1.0 - alpha), 1.0 / math.sqrt(n))) * 2.0
    grid = np.linspace(0.0, t_end, points)
    started = time.perf_counter()
    runs = simulate_runs(alemi_szr(alpha, beta), {"S": humans, "Z": zombies}, math.inf, method, replicates, seed, grid)
    seconds = time.perf_counter() - started

    died_out = int(np.sum(runs.final_counts[:, 1] == 0))
    fraction = died_out / replicates
    low, high = _wilson(died_out, replicates)
    theory_n = extinction_probability(alpha, zombies, n) if n <= 20000 else float("nan")
    s_inf, z_inf, r_inf = final_state(humans, zombies, alpha=alpha)
    ode_end = closed_form(t_end, humans, zombies, alpha=alpha, beta=beta)[0]
    mean_end = runs.counts[:, -1, :].mean(axis=0)

    table = _table(f"Alemi et al. 2015 · fully connected SZR · α={alpha:g}, N={n:,}, {replicates:,} runs ({method})")
    table.add_row("outbreaks that died out", f"{fraction:.4f}  (95% CI {low:.4f}–{high:.4f})")
    table.add_row("theory, N → ∞: min(1, α)^z0", f"{extinction_probability(alpha, zombies):.4f}")
    table.add_row(f"theory, exact for N = {n:,}", f"{theory_n:.4f}")
    table.add_row("mean field wins", "zombies (α < 1)" if alpha < 1 else "humans (α ≥ 1)")
    table.add_row("mean-field end state S, Z, R", f"{s_inf:,.1f}, {z_inf:,.1f}, {r_inf:,.1f}")
    table.add_row(
        f"at t = {t_end:.3g}: closed form S, Z, R",
        ", ".join(f"{v:,.1f}" for v in ode_end),
    )
    table.add_row(f"at t = {t_end:.3g}: mean of runs S, Z, R", ", ".join(f"{v:,.1f}" for v in mean_end))
    events = int(runs.events.sum())
    table.add_row("events", f"{events:,} in {seconds:.3f} s ({events / max(seconds, 1e-9) / 1e6:.2f} M/s)")
    Console().print(table)
    if csv is not None or parquet is not None:
        _write_frame(runs.to_frame(), csv=csv, parquet=parquet)


# --- helpers -----------------------------------------------------------------------------------


def _table(title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    return table


def _parse_counts(text: str, option: str, count: int, names: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise UserInputError(f"{option} expects {count} comma-separated numbers ({names}), got {text!r}") from None
    if len(values) != count:
        raise UserInputError(f"{option} expects {count} numbers ({names}), got {len(values)}")
    if any(not (v >= 0 and math.isfinite(v)) for v in values):
        raise UserInputError(f"{option}: counts must be finite and >= 0, got {text!r}")
    return values


def _wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def _check_writable(path: Path | None) -> None:
    """Fail before the run, not after it, when an output cannot be written."""
    if path is None:
        return
    if path.is_dir():
        raise UserInputError(f"cannot write {path}: it is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserInputError(f"cannot write {path}: folder {parent} does not exist")


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    # Write beside the target and rename over it, so a crash never leaves half a file.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_frame(frame, *, csv: Path | None, parquet: Path | None) -> None:
    if csv is not None:
        _atomic(csv, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.10g"))
    if parquet is not None:
        _atomic(parquet, lambda tmp: frame.to_parquet(tmp, index=False))


def _plot_curves(frame, compartments: tuple[str, ...], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"S": "humans", "I": "infected", "Z": "zombies", "R": "removed", "Q": "quarantined"}
    figure, axes = plt.subplots(figsize=(7, 4))
    for name in compartments:
        axes.plot(frame["time"], frame[name], label=f"{name} ({labels[name]})")
    axes.set_xlabel("time (days)")
    axes.set_ylabel("population")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=120)
    plt.close(figure)
