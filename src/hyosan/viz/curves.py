"""curves.png: how many people are in each state over a run, with the world's events marked on a clock axis.

The palette here is the one every picture of `hyosan.viz` uses: one Okabe–Ito colour per state,
safe for the common kinds of colour blindness.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyosan.results import atomic_write

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from hyosan.results import Results

__all__ = [
    "STATES",
    "STATE_COLOURS",
    "WORLD_EVENT_LABELS",
    "RunClock",
    "busy_until",
    "draw_curves",
    "png_bytes_options",
    "world_events",
    "write_curves",
]

STATES: tuple[str, ...] = ("healthy", "bitten", "zombie", "hambie", "dead", "escaped", "rescued")
"""The states of a person, in the order of `hyosan.school.State` and of the timeseries columns."""

# Okabe & Ito (2008), "Color Universal Design". Yellow (#F0E442) is left for exits on floor maps:
# it is too pale for a line on white.
STATE_COLOURS: dict[str, str] = {
    "healthy": "#009E73",  # bluish green
    "bitten": "#E69F00",  # orange
    "zombie": "#D55E00",  # vermillion
    "hambie": "#CC79A7",  # reddish purple
    "dead": "#000000",  # black
    "escaped": "#56B4E9",  # sky blue
    "rescued": "#0072B2",  # blue
}

WORLD_EVENT_LABELS: dict[str, str] = {
    "patient_zero": "patient zero",
    "seal": "sealed",
    "power_cut": "power cut",
    "power_on": "power back",
    "rescue_arrives": "rescue arrives",
    "rescue_leaves": "rescue leaves",
    "announcement": "announcement",
    "phone_call": "phone call",
    "open_exits": "exits open",
    "close_exits": "exits closed",
    "unbarricade": "barricades down",
}
"""Kinds of world events (those the scenario schedules, `EventKind` >= 100) and how pictures name them."""

_NICE_STEPS_S = (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)
_CLOCK_TEXT = re.compile(r"day (\d+) (\d+):(\d\d):(\d\d)")


def png_bytes_options() -> dict:
    """`savefig` keywords that make a PNG depend only on what is drawn (no software name, no date)."""
    return {"format": "png", "metadata": {"Software": None}}


class RunClock:
    """Seconds since the start of a run as the school's clock: ``day 1 08:50:00`` or ``8:50``."""

    def __init__(self, results: Results) -> None:
        self.start_s = 0.0  # seconds since midnight of day 1 when the run starts
        ts = results.timeseries
        if "clock" in ts and len(ts):
            match = _CLOCK_TEXT.fullmatch(str(ts["clock"].iloc[0]))
            if match:
                day, h, m, s = (int(v) for v in match.groups())
                self.start_s = (day - 1) * 86400 + h * 3600 + m * 60 + s - float(ts["time_s"].iloc[0])

    def parts(self, t: float) -> tuple[int, int, int, int]:
        """Day (1-based), hour, minute and second of the clock at `t` seconds into the run."""
        total = round(self.start_s + t)
        day, rest = divmod(total, 86400)
        return day + 1, rest // 3600, rest % 3600 // 60, rest % 60

    def text(self, t: float) -> str:
        day, h, m, s = self.parts(t)
        return f"day {day} {h:02d}:{m:02d}:{s:02d}"

    def short(self, t: float) -> str:
        _, h, m, _ = self.parts(t)
        return f"{h}:{m:02d}"

    def ticks(self, lo: float, hi: float, most: int) -> np.ndarray:
        """Run times in [lo, hi] where the clock shows a round time, at most `most` of them."""
        span = max(hi - lo, 1.0)
        step = next((s for s in _NICE_STEPS_S if span / s <= most), _NICE_STEPS_S[-1])
        first = math.ceil((self.start_s + lo) / step - 1e-9) * step - self.start_s
        return np.arange(first, hi + 1e-6, step)


def write_curves(results: Results, path: str | Path) -> Path:
    """Draw the counts per state over the run as a PNG at `path`, atomically; same results, same bytes."""
    from matplotlib import rc_context

    path = Path(path)
    with rc_context(_RC):
        fig = _new_figure(10.0, 5.6)
        draw_curves(results, fig)
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, **png_bytes_options()))
    return path


