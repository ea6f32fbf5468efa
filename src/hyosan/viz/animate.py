"""Animations of a run: the floors frame by frame, with a clock and the counts so far, as MP4 or GIF.

One `FloorView` is built and updated for every frame (only the artists' data change), then each frame
goes straight to the encoder: ffmpeg (from imageio-ffmpeg) for MP4, Pillow for GIF.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hyosan.errors import UserInputError
from hyosan.results import atomic_write
from hyosan.viz.curves import _RC, STATE_COLOURS
from hyosan.viz.floors import DOOR_STYLES, TILE_COLOURS, FloorView

if TYPE_CHECKING:
    from PIL import Image

    from hyosan.results import Results

__all__ = ["GIF_MAX_FRAMES", "VIDEO_FORMATS", "AnimationInfo", "frame_times", "write_animation"]

VIDEO_FORMATS: tuple[str, ...] = (".mp4", ".gif")
"""File extensions `write_animation` can write."""

FRAME_SIZE_IN = (12.8, 7.2)  # at 100 dpi: 1280 x 720, a multiple of 16 both ways as H.264 wants
FRAME_DPI = 100
GIF_MAX_FRAMES = 600  # a GIF is encoded from every frame at once: about 0.9 MB of memory each


@dataclass(frozen=True)
class AnimationInfo:
    """What `write_animation` wrote."""

    path: Path
    frames: int
    width: int
    height: int
    fps: float
    wall_s: float  # time taken to draw and encode every frame

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("inf")


def frame_times(start_s: float, end_s: float, step_s: float) -> np.ndarray:
    """Run times of the frames: every `step_s` from `start_s` to `end_s`, both included when they fall on a step."""
    if step_s <= 0:
        raise ValueError("step must be longer than 0 s")
    if end_s < start_s:
        raise ValueError("the end comes before the start")
    count = int(np.floor((end_s - start_s) / step_s + 1e-9)) + 1
    return start_s + step_s * np.arange(count)


def write_animation(
    results: Results,
    path: str | Path,
    *,
    fps: float = 12.0,
    step_s: float = 30.0,
    start_s: float = 0.0,
    end_s: float | None = None,
    floors: str | Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnimationInfo:
    """Write the floors from `start_s` to `end_s`, one frame per `step_s`.

    `end_s` defaults to the end of the outbreak's busy part (`busy_until`, the first panel of
    curves.png), not to the end of a run that may go on quietly for days. The format follows the
    extension of `path` (``.mp4`` or ``.gif``); the file appears only once complete. `progress(done,
    total)` is called after each frame. A GIF keeps every frame in memory until the end, so it is
    limited to `GIF_MAX_FRAMES` frames; MP4 streams frames to ffmpeg and has no limit.
    """
    from matplotlib import rc_context

    from hyosan.viz.curves import busy_until

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_FORMATS:
        raise UserInputError(
            f"cannot write a {suffix or 'extensionless'} animation; use one of {', '.join(VIDEO_FORMATS)}", path
        )
    if fps <= 0:
        raise UserInputError(f"frames per second must be more than 0, got {fps:g}")
    end = max(busy_until(results), start_s) if end_s is None else end_s
    times = frame_times(start_s, end, step_s)
    if suffix == ".gif" and len(times) > GIF_MAX_FRAMES:
        raise UserInputError(
            f"a GIF of {len(times):,} frames is too large (at most {GIF_MAX_FRAMES}, each about 0.9 MB of memory "
            "while encoding); write an .mp4, or take fewer frames with --from, --to or a longer --step",
            path,
        )
    started = time.perf_counter()
    with rc_context(_RC):
        view = FloorView(results, floors=floors, size_in=FRAME_SIZE_IN, dpi=FRAME_DPI, span=(start_s, end))
        canvas = view.fig.canvas
        width, height = (int(v) for v in canvas.get_width_height())

        def frames():
            for k, t in enumerate(times):
                view.update(float(t))
                yield view.render()
                if progress is not None:
                    progress(k + 1, len(times))

        if suffix == ".mp4":
            atomic_write(path, lambda tmp: _write_mp4(tmp, frames(), (width, height), fps))
        else:
            atomic_write(path, lambda tmp: _write_gif(tmp, frames(), fps))
    return AnimationInfo(path, len(times), width, height, fps, time.perf_counter() - started)


# --- encoders ------------------------------------------------------------------------------------------------


def _write_mp4(tmp: Path, frames, size: tuple[int, int], fps: float) -> None:
    import imageio_ffmpeg

    # The temporary file has no .mp4 extension, so the container is named explicitly.
    writer = imageio_ffmpeg.write_frames(
        str(tmp),
        size,
        fps=fps,
        codec="libx264",
        quality=7,
        macro_block_size=16,
        ffmpeg_log_level="error",
        output_params=["-f", "mp4"],
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def _write_gif(tmp: Path, frames, fps: float) -> None:
    from PIL import Image

    palette = _gif_palette()
    images: list[Image.Image] = []
    for frame in frames:
        # One fixed palette for every frame: no flicker, and colours that match the PNGs.
        images.append(Image.fromarray(frame, "RGB").quantize(palette=palette, dither=Image.Dither.NONE))
    if not images:
        raise UserInputError("no frames to write")
    images[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(round(1000 / fps / 10) * 10, 20),  # GIF counts in hundredths of a second
        loop=0,
    )


def _gif_palette() -> Image.Image:
    """A 256-colour palette: the pictures' colours, their blends toward white and the walls, and greys for text."""
    from PIL import Image

    def rgb(hex_colour: str) -> np.ndarray:
        return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)

    base = [rgb(c) for c in STATE_COLOURS.values()]
    base += [rgb(c) for c in TILE_COLOURS.values()]
    base += [rgb(str(s["colour"])) for s in DOOR_STYLES.values()]
    base += [rgb(str(s[k])) for s in DOOR_STYLES.values() for k in ("face", "edge") if s.get(k)]
    white, wall, floor = rgb("#ffffff"), rgb(TILE_COLOURS["wall"]), rgb(TILE_COLOURS["floor"])
    colours = list(base)
    for c in base[: len(STATE_COLOURS)]:  # dots' antialiased edges on the floor and on white
        colours += [c + (floor - c) * w for w in (0.3, 0.6)] + [c + (white - c) * w for w in (0.5, 0.8)]
    colours += [wall + (floor - wall) * w for w in (0.25, 0.5, 0.75)]
    colours += [np.full(3, v) for v in np.linspace(0, 255, 32)]
    table = np.unique(np.clip(np.rint(colours), 0, 255).astype(np.uint8), axis=0)[:256]
    flat = np.zeros((256, 3), dtype=np.uint8)
    flat[: len(table)] = table
    flat[len(table) :] = table[-1]
    image = Image.new("P", (1, 1))
    image.putpalette(flat.reshape(-1).tolist())
    return image
