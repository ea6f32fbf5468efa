"""What-if forks: alternative futures of a school run from one of its checkpoints, with common random numbers.

`fork_run` restores the run at the last checkpoint before `at`, and for each replicate r runs two
futures from that same moment: the *baseline* (the world unchanged) and the *alternative* (the
changed rules). Both futures of replicate r draw from the same re-seeded random streams, so their
difference is the effect of the change and not of luck (common random numbers); replicate r's two
futures are identical when the change changes nothing. The run's own future (the original, not
re-seeded) is reported beside them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan.errors import UserInputError
from hyosan.results import Results, load_results
from hyosan.rng import RandomStreams
from hyosan.school import kernel
from hyosan.school.codes import Param
from hyosan.school.sim import SchoolSim

__all__ = ["FORKABLE", "OUTCOMES", "ForkReport", "checkpoint_before", "fork_run", "outcome_row", "write_fork_report"]

# What may change in the middle of a run: the rules that the kernel reads every tick and the schedule
# of events still to come. The building and the people, drawn at the start, cannot.
FORKABLE = ("zombie.", "doors.", "infection.", "stress.", "hambies.", "groups.", "events")
_FORKABLE_PEOPLE = (
    "people.sight_range_lit",
    "people.sight_range_dark",
    "people.hearing_threshold",
    "people.chatter_level",
)
# Parameter slots that the run itself changes as it goes (world events): kept from the checkpoint.
_RUNTIME_SLOTS = (Param.EXITS_OPEN, Param.RESCUE_ROOM, Param.STOP_WHEN_DIED_OUT)


@dataclass
class ForkReport:
    """Outcomes of the original future and of each replicate's baseline and alternative futures."""

    at_s: float
    checkpoint: Path
    changes: dict[str, Any]
    table: pd.DataFrame  # one row per future: arm (original, baseline, alternative), replicate, outcomes

    def summary(self) -> pd.DataFrame:
        """Per outcome: the original's value, baseline and alternative means, and the mean paired difference."""
        base = self.table[self.table.arm == "baseline"].set_index("replicate")
        alt = self.table[self.table.arm == "alternative"].set_index("replicate")
        original = self.table[self.table.arm == "original"].iloc[0]
        rows = []
        for name in OUTCOMES:
            if name in _CENSORED:
                # A future in which it never happened counts as happening at the end it was run to
                # (censored), so that every pair keeps a difference: also one that stopped early (the
                # outbreak died out, nobody was left), in which it can no longer happen.
                base[name] = base[name].fillna(base["end_s"])
                alt[name] = alt[name].fillna(alt["end_s"])
            diff = (alt[name] - base[name]).to_numpy(dtype=float)
            low, high = _bootstrap_mean(diff)
            rows.append(
                {
                    "outcome": name,
                    "original": float(original[name]),
                    "baseline_mean": float(base[name].mean()),
                    "alternative_mean": float(alt[name].mean()),
                    "difference": float(diff.mean()) if diff.size else math.nan,
                    "difference_ci_low": low,
                    "difference_ci_high": high,
                }
            )
        return pd.DataFrame(rows)


OUTCOMES = ("survivors", "bitten", "zombies", "dead_zombies", "named_survivors", "school_fell_s")
_CENSORED = ("school_fell_s",)  # times: NaN when it did not happen within the future


def outcome_row(results: Results, horizon_s: float | None = None) -> dict[str, float]:
    """The outcomes a fork compares, from one run's results.

    ``end_s`` is `horizon_s`, the time the future was run to (default: where it stopped); a censored
    time counts as that.
    """
    c = results.summary["counts"]
    fell = results.summary.get("school_fell_s")
    return {
        "survivors": int(results.summary.get("survivors", c["healthy"] + c["escaped"] + c["rescued"])),
        "bitten": results.summary.get("ever_bitten", 0),
        "zombies": c["zombie"],
        "dead_zombies": c["dead"],
        "named_survivors": len(results.summary.get("survivors_by_name") or []),
        "school_fell_s": math.nan if fell is None else float(fell),
        "end_s": float(results.summary.get("simulated_s", math.nan)) if horizon_s is None else float(horizon_s),
    }