def draw_curves(results: Results, fig: Figure) -> list[Axes]:
    """Draw the curves into `fig`: one panel, or the first hours beside the whole run when it is much longer."""
    ts = results.timeseries
    t = ts["time_s"].to_numpy(dtype=float) if len(ts) else np.zeros(0)
    counts = {s: (ts[s].to_numpy() if s in ts else np.zeros(len(ts))) for s in STATES}
    end = float(results.summary.get("simulated_s") or (t[-1] if t.size else 0.0))
    end = max(end, float(t[-1]) if t.size else 0.0, 60.0)
    clock = RunClock(results)
    focus = _focus_end(t, counts, end)
    events = world_events(results)
    summary = results.summary
    fig.suptitle(
        f"{summary.get('scenario', 'run')} · seed {summary.get('seed', '?')}",
        x=0.01,
        ha="left",
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.01,
        0.925,
        f"{summary.get('people', int(sum(c[0] for c in counts.values())) if t.size else 0):,} people · "
        f"simulated {summary.get('simulated', '?')} from {clock.text(0.0)} · people in each state over time",
        fontsize=9,
        color="#444444",
    )
    if focus < end:
        grid = fig.add_gridspec(1, 2, width_ratios=(3, 1), wspace=0.1, left=0.06, right=0.985, top=0.86, bottom=0.2)
        main = fig.add_subplot(grid[0])
        whole = fig.add_subplot(grid[1], sharey=main)
        panels = [(main, 0.0, focus, 9, f"first {_hours_minutes(focus)}"), (whole, 0.0, end, 4, "whole run")]
        # The whole-run panel marks only the events after the first panel's span, which shows them already.
    else:
        grid = fig.add_gridspec(1, 1, left=0.06, right=0.985, top=0.86, bottom=0.2)
        main = fig.add_subplot(grid[0])
        panels = [(main, 0.0, end, 10, "")]
    top = max((int(c.max()) for c in counts.values() if c.size), default=1)
    for k, (ax, lo, hi, most, title) in enumerate(panels):
        _draw_panel(ax, t, counts, lo, hi, clock, most, events[events["time_s"] > focus] if k else events)
        ax.set_ylim(0, max(top, 1) * 1.04)
        if title:
            ax.set_title(title, fontsize=9, loc="left", color="#444444")
        if k:
            ax.tick_params(labelleft=False)
            ax.axvspan(0, focus, color="#000000", alpha=0.06, lw=0)
    main.set_ylabel("people")
    fig.supxlabel("school clock", y=0.1, fontsize=9)
    final = {s: int(c[-1]) if c.size else 0 for s, c in counts.items()}
    handles = [main.get_lines()[i] for i in range(len(STATES))]
    fig.legend(
        handles,
        [f"{s} {final[s]:,}" for s in STATES],
        loc="lower center",
        ncol=len(STATES),
        frameon=False,
        fontsize=9,
        title="at the end",
        title_fontsize=8,
        bbox_to_anchor=(0.5, 0.0),
    )
    if not t.size:
        main.text(0.5, 0.5, "nothing recorded", transform=main.transAxes, ha="center", va="center", color="#666666")
    return [p[0] for p in panels]


def busy_until(results: Results) -> float:
    """When the run's action is over: 99 % of all changes of state done, rounded up (the run's end if sooner)."""
    ts = results.timeseries
    t = ts["time_s"].to_numpy(dtype=float) if len(ts) else np.zeros(0)
    counts = {s: (ts[s].to_numpy() if s in ts else np.zeros(len(ts))) for s in STATES}
    end = max(float(results.summary.get("simulated_s") or 0.0), float(t[-1]) if t.size else 0.0)
    return min(_focus_end(t, counts, end), end)


def world_events(results: Results) -> pd.DataFrame:
    """The world events of a run (time_s, kind, label), one row per kind and moment."""
    ev = results.events
    if not len(ev) or "kind" not in ev or "time_s" not in ev:
        return pd.DataFrame({"time_s": [], "kind": [], "label": []})
    world = ev.loc[ev["kind"].isin(WORLD_EVENT_LABELS.keys()), ["time_s", "kind"]].drop_duplicates()
    world = world.assign(label=world["kind"].map(WORLD_EVENT_LABELS))
    return world.sort_values("time_s", kind="stable").reset_index(drop=True)


