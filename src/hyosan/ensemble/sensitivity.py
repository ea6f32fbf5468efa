"""Global sensitivity: which parameters matter most for survival, by Sobol' indices (SALib, Saltelli sampling).

The Saltelli design has N·(D+2) points for D parameters (first-order and total indices, no second
order). Every point is one combination of the ensemble machinery, run `replicates` times; the
model output at a point is the mean (or censored median) of its runs, so the indices describe the
expected outcome, and their confidence intervals come from SALib's bootstrap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hyosan.ensemble.grid import Design
from hyosan.ensemble.report import Outcome
from hyosan.errors import UserInputError

__all__ = ["sobol_design", "sobol_indices", "write_sensitivity_report"]


def sobol_design(
    bounds: Sequence[tuple[str, tuple[Any, Any]]],
    samples: int,
    seed: int,
    is_integer: Callable[[str], bool] = lambda key: False,
) -> Design:
    """Saltelli points over `bounds` (key → (low, high), numbers or quantities with one unit) as a `Design`.

    `samples` (N) must be a power of two: scrambled Sobol' sequences are balanced only then.
    Parameters that take whole numbers are rounded.
    """
    from SALib.sample import sobol

    if samples < 1 or samples & (samples - 1):
        raise UserInputError(
            f"--samples must be a power of two (Sobol' sequences are balanced only then), got {samples}"
        )
    keys = [key for key, _ in bounds]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise UserInputError(f"--param: {', '.join(repeated)} given more than once")
    if not keys:
        raise UserInputError("--param: give at least one parameter and its range, e.g. zombie.sprint_speed=4:7")
    numbers = [(_number(low), _number(high)) for _, (low, high) in bounds]
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[lo[0], hi[0]] for lo, hi in numbers]}
    points = sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=int(seed))
    whole = [is_integer(k) for k in keys]
    combinations = []
    for point in points:
        combination = {}
        for j, key in enumerate(keys):
            value = int(np.rint(point[j])) if whole[j] else float(point[j])
            unit = numbers[j][0][1]
            combination[key] = f"{value!r} {unit}" if unit else value
        combinations.append(combination)
    spec = {"bounds": {k: [str(lo), str(hi)] for k, (lo, hi) in bounds}, "samples": samples, "second_order": False}
    return Design("sobol", tuple(keys), spec, tuple(combinations))


def sobol_indices(table: Any, design: Design, outcomes: Sequence[Outcome], seed: int = 0) -> Any:
    """First-order (S1) and total (ST) Sobol' indices with confidence intervals, per outcome and parameter."""
    import pandas as pd
    from SALib.analyze import sobol

    problem = {
        "num_vars": len(design.parameters),
        "names": list(design.parameters),
        "bounds": [[_number(lo)[0], _number(hi)[0]] for lo, hi in design.spec["bounds"].values()],
    }
    grouped = table.groupby("combination", sort=True)
    present = np.asarray(sorted(grouped.groups))
    if present.size != len(design) or np.any(present != np.arange(len(design))):
        raise ValueError(f"the table has runs of {present.size} of the design's {len(design)} points")
    rows = []
    for outcome in outcomes:
        if outcome.named:
            continue
        y = np.array([_point_output(runs, outcome) for _, runs in grouped])
        if np.any(np.isnan(y)) or np.all(y == y[0]):
            # No variance to share out (or no value at some point): no index, rather than SALib's 0 or noise.
            result = dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf"), np.full(len(design.parameters), np.nan))
        else:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                result = sobol.analyze(problem, y.astype(np.float64), calc_second_order=False, seed=int(seed))
        for j, name in enumerate(design.parameters):
            rows.append({
                "output": outcome.name,
                "parameter": name,
                "S1": float(result["S1"][j]),
                "S1_conf": float(result["S1_conf"][j]),
                "ST": float(result["ST"][j]),
                "ST_conf": float(result["ST_conf"][j]),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"])


def write_sensitivity_report(
    out: Path, indices: Any, outcomes: Sequence[Outcome], title: str, notes: Sequence[str] = ()
) -> None:
    """``sensitivity.csv``, ``sensitivity.md`` (parameters ranked by total index) and ``sensitivity.png``."""
    from hyosan.results import atomic_write

    atomic_write(out / "sensitivity.csv", lambda p: indices.to_csv(p, index=False, float_format="%.6g"))
    labels = {o.name: o.label for o in outcomes}
    lines = [f"# {title}", "", *notes, ""] if notes else [f"# {title}", ""]
    lines += [
        "First-order index S1: share of the output's variance due to the parameter alone; total index ST: with all",
        "its interactions. 95% confidence intervals from SALib's bootstrap. Ranked by ST.",
        "",
    ]
    for output, frame in indices.groupby("output", sort=False):
        lines += [f"## {labels.get(output, output)}", "", "| parameter | S1 | ST |", "| --- | --- | --- |"]
        for _, r in frame.sort_values("ST", ascending=False, na_position="last").iterrows():
            lines.append(f"| {r['parameter']} | {_index(r['S1'], r['S1_conf'])} | {_index(r['ST'], r['ST_conf'])} |")
        lines.append("")
    lines.append("![Sobol' indices](sensitivity.png)")
    text = "\n".join(lines) + "\n"
    atomic_write(out / "sensitivity.md", lambda p: p.write_text(text, encoding="utf-8"))
    _plot(out / "sensitivity.png", indices, labels)


# --- helpers -----------------------------------------------------------------------------------


def _number(value: Any) -> tuple[float, str]:
    if isinstance(value, int | float):
        return float(value), ""
    amount, _, unit = str(value).strip().partition(" ")
    return float(amount), unit.strip()


def _point_output(runs: Any, outcome: Outcome) -> float:
    values = runs[outcome.column].to_numpy(dtype=np.float64)
    if outcome.censor is not None:
        values = np.where(np.isnan(values), runs[outcome.censor].to_numpy(dtype=np.float64), values)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan
    if outcome.statistic == "median":
        return float(np.quantile(values, 0.5, method="inverted_cdf"))
    return float(values.mean())


def _index(value: float, conf: float) -> str:
    if math.isnan(value):
        return "— (output does not vary)"
    return f"{value:.3f} ± {conf:.3f}"


def _plot(path: Path, indices: Any, labels: dict[str, str]) -> None:
    from matplotlib.figure import Figure

    from hyosan.results import atomic_write

    outputs = list(dict.fromkeys(indices["output"]))
    fig = Figure(figsize=(6.4, 2.2 + 1.6 * len(outputs)), layout="constrained")
    for i, output in enumerate(outputs):
        frame = indices[indices["output"] == output]
        ax = fig.add_subplot(len(outputs), 1, i + 1)
        y = np.arange(len(frame))
        ax.barh(y - 0.2, frame["S1"].fillna(0), 0.4, xerr=frame["S1_conf"].fillna(0), label="first order S1")
        ax.barh(y + 0.2, frame["ST"].fillna(0), 0.4, xerr=frame["ST_conf"].fillna(0), label="total ST")
        ax.set_yticks(y, frame["parameter"])
        ax.set_title(labels.get(output, output))
        ax.set_xlim(left=min(0.0, float(np.nanmin(frame[["S1", "ST"]].to_numpy(), initial=0.0))))
        if i == 0:
            ax.legend(loc="best", fontsize=8)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
