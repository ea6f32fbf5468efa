"""Ensemble reports: per-combination estimates with bootstrap confidence intervals, as Markdown, CSV and plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Outcome", "bootstrap_ci", "format_estimate", "summarize", "write_report"]

CONFIDENCE = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Outcome:
    """One quantity a report estimates per combination from a column of the runs table.

    ``statistic`` is ``mean`` (a probability when the column is 0/1) or ``median``. ``censor`` names a
    column holding, per run, the value to use when the column is NaN (e.g. "the school did not fall
    before the end of the run" counts as falling at the run's duration): the median is then that of
    the censored times, and an estimate that reaches the censoring value means "not within the run".
    """

    name: str
    label: str
    column: str
    statistic: str = "mean"
    unit: str = "probability"  # probability, time (s) or count
    censor: str | None = None
    named: bool = False  # a named character's survival: listed apart in reports


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: str = "mean",
    seed: int | Sequence[int] = 0,
    confidence: float = CONFIDENCE,
    n_resamples: int = RESAMPLES,
) -> tuple[float, float, float]:
    """(estimate, low, high): the statistic of `values` and its percentile-bootstrap confidence interval.

    Seeded, so the same values give the same interval. One value has no interval (NaN bounds);
    identical values have a zero-width one.
    """
    from scipy.stats import bootstrap

    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    point = float(_STATISTICS[statistic](x, axis=-1))
    if x.size == 1:
        return point, math.nan, math.nan
    if np.all(x == x[0]):
        return point, point, point
    options = dict(
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
    )
    rng = np.random.default_rng(seed)
    try:
        result = bootstrap((x,), _STATISTICS[statistic], rng=rng, **options)
    except TypeError:  # SciPy < 1.15 calls the generator random_state
        result = bootstrap((x,), _STATISTICS[statistic], random_state=rng, **options)
    low, high = result.confidence_interval
    return point, float(low), float(high)


def summarize(table: Any, parameters: Sequence[str], outcomes: Sequence[Outcome], seed: int = 0) -> Any:
    """One row per combination: parameter values, runs, and for each outcome its estimate, _low and _high."""
    import pandas as pd

    rows = []
    for combination, runs in table.groupby("combination", sort=True):
        row: dict[str, Any] = {"combination": int(combination)}
        for p in parameters:
            row[p] = runs[p].iloc[0]
        row["runs"] = len(runs)
        for k, outcome in enumerate(outcomes):
            values = runs[outcome.column].to_numpy(dtype=np.float64)
            if outcome.censor is not None:
                limit = runs[outcome.censor].to_numpy(dtype=np.float64)
                values = np.where(np.isnan(values), limit, values)
                row[f"{outcome.name}_limit"] = float(limit.max())
            point, low, high = bootstrap_ci(values, outcome.statistic, seed=(int(seed), int(combination), k))
            row[outcome.name], row[f"{outcome.name}_low"], row[f"{outcome.name}_high"] = point, low, high
        rows.append(row)
    return pd.DataFrame(rows)


def format_estimate(summary_row: Any, outcome: Outcome) -> str:
    """``0.512 [0.431, 0.590]`` or ``0:41:00 [0:35:00, 0:52:00]``; a censored time reads ``not within 72:00:00``."""
    point = summary_row[outcome.name]
    low, high = summary_row[f"{outcome.name}_low"], summary_row[f"{outcome.name}_high"]
    limit = summary_row.get(f"{outcome.name}_limit", math.inf)

    def one(value: float) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        if outcome.unit == "time":
            from hyosan.units import format_duration

            return f"≥ {format_duration(limit)}" if value >= limit else format_duration(value)
        if outcome.unit == "probability":
            return f"{value:.3f}"
        return f"{value:,.4g}"

    if outcome.unit == "time" and point >= limit:
        return f"not within {_duration(limit)}"
    if isinstance(low, float) and math.isnan(low):
        return one(point)
    return f"{one(point)} [{one(low)}, {one(high)}]"


def write_report(
    out: Path,
    table: Any,
    parameters: Sequence[str],
    outcomes: Sequence[Outcome],
    seed: int,
    title: str,
    notes: Sequence[str] = (),
) -> Any:
    """Write ``report.csv``, ``report.md`` and plots (lines with bands for one parameter, heatmaps for two).

    Returns the per-combination summary (see `summarize`).
    """
    from hyosan.results import atomic_write

    summary = summarize(table, parameters, outcomes, seed)
    atomic_write(out / "report.csv", lambda p: summary.to_csv(p, index=False, float_format="%.6g"))
    plots = _plots(out, summary, parameters, [o for o in outcomes if not o.named])
    text = _markdown(summary, parameters, outcomes, title, notes, plots)
    atomic_write(out / "report.md", lambda p: p.write_text(text, encoding="utf-8"))
    return summary


# --- helpers -----------------------------------------------------------------------------------


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    # An observed value, never the average of two: with censored times that average would mean nothing.
    return np.quantile(x, 0.5, axis=axis, method="inverted_cdf")


_STATISTICS = {"mean": np.mean, "median": _median}


def _duration(seconds: float) -> str:
    from hyosan.units import format_duration

    return format_duration(seconds)


def _markdown(
    summary: Any,
    parameters: Sequence[str],
    outcomes: Sequence[Outcome],
    title: str,
    notes: Sequence[str],
    plots: list[Path],
) -> str:
    main = [o for o in outcomes if not o.named]
    named = [o for o in outcomes if o.named]
    lines = [f"# {title}", ""]
    lines += [*notes, ""] if notes else []
    lines.append(
        f"Estimates with {CONFIDENCE:.0%} percentile-bootstrap confidence intervals ({RESAMPLES:,} resamples)."
    )
    lines.append("")
    header = [*parameters, "runs", *(o.label for o in main)]
    lines += [_row(header), _row(["---"] * len(header))]
    for _, r in summary.iterrows():
        cells = [*(_value(r[p]) for p in parameters), str(int(r["runs"])), *(format_estimate(r, o) for o in main)]
        lines.append(_row(cells))
    if named:
        lines += ["", "## Named characters: survival probability", ""]
        header = ["character", *parameters, "survival probability"]
        lines += [_row(header), _row(["---"] * len(header))]
        for o in named:
            for _, r in summary.iterrows():
                lines.append(_row([o.label, *(_value(r[p]) for p in parameters), format_estimate(r, o)]))
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}]({p.name})" for p in plots]
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def _value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def _plots(out: Path, summary: Any, parameters: Sequence[str], outcomes: Sequence[Outcome]) -> list[Path]:
    if len(parameters) not in (1, 2) or summary.empty:
        return []
    from matplotlib.figure import Figure

    from hyosan.results import atomic_write

    written = []
    for outcome in outcomes:
        scale = 1 / 60 if outcome.unit == "time" else 1.0
        unit = " (min)" if outcome.unit == "time" else ""
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot()
        if len(parameters) == 1:
            p = parameters[0]
            x, ticks = _axis(summary[p])
            ax.fill_between(
                x, summary[f"{outcome.name}_low"] * scale, summary[f"{outcome.name}_high"] * scale, alpha=0.25,
                label=f"{CONFIDENCE:.0%} CI",
            )  # fmt: skip
            ax.plot(x, summary[outcome.name] * scale, marker="o", label=outcome.label)
            if ticks is not None:
                ax.set_xticks(x, ticks)
            ax.set_xlabel(p)
            ax.set_ylabel(outcome.label + unit)
            ax.legend(loc="best")
            path = out / f"{outcome.name}.png"
        else:
            p, q = parameters
            grid = summary.pivot_table(index=p, columns=q, values=outcome.name, aggfunc="first", sort=True)
            values = grid.to_numpy(dtype=np.float64) * scale
            image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(grid.shape[1]), [_value(v) for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [_value(v) for v in grid.index])
            for (i, j), v in np.ndenumerate(values):
                if not math.isnan(v):
                    r, g, b, _ = image.cmap(image.norm(v))
                    ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"  # readable on the cell
                    ax.text(j, i, f"{v:.3g}", ha="center", va="center", color=ink, fontsize=8)
            ax.set_xlabel(q)
            ax.set_ylabel(p)
            fig.colorbar(image, ax=ax, label=outcome.label + unit)
            path = out / f"{outcome.name}-heatmap.png"
        ax.set_title(outcome.label)
        atomic_write(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110))
        written.append(path)
    return written


def _axis(column: Any) -> tuple[np.ndarray, list[str] | None]:
    """Numbers stay on a numeric axis; anything else is placed evenly and labelled."""
    values = column.to_numpy()
    if all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values):
        return values.astype(np.float64), None
    return np.arange(len(values), dtype=np.float64), [_value(v) for v in values]