# --- helpers -------------------------------------------------------------------------------------------------

_RC = {
    "svg.hashsalt": "hyosan",  # fixed ids in SVG output; PNGs are made deterministic by `png_bytes_options`
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


def _new_figure(width_in: float, height_in: float, dpi: float = 100) -> Figure:
    # A bare Figure with its own Agg canvas: no pyplot, no global figure registry, no display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _focus_end(t: np.ndarray, counts: dict[str, np.ndarray], end: float) -> float:
    """Where the action is: until 99 % of all changes of state have happened, rounded up to a round time."""
    if t.size < 2:
        return end
    change = np.abs(np.diff(np.stack([counts[s] for s in STATES]), axis=1)).sum(axis=0)
    if change.sum() == 0:
        return end
    busy_until = t[1:][np.searchsorted(np.cumsum(change), 0.99 * change.sum())]
    wanted = max(1.2 * busy_until, 600.0)
    step = 600.0 if wanted < 7200 else (1800.0 if wanted < 43200 else 3600.0)
    focus = math.ceil(wanted / step) * step
    # A second panel only pays when the whole run is much longer than the busy part.
    return focus if focus * 3 < end else end


def _draw_panel(
    ax: Axes,
    t: np.ndarray,
    counts: dict[str, np.ndarray],
    lo: float,
    hi: float,
    clock: RunClock,
    most_ticks: int,
    events: pd.DataFrame,
) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter

    for state in STATES:
        ax.plot(t, counts[state], color=STATE_COLOURS[state], lw=1.8, label=state, solid_joinstyle="round")
    ax.set_xlim(lo, hi)
    ticks = clock.ticks(lo, hi, most_ticks)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_labeller(clock, ticks)))
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    _annotate_events(ax, events, lo, hi)


def _tick_labeller(clock: RunClock, ticks: np.ndarray) -> Callable[[float, int], str]:
    days = [clock.parts(v)[0] for v in ticks]
    several_days = len(set(days)) > 1 or (ticks.size and clock.parts(ticks[-1])[0] > 1)

    def label(value: float, pos: int | None) -> str:
        text = clock.short(value)
        if several_days:
            day = clock.parts(value)[0]
            index = int(np.argmin(np.abs(ticks - value))) if ticks.size else 0
            if index == 0 or days[index - 1] != day:
                text += f"\nday {day}"
        return text

    return label


def _annotate_events(ax: Axes, events: pd.DataFrame, lo: float, hi: float) -> None:
    """A dotted line per world event; labels of events too close to read apart are joined."""
    inside = events[(events["time_s"] >= lo) & (events["time_s"] <= hi)]
    if not len(inside):
        return
    times = inside["time_s"].to_numpy(dtype=float)
    labels = inside["label"].tolist()
    ax.vlines(times, 0, 1, transform=ax.get_xaxis_transform(), colors="#777777", lw=0.8, linestyles=":", zorder=1)
    # Labels are rotated text about 0.14 in thick: closer than that on paper, they share one label.
    fig = ax.get_figure()
    width_in = ax.get_position().width * fig.get_figwidth()
    near = (hi - lo) * 0.14 / max(width_in, 1e-6)
    groups: list[tuple[float, list[str]]] = []
    for when, label in zip(times, labels, strict=True):
        if groups and when - groups[-1][0] <= near:
            if label not in groups[-1][1]:
                groups[-1][1].append(label)
        else:
            groups.append((when, [label]))
    for when, names in groups:
        at_right_edge = when > hi - near  # the label goes left of its line, inside the panel
        ax.text(
            when + (hi - lo) * (-0.004 if at_right_edge else 0.004),
            0.98,
            " · ".join(names),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="right" if at_right_edge else "left",
            fontsize=7,
            color="#444444",
            clip_on=False,
        )


def _hours_minutes(seconds: float) -> str:
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min" if h and m else (f"{h} h" if h else f"{m} min")
