"""Results of a country run on disk: tables, events, summary, maps per day and an animation.

A results folder holds ``summary.json`` (what happened), ``run-info.json`` (wall time and memory:
kept apart so that the rest is identical for a given seed), ``daily.parquet``/``.csv`` (national
counts per day), ``regions.parquet``/``.csv`` (per region and day), ``places.csv`` (every named
place: when it was first reached, fell and was lost), ``events.jsonl`` and ``map-day<D>.png``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from hyosan.country import kernel as kn
from hyosan.country.lattice import PopulationLattice
from hyosan.country.sim import CountryResults
from hyosan.errors import UserInputError
from hyosan.results import atomic_write

__all__ = ["STATE_COLOURS", "AnimationFrames", "map_image", "save_map", "save_results"]

# Map colours (RGB 0-1): clear people, bitten, zombies, hambies, the dead, empty land.
STATE_COLOURS = {
    "clear": (0.23, 0.51, 0.85),
    "bitten": (1.0, 0.62, 0.1),
    "zombie": (0.85, 0.08, 0.1),
    "hambie": (0.58, 0.25, 0.75),
    "dead": (0.18, 0.18, 0.18),
    "empty": (0.97, 0.97, 0.95),
}


def save_results(results: CountryResults, folder: str | Path, *, title: str = "") -> Path:
    """Write every table, the events, the summary and the kept maps into `folder`, each file atomically."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the results folder: {exc.strerror}", folder) from None
    atomic_write(folder / "summary.json", lambda p: p.write_text(_json(results.summary)))
    atomic_write(folder / "run-info.json", lambda p: p.write_text(_json(results.run_info)))
    for name, frame in (("daily", results.daily), ("regions", results.regions)):
        atomic_write(folder / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
        atomic_write(folder / f"{name}.csv", lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(folder / "places.csv", lambda p: results.places.to_csv(p, index=False, float_format="%.6g"))
    records = results.events.to_dict(orient="records")
    atomic_write(folder / "events.jsonl", lambda p: p.write_text(_jsonl(records)))
    if results.lattice is not None:
        for day, counts in sorted(results.maps.items()):
            save_map(
                folder / f"map-day{day}.png",
                results.lattice,
                counts,
                day=day,
                title=title,
                cordon=results.cordon_mask,
            )
    return folder


def map_image(counts: np.ndarray, lattice: PopulationLattice, *, max_pixels: int | None = None) -> np.ndarray:
    """An RGB image (rows, cols, 3 floats) of a grid of counts (species, rows, cols).

    Each cell's colour mixes the state colours by its share of people in each state; its strength
    grows with the log of the people there, so cities stand out and empty land stays pale. With
    ``max_pixels`` the grid is first summed over square blocks so the image is at most that wide/high.
    """
    c = counts.astype(np.float64)
    if max_pixels:
        c = _block_sum(c, max(1, -(-max(c.shape[1:]) // max_pixels)))
    s, z, hm, r = c[kn.S], c[kn.Z], c[kn.H], c[kn.R]
    b = c[kn.B1] + c[kn.B2] + c[kn.B3]
    total = s + b + z + hm + r
    rgb = np.zeros((*total.shape, 3))
    safe = np.where(total > 0, total, 1.0)
    for share, key in ((s, "clear"), (b, "bitten"), (z, "zombie"), (hm, "hambie"), (r, "dead")):
        rgb += (share / safe)[..., None] * np.asarray(STATE_COLOURS[key])
    top = max(float(np.log10(1.0 + total.max(initial=0.0))), 1.0)
    strength = np.clip(0.25 + 0.75 * np.log10(1.0 + total) / top, 0.0, 1.0)
    strength[total <= 0] = 0.0
    empty = np.asarray(STATE_COLOURS["empty"])
    return np.clip(strength[..., None] * rgb + (1.0 - strength[..., None]) * empty, 0.0, 1.0)


def save_map(
    path: Path,
    lattice: PopulationLattice,
    counts: np.ndarray,
    *,
    day: int,
    title: str = "",
    cordon: np.ndarray | None = None,
    labels: int = 8,
) -> None:
    """Draw one day's map (PNG, matplotlib) with the largest places named and the cordon outlined."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows, cols = lattice.shape
    km = lattice.cell_km
    image = map_image(counts, lattice, max_pixels=1600)
    extent = (0.0, cols * km, rows * km, 0.0)
    aspect = rows / cols
    fig, ax = plt.subplots(figsize=(10, max(4.0, min(14.0, 10 * aspect + 1.2))), dpi=110)
    ax.imshow(image, extent=extent, interpolation="nearest")
    if cordon is not None and cordon.any() and min(rows, cols) >= 2:
        ax.contour(
            (np.arange(cols) + 0.5) * km, (np.arange(rows) + 0.5) * km, cordon.astype(float), levels=[0.5],
            colors="black", linewidths=1.2, linestyles="--",
        )  # fmt: skip
    places = lattice.places.sort_values("population", ascending=False, kind="stable").head(labels)
    for _, p in places.iterrows():
        x, y = (p["col"] + 0.5) * km, (p["row"] + 0.5) * km
        ax.plot(x, y, marker="o", ms=3, color="black")
        ax.annotate(str(p["name"]), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
    total = counts.sum(axis=(1, 2), dtype=np.int64)
    people = int(total.sum())
    fallen = people - int(total[kn.S])
    ax.set_title(
        f"{title or lattice.name} — day {day}: {int(total[kn.Z]):,} zombies, "
        f"{fallen / max(people, 1):.0%} of {people:,} fallen",
        fontsize=10,
    )
    ax.set_xlabel("km (equal-area projection)")
    ax.set_ylabel("km")
    handles = [Patch(color=STATE_COLOURS[k], label=k) for k in ("clear", "bitten", "zombie", "hambie", "dead")]
    if cordon is not None and cordon.any():
        handles.append(Patch(facecolor="none", edgecolor="black", linestyle="--", label="cordon"))
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.8)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)


class AnimationFrames:
    """Collects one small frame per recorded day; `write` saves them as a GIF or MP4 (imageio)."""

    def __init__(self, lattice: PopulationLattice, days: int, max_pixels: int = 480) -> None:
        self.lattice = lattice
        self.days = max(int(days), 1)
        self.max_pixels = max_pixels
        self.frames: list[np.ndarray] = []

    def add(self, day: int, counts: np.ndarray) -> None:
        """The `CountrySim.run(on_frame=...)` hook: one frame for this day."""
        image = (map_image(counts, self.lattice, max_pixels=self.max_pixels) * 255).astype(np.uint8)
        zoom = max(1, (self.max_pixels // 2) // max(image.shape[:2]))  # small lattices: bigger pixels
        if zoom > 1:
            image = image.repeat(zoom, axis=0).repeat(zoom, axis=1)
        self.frames.append(_stamp_day(image, day / self.days))

    def write(self, path: Path, fps: int = 6) -> None:
        import imageio.v2 as imageio

        suffix = path.suffix.lower()
        if suffix not in (".gif", ".mp4"):
            raise UserInputError("the animation must be a .gif or .mp4 file", path)
        if not self.frames:
            raise UserInputError("no frames to animate", path)
        frames = self.frames
        if suffix == ".mp4":  # video encoders want even sizes
            h, w = frames[0].shape[:2]
            frames = [f[: h - h % 2, : w - w % 2] for f in frames]

        def write(tmp: Path) -> None:
            if suffix == ".gif":
                imageio.mimsave(tmp, frames, format="GIF", duration=1000 / fps, loop=0)
            else:  # ffmpeg picks the container from the name: write beside, then take the temporary's place
                video = tmp.with_name(tmp.name + ".mp4")
                try:
                    with imageio.get_writer(video, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1) as w:
                        for f in frames:
                            w.append_data(f)
                    os.replace(video, tmp)
                finally:
                    video.unlink(missing_ok=True)

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)


def _stamp_day(image: np.ndarray, progress: float) -> np.ndarray:
    """A progress strip along the bottom edge: how far into the run the frame is (no font needed)."""
    out = image.copy()
    h, w = out.shape[:2]
    bar = max(2, h // 60)
    out[h - bar :, :, :] = 255
    filled = min(w, int(w * min(max(progress, 0.0), 1.0)))
    out[h - bar :, :filled, :] = (40, 40, 40)
    return out


def _block_sum(c: np.ndarray, block: int) -> np.ndarray:
    if block <= 1:
        return c
    n, rows, cols = c.shape
    pr, pc = (-rows) % block, (-cols) % block
    padded = np.pad(c, ((0, 0), (0, pr), (0, pc)))
    return padded.reshape(n, (rows + pr) // block, block, (cols + pc) // block, block).sum(axis=(2, 4))


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=_plain) + "\n"


def _jsonl(records: list[dict[str, Any]]) -> str:
    lines = []
    for record in records:
        plain = {k: _plain(v) for k, v in record.items()}
        for key in ("row", "col", "count"):  # whole numbers that pandas widened to floats
            if isinstance(plain.get(key), float):
                plain[key] = int(plain[key])
        lines.append(json.dumps(plain, ensure_ascii=False) + "\n")
    return "".join(lines)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN: JSON has no such number
        return None
    return value