def checkpoint_before(run_dir: str | Path, at_s: float) -> Path:
    """The last checkpoint of a results folder at or before `at_s` seconds."""
    folder = Path(run_dir) / "checkpoints"
    found = sorted((int(p.stem[1:]), p) for p in folder.glob("t*.ckpt") if p.stem[1:].isdigit())
    if not found:
        raise UserInputError(
            'this run kept no checkpoints: run it again with `hyosan run ... --checkpoint-every "10 min"`', run_dir
        )
    before = [p for t, p in found if t <= at_s + 1e-9]
    if not before:
        raise UserInputError(f"the first checkpoint is at {found[0][0]} s, after --at ({at_s:g} s)", run_dir)
    return before[-1]


def fork_run(
    run_dir: str | Path,
    at_s: float,
    changes: Mapping[str, Any],
    replicates: int,
    *,
    until_s: float | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ForkReport:
    """Run `replicates` pairs of futures (baseline, alternative) from the checkpoint before `at_s`."""
    if replicates < 1:
        raise UserInputError(f"--replicates must be at least 1, got {replicates}")
    ckpt = checkpoint_before(run_dir, at_s)
    start = SchoolSim.resume(ckpt)
    _check_changes(start, changes)
    horizon = start.scenario.run.duration if until_s is None else min(until_s, start.scenario.run.duration)
    original = outcome_row(load_results(run_dir) if until_s is None else _future(ckpt, {}, None, until_s), horizon)
    tasks = [(ckpt, dict(changes) if arm == "alternative" else {}, r, until_s, arm, horizon) for r in range(replicates)
             for arm in ("baseline", "alternative")]  # fmt: skip
    rows: list[dict[str, Any]] = [{"arm": "original", "replicate": -1, **original}]
    done = 0
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for row in pool.map(_task, tasks):
                rows.append(row)
                done += 1
                if progress:
                    progress(done, len(tasks))
    else:
        for task in tasks:
            rows.append(_task(task))
            done += 1
            if progress:
                progress(done, len(tasks))
    table = pd.DataFrame(rows).sort_values(["arm", "replicate"], kind="stable").reset_index(drop=True)
    return ForkReport(at_s=float(at_s), checkpoint=ckpt, changes=dict(changes), table=table)


# --- helpers -----------------------------------------------------------------------------------------


def _task(task: tuple[Path, dict[str, Any], int, float | None, str, float]) -> dict[str, Any]:
    ckpt, changes, replicate, until_s, arm, horizon = task
    return {"arm": arm, "replicate": replicate, **outcome_row(_future(ckpt, changes, replicate, until_s), horizon)}


def _future(ckpt: Path, changes: Mapping[str, Any], replicate: int | None, until_s: float | None) -> Results:
    """One future from a checkpoint: with the changes applied, re-seeded for `replicate` (None: as it was)."""
    sim = SchoolSim.resume(ckpt)
    if changes:
        _apply(sim, changes)
    if replicate is not None:
        _reseed(sim, replicate)
    return sim.run(until=until_s)


def _check_changes(sim: SchoolSim, changes: Mapping[str, Any]) -> None:
    for key in changes:
        if not (key.startswith(FORKABLE) or key in _FORKABLE_PEOPLE):
            allowed = (
                ", ".join(k.rstrip(".") + ".*" for k in FORKABLE[:-1]) + ", events, " + ", ".join(_FORKABLE_PEOPLE)
            )
            raise UserInputError(f"--set {key}: cannot change in the middle of a run (it can: {allowed})")
    _apply(sim, changes)  # raises a located error for a bad key or value before any future runs


def _apply(sim: SchoolSim, changes: Mapping[str, Any]) -> None:
    from hyosan.ensemble.overrides import override_scenario

    sim.scenario = override_scenario(sim.scenario, changes)
    kept = {slot: sim.params[slot] for slot in _RUNTIME_SLOTS}
    sim.params[:] = sim._params()
    for slot, value in kept.items():
        sim.params[slot] = value
    sim._new_caches()  # what noises read beside the parameters: their levels, and how quiet a search goes
    if any(key.startswith("events") for key in changes):
        # Events still to come follow the new schedule; those already past stay in the past.
        sim._events = [e for e in sorted(sim.scenario.events, key=lambda e: e.at) if e.at > sim.t + 1e-9]
        sim._next_event = 0
        sim._set_died_out_stop()  # a patient zero still to come may start the outbreak again


def _reseed(sim: SchoolSim, replicate: int) -> None:
    """New random streams for this replicate, the same for both arms (common random numbers)."""
    entropy = np.random.SeedSequence([sim.seed, round(sim.t), replicate]).generate_state(1, np.uint64)[0]
    streams = RandomStreams(int(entropy >> np.uint64(1)))
    for name, state in sim.rng.items():
        state[:] = kernel.seed_rng(streams.seed_for(name))
    sim.streams = streams


def _bootstrap_mean(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size < 2 or np.all(values == values[0]):
        v = float(values[0]) if values.size else math.nan
        return v, v
    import inspect

    from scipy.stats import bootstrap

    # SciPy >= 1.15 names the generator `rng`; older releases `random_state`.
    seeded = "rng" if "rng" in inspect.signature(bootstrap).parameters else "random_state"
    ci = bootstrap((values,), np.mean, confidence_level=level, n_resamples=2000, **{seeded: np.random.default_rng(0)})
    return float(ci.confidence_interval.low), float(ci.confidence_interval.high)


def write_fork_report(report: ForkReport, folder: str | Path) -> Path:
    """fork.csv and fork.parquet (every future), summary.csv, report.md and fork.png, each written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyosan.results import atomic_write

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = report.summary()
    atomic_write(folder / "fork.csv", lambda p: report.table.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(folder / "fork.parquet", lambda p: report.table.to_parquet(p, index=False))
    atomic_write(folder / "summary.csv", lambda p: summary.to_csv(p, index=False, float_format="%.6g"))
    changes = ", ".join(f"`{k} = {v}`" for k, v in report.changes.items()) or "nothing (a check of the method)"
    n = int((report.table.arm == "baseline").sum())
    lines = [
        f"# Fork at {report.at_s:g} s",
        "",
        f"From checkpoint `{report.checkpoint.name}`; changed: {changes}; {n} pairs of futures with common random numbers.",
        "",
        "| outcome | original future | baseline mean | alternative mean | difference (95% CI) |",
        "|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        lines.append(
            f"| {r.outcome} | {r.original:g} | {r.baseline_mean:.4g} | {r.alternative_mean:.4g} | "
            f"{r.difference:+.4g} ({r.difference_ci_low:+.4g} to {r.difference_ci_high:+.4g}) |"
        )
    fell = report.table.loc[report.table.arm != "original", ["arm", "school_fell_s"]]
    fell_counts = fell.groupby("arm")["school_fell_s"].count().reindex(["baseline", "alternative"], fill_value=0)
    lines += [
        "",
        f"The school fell (half its people bitten) in {fell_counts['baseline']} of {n} baseline and "
        f"{fell_counts['alternative']} of {n} alternative futures; a future in which it did not fall counts "
        "as falling at its end. Survivors: people never bitten who are still healthy, escaped or were rescued.",
    ]
    atomic_write(folder / "report.md", lambda p: p.write_text("\n".join(lines) + "\n"))
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for arm, colour in (("baseline", "#0072B2"), ("alternative", "#D55E00")):
        values = report.table.loc[report.table.arm == arm, "survivors"]
        ax.hist(values, bins=20, alpha=0.6, color=colour, label=arm)
    ax.axvline(float(report.table.loc[report.table.arm == "original", "survivors"].iloc[0]), color="black", ls="--",
               label="original future")  # fmt: skip
    ax.set_xlabel("survivors at the end")
    ax.set_ylabel("futures")
    ax.legend(frameon=False)
    fig.tight_layout()
    atomic_write(folder / "fork.png", lambda p: fig.savefig(p, format="png", metadata={"Software": None}))
    plt.close(fig)
    return folder
