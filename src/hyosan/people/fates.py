"""Who lives over many seeds: named characters' fates, groups against loners, and when the school falls.

`fate_distribution` runs one scenario once per seed (in worker processes when ``workers > 1``; the
tables do not depend on how many) and returns `FateTables`, whose `to_markdown` renders them. The
command is ``hyosan fates [SCENARIO] --seeds 1-20 --workers 2 --out FILE.md`` (or
``python -m hyosan.people.fates ...``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyosan.errors import UserInputError

__all__ = ["FateTables", "fate_distribution", "parse_seeds"]

# Same as hyosan.ensemble.runners._SURVIVING_FATES and the summary's survivors: the living who were never bitten.
SURVIVING_FATES = ("healthy", "escaped", "rescued")
# Every fate a person can end in, in the order of hyosan.school.sim.STATE_NAMES (kept here so that
# importing this module does not compile the kernel).
FATE_ORDER = ("healthy", "bitten", "zombie", "hambie", "dead", "escaped", "rescued", "escaped_bitten", "rescued_bitten")
CONFIDENCE = 0.95


@dataclass
class FateTables:
    """The distribution of fates over seeds of one scenario; every table is a pandas DataFrame.

    - ``named``: one row per named character: runs, survived, survival share with its Wilson
      interval, runs started in a group, and a count column per fate.
    - ``groups``: survival of people who started in a group against loners, for everyone and for the
      named characters: pooled over seeds (Wilson interval) and as the mean of per-seed shares
      (t interval).
    - ``group_gap``: per-seed difference (group share - loner share): mean, t interval, and in how
      many seeds groups did better, worse or the same.
    - ``falls``: one row per seed: when the school fell (half of its people bitten; NaN if never),
      survivors, named survivors.
    - ``fall_summary``: one row: seeds, how many fell, never, median (never counts as later than
      any fall), min and max.
    - ``distinct_fates`` / ``distinct_survival``: how many different vectors of named characters'
      fates (or of survived / not) the seeds gave.
    """

    scenario: str
    seeds: list[int]
    people: int
    duration_s: float
    named: pd.DataFrame
    groups: pd.DataFrame
    group_gap: pd.DataFrame
    falls: pd.DataFrame
    fall_summary: pd.DataFrame
    distinct_fates: int
    distinct_survival: int

    def to_markdown(self, level: int = 2) -> str:
        """The tables as Markdown, headed ``#`` x `level`, with one plain sentence per fact they hold."""
        return _markdown(self, level)


def fate_distribution(
    scenario: Any,
    seeds: Sequence[int],
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> FateTables:
    """Run `scenario` (a built-in name, a TOML path or a `Scenario`) once per seed and tabulate the fates.

    `progress(done, total)` is called after each run. Runs go to `workers` processes; the tables are
    the same for any number of workers.
    """
    from hyosan.scenario import Scenario, load_scenario

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UserInputError("--seeds: give at least one seed")
    repeated = sorted(s for s, n in Counter(seeds).items() if n > 1)
    if repeated:
        raise UserInputError(f"--seeds: seed {repeated[0]} is given twice; each seed counts once")
    if min(seeds) < 0:
        raise UserInputError(f"--seeds: seeds must be 0 or more, got {min(seeds)}")
    if workers < 1:
        raise UserInputError(f"--workers must be at least 1, got {workers}")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    runs = _run_all(sc, seeds, workers, progress)
    return _tables(sc.name, float(sc.run.duration), runs)


def parse_seeds(text: str) -> list[int]:
    """Seeds as the command line takes them: ``1-20``, ``3,5,8`` or ``1-10,15``."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        lo, dash, hi = part.partition("-")
        try:
            if dash:
                first, last = int(lo), int(hi)
                if last < first:
                    raise UserInputError(f"--seeds: the range {part} runs backwards (write {last}-{first})")
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise UserInputError(f"--seeds: expected seeds like 1-20 or 3,5,8, got {text!r}") from None
    return seeds


# --- helpers ---------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What one run leaves for the tables: small, so that it travels cheaply back from a worker."""

    seed: int
    names: list[str]  # named characters, in people.csv order
    roles: list[str]
    classes: list[str]
    named_fates: list[str]
    named_in_group: list[bool]
    in_group: np.ndarray  # bool per person: started in a group
    survived: np.ndarray  # bool per person
    named_mask: np.ndarray  # bool per person
    school_fell_s: float  # NaN if it never fell
    survivors: int


def _one_run(scenario: Any, seed: int) -> _Run:
    from hyosan.school import SchoolSim

    sim = SchoolSim.from_scenario(scenario, seed=seed)
    # Groups are formed at construction and change as people split or die: the start is what counts.
    group = np.asarray(sim.group).copy()
    results = sim.run()
    people = results.people
    n = len(people)
    if len(group) < n:  # people who join later (none today) start alone
        group = np.concatenate([group, np.full(n - len(group), -1)])
    in_group = group[:n] >= 0
    survived = people["fate"].isin(SURVIVING_FATES).to_numpy()
    named = people["named"].astype(bool).to_numpy()
    fell = results.summary.get("school_fell_s")
    return _Run(
        seed=seed,
        names=people.loc[named, "name"].astype(str).tolist(),
        roles=people.loc[named, "role"].astype(str).tolist(),
        classes=people.loc[named, "class"].fillna("").astype(str).tolist(),
        named_fates=people.loc[named, "fate"].astype(str).tolist(),
        named_in_group=in_group[named].tolist(),
        in_group=in_group,
        survived=survived,
        named_mask=named,
        school_fell_s=float("nan") if fell is None else float(fell),
        survivors=int(results.summary["survivors"]),
    )


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: only the driver handles it.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_all(scenario: Any, seeds: list[int], workers: int, progress: Callable[[int, int], None] | None) -> list[_Run]:
    done: dict[int, _Run] = {}

    def finished(run: _Run) -> None:
        done[run.seed] = run
        if progress is not None:
            progress(len(done), len(seeds))

    if workers == 1 or len(seeds) == 1:
        for seed in seeds:
            finished(_one_run(scenario, seed))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: the driver runs a progress-bar thread, which fork does not copy safely.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(seeds)), mp_context=context, initializer=_ignore_interrupts) as pool:
            futures = [pool.submit(_one_run, scenario, seed) for seed in seeds]
            try:
                for future in as_completed(futures):
                    finished(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    # Seed order, not finishing order: the tables must not depend on the number of workers.
    return [done[s] for s in seeds]


def _tables(scenario: str, duration_s: float, runs: list[_Run]) -> FateTables:
    seeds = [r.seed for r in runs]
    named = _named_table(runs)
    groups, gap = _group_tables(runs)
    falls = pd.DataFrame({
        "seed": seeds,
        "school_fell_s": [r.school_fell_s for r in runs],
        "survivors": [r.survivors for r in runs],
        "people": [len(r.survived) for r in runs],
        "named_survivors": [int(np.count_nonzero(r.survived & r.named_mask)) for r in runs],
        "named": [int(np.count_nonzero(r.named_mask)) for r in runs],
    })  # fmt: skip
    fell = falls["school_fell_s"].dropna()
    # A school that never fell fell later than any that did: the median counts it as +inf.
    censored = falls["school_fell_s"].fillna(math.inf).to_numpy()
    fall_summary = pd.DataFrame([{
        "seeds": len(runs),
        "fell": len(fell),
        "never": len(runs) - len(fell),
        "median_s": float(np.median(censored)) if len(runs) else math.nan,
        "median_fallen_s": float(fell.median()) if len(fell) else math.nan,
        "min_s": float(fell.min()) if len(fell) else math.nan,
        "max_s": float(fell.max()) if len(fell) else math.nan,
    }])  # fmt: skip
    return FateTables(
        scenario=scenario,
        seeds=seeds,
        people=len(runs[0].survived),
        duration_s=duration_s,
        named=named,
        groups=groups,
        group_gap=gap,
        falls=falls,
        fall_summary=fall_summary,
        distinct_fates=len({tuple(r.named_fates) for r in runs}),
        distinct_survival=len({tuple(f in SURVIVING_FATES for f in r.named_fates) for r in runs}),
    )


def _named_table(runs: list[_Run]) -> pd.DataFrame:
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        for name, role, klass, fate, grouped in zip(
            run.names, run.roles, run.classes, run.named_fates, run.named_in_group, strict=True
        ):
            row = rows.setdefault(name, {"name": name, "role": role, "class": klass, "runs": 0, "in_group": 0,
                                         **dict.fromkeys(FATE_ORDER, 0)})  # fmt: skip
            row["runs"] += 1
            row["in_group"] += int(grouped)
            row[fate] = row.get(fate, 0) + 1
    columns = ["name", "role", "class", "runs", "survived", "share", "ci_low", "ci_high", "in_group", *FATE_ORDER]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(list(rows.values()))
    table["survived"] = table[list(SURVIVING_FATES)].sum(axis=1)
    table["share"] = table["survived"] / table["runs"]
    bounds = [_wilson(k, n) for k, n in zip(table["survived"], table["runs"], strict=True)]
    table["ci_low"] = [lo for lo, _ in bounds]
    table["ci_high"] = [hi for _, hi in bounds]
    extra = [c for c in table.columns if c not in columns]  # a fate this module does not know yet
    table = table[columns + extra]
    # Most surviving first; ties keep the roster's order (stable sort).
    return table.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)


def _group_tables(runs: list[_Run]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    gaps = []
    for who, pick in (("everyone", None), ("named characters", "named")):
        per_seed = {True: [], False: []}
        pooled = {True: [0, 0], False: [0, 0]}  # [survived, people-runs]
        diffs = []
        for run in runs:
            mask = run.named_mask if pick else np.ones(len(run.survived), dtype=bool)
            shares = {}
            for grouped in (True, False):
                sel = mask & (run.in_group == grouped)
                n = int(np.count_nonzero(sel))
                k = int(np.count_nonzero(run.survived & sel))
                pooled[grouped][0] += k
                pooled[grouped][1] += n
                if n:
                    shares[grouped] = k / n
                    per_seed[grouped].append(k / n)
            if len(shares) == 2:
                diffs.append(shares[True] - shares[False])
        if pick and (pooled[True][1] == 0 or pooled[False][1] == 0):
            continue  # no comparison among the named characters if all of them start the same way
        for grouped in (True, False):
            k, n = pooled[grouped]
            lo, hi = _wilson(k, n)
            mean, mlo, mhi = _mean_ci(per_seed[grouped])
            rows.append({
                "who": who, "start": "in a group" if grouped else "alone", "people_runs": n, "survived": k,
                "share": k / n if n else math.nan, "ci_low": lo, "ci_high": hi,
                "seeds": len(per_seed[grouped]), "seed_mean": mean, "seed_ci_low": mlo, "seed_ci_high": mhi,
            })  # fmt: skip
        mean, lo, hi = _mean_ci(diffs)
        arr = np.asarray(diffs)
        gaps.append({
            "who": who, "seeds": len(diffs), "mean_gap": mean, "ci_low": lo, "ci_high": hi,
            "groups_better": int(np.count_nonzero(arr > 0)), "loners_better": int(np.count_nonzero(arr < 0)),
            "same": int(np.count_nonzero(arr == 0)),
        })  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(gaps)


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def _mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its t interval; the interval is NaN with fewer than two values."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(np.mean(values))
    if n < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t

    half = float(t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


# --- Markdown --------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _interval(lo: float, hi: float, points: bool = False) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return "—"
    if points:
        return f"{100 * lo:+.1f} to {100 * hi:+.1f} pts"
    return f"{100 * lo:.0f}–{100 * hi:.0f}%"


def _when(seconds: float) -> str:
    from hyosan.units import format_duration

    if math.isnan(seconds):
        return "never"
    return "never (in half of the seeds or more)" if math.isinf(seconds) else format_duration(seconds)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A GitHub Markdown table; `align` has one letter per column, ``l`` or ``r`` (default ``l``)."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    marks = ["---:" if (align[i : i + 1] == "r") else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _markdown(t: FateTables, level: int) -> str:
    h = "#" * level
    s = t.seeds
    seeds = f"{s[0]}–{s[-1]}" if s == list(range(s[0], s[0] + len(s))) and len(s) > 1 else ", ".join(map(str, s))
    out = [
        f"{h} Fates over {len(s)} seed{'s' if len(s) != 1 else ''} of {t.scenario}",
        "",
        f"Seed{'s' if len(s) != 1 else ''} {seeds}; {t.people:,} people; each run lasts up to {_when(t.duration_s)}. "
        "Survived means never bitten and healthy, escaped or rescued at the end of the run; "
        "`escaped_bitten` and `rescued_bitten` got out after a bite and do not count.",
        "",
        f"{h}# Named characters",
        "",
    ]
    if len(t.named):
        after = list(t.named.columns).index("in_group") + 1
        fates = [f for f in t.named.columns[after:] if t.named[f].sum() > 0]
        rows = [
            [r["name"], r["role"], r["class"], f"{r['survived']}/{r['runs']}", _pct(r["share"]),
             _interval(r["ci_low"], r["ci_high"]), f"{r['in_group']}/{r['runs']}", *(r[f] for f in fates)]
            for r in t.named.to_dict("records")
        ]  # fmt: skip
        out += [
            _table(["name", "role", "class", "survived", "share", "95% CI (Wilson)", "started in a group", *fates],
                   rows, "lllrrlr" + "r" * len(fates)),
            "",
            f"The {len(t.named)} named characters' fates made {t.distinct_fates} different combinations over "
            f"{len(s)} seeds ({t.distinct_survival} different combinations of who survived).",
        ]  # fmt: skip
    else:
        out.append("This scenario has no named characters.")
    out += ["", f"{h}# In a group or alone", ""]
    if len(t.groups):
        rows = [
            [r["who"], r["start"], f"{r['survived']:,}/{r['people_runs']:,}", _pct(r["share"]),
             _interval(r["ci_low"], r["ci_high"]), _pct(r["seed_mean"]), _interval(r["seed_ci_low"], r["seed_ci_high"]),
             r["seeds"]]
            for r in t.groups.to_dict("records")
        ]  # fmt: skip
        out += [
            "Groups form at the start of a run from strong ties among people in the same room; "
            "everyone else starts alone.",
            "",
            _table(["who", "started", "survived (people x runs)", "share", "95% CI (Wilson)", "mean of seeds",
                    "95% CI (t)", "seeds"], rows, "llrrlrlr"),
            "",
        ]  # fmt: skip
        rows = [
            [r["who"], r["seeds"], "—" if math.isnan(r["mean_gap"]) else f"{100 * r['mean_gap']:+.1f} pts",
             _interval(r["ci_low"], r["ci_high"], points=True), r["groups_better"], r["loners_better"], r["same"]]
            for r in t.group_gap.to_dict("records")
        ]  # fmt: skip
        out += [
            "Per seed, survival share in groups minus share of loners:",
            "",
            _table(["who", "seeds with both", "mean gap", "95% CI (t)", "groups better", "loners better", "same"],
                   rows, "lrrlrrr"),
        ]  # fmt: skip
    out += ["", f"{h}# When the school falls", ""]
    f = t.fall_summary.to_dict("records")[0]
    out += [
        "The school falls when half of its people have been bitten (`school_fell_s` in summary.json); "
        "times are since the start of the run.",
        "",
        _table(["seeds", "fell", "never fell", "median", "median of those that fell", "earliest", "latest"],
               [[f["seeds"], f["fell"], f["never"], _when(f["median_s"]), _when(f["median_fallen_s"]),
                 _when(f["min_s"]), _when(f["max_s"])]], "rrrrrrr"),
        "",
        _table(["seed", "school fell", "survivors", "named survivors"],
               [[r["seed"], _when(r["school_fell_s"]), f"{r['survivors']:,}/{r['people']:,}",
                 f"{r['named_survivors']}/{r['named']}"] for r in t.falls.to_dict("records")], "rrrr"),
        "",
    ]  # fmt: skip
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    from hyosan.cli import main

    sys.argv = ["hyosan", "fates", *sys.argv[1:]]
    main()
