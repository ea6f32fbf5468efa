"""The runs table of an ensemble: a folder that grows one atomic Parquet part at a time and survives being killed.

Layout of ``OUT/``::

    manifest.json   what the ensemble is (model, scenario hash, design, master seed); a re-run must match
    parts/          part-*.parquet: rows of finished runs, each file written atomically (temp file + rename)
    runs.parquet    the compacted table (all rows so far), rewritten when a pass ends
    .lock           held (flock) while a process writes, so two sweeps never write one folder

A run is one (combination, replicate) key. Reading takes the union of ``runs.parquet`` and the parts,
keeping one row per key, so a kill at any moment (even between compaction and clean-up) leaves a
consistent table: only whole parts exist, and duplicates of a key are identical rows.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hyosan.errors import UserInputError

__all__ = ["KEY", "MANIFEST", "RunTable", "comparable", "load_table", "open_table"]

KEY = ["combination", "replicate"]
MANIFEST = "manifest.json"
RUNS = "runs.parquet"
PARTS = "parts"
FORMAT = 1
WALL_COLUMNS = ("wall_s",)  # how long a run took: differs between machines, kept out of comparisons


class RunTable:
    """An open ensemble folder: read the finished keys, append parts, compact. Use `open_table`."""

    def __init__(self, folder: Path, manifest: dict[str, Any], lock: Any) -> None:
        self.folder = folder
        self.manifest = manifest
        self._lock = lock

    @property
    def parts(self) -> Path:
        return self.folder / PARTS

    def part_files(self) -> list[Path]:
        return sorted(p for p in self.parts.glob("part-*.parquet") if not p.name.startswith("."))

    def keys(self) -> set[tuple[int, int]]:
        """(combination, replicate) of every finished run."""
        import pandas as pd

        done: set[tuple[int, int]] = set()
        for path in self._files():
            frame = pd.read_parquet(path, columns=KEY)
            done.update(zip(frame["combination"].tolist(), frame["replicate"].tolist(), strict=True))
        return done

    def append(self, rows: list[dict[str, Any]]) -> Path | None:
        """Write finished runs as one new part, atomically; they are safe on disk when this returns."""
        if not rows:
            return None
        import pandas as pd

        from hyosan.results import atomic_write

        frame = pd.DataFrame(rows)
        path = self.parts / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        atomic_write(path, lambda tmp: _write_parquet(frame, tmp))
        return path

    def read(self) -> Any:
        """All finished runs, one row per key, sorted by key."""
        return _read(self._files())

    def compact(self) -> Any:
        """Fold the parts into ``runs.parquet`` (atomically), then delete them; return the whole table."""
        from hyosan.results import atomic_write

        parts = self.part_files()
        frame = _read([*([self.folder / RUNS] if (self.folder / RUNS).is_file() else []), *parts])
        if parts:
            atomic_write(self.folder / RUNS, lambda tmp: _write_parquet(frame, tmp))
            for part in parts:
                part.unlink(missing_ok=True)
        return frame

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def __enter__(self) -> RunTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _files(self) -> list[Path]:
        runs = self.folder / RUNS
        return [*([runs] if runs.is_file() else []), *self.part_files()]


def open_table(folder: str | Path, manifest: Mapping[str, Any]) -> RunTable:
    """Open (or create) an ensemble folder for writing; refuse one that holds a different ensemble."""
    import fcntl

    from hyosan.results import atomic_write

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"--out {folder}: exists and is not a folder")
    if folder.is_dir() and not (folder / MANIFEST).exists() and _holds_other_files(folder):
        raise UserInputError(
            f"--out {folder}: holds other files than an ensemble (no {MANIFEST}); choose another --out"
        )
    (folder / PARTS).mkdir(parents=True, exist_ok=True)
    lock = open(folder / ".lock", "a+")  # noqa: SIM115 (held open for the table's lifetime)
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise UserInputError(f"--out {folder}: another hyosan process is writing to this folder") from None
    try:
        wanted = {"format": FORMAT, **_plain(dict(manifest))}
        path = folder / MANIFEST
        if path.is_file():
            existing = json.loads(path.read_text(encoding="utf-8"))
            _check_same(folder, existing, wanted)
        else:
            atomic_write(path, lambda tmp: tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n"))
        # Temp files of parts a killed process was writing: never renamed, so never part of the table.
        for stale in (folder / PARTS).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        for stale in folder.glob(f".{RUNS}.*.tmp"):
            stale.unlink(missing_ok=True)
    except BaseException:
        lock.close()
        raise
    return RunTable(folder, wanted, lock)


def load_table(folder: str | Path) -> Any:
    """Read the runs table of an ensemble folder (runs finished so far, one row per key, sorted)."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise UserInputError(f"not a hyosan ensemble folder (no {MANIFEST})", folder)
    runs = folder / RUNS
    parts = sorted(p for p in (folder / PARTS).glob("part-*.parquet")) if (folder / PARTS).is_dir() else []
    return _read([*([runs] if runs.is_file() else []), *parts])


def comparable(table: Any) -> Any:
    """The table without wall times, sorted by key: equal for equal runs whatever the workers or the scheduler."""
    frame = table.drop(columns=[c for c in WALL_COLUMNS if c in table.columns])
    frame = frame.sort_values(KEY, kind="stable").reset_index(drop=True)
    return frame[sorted(frame.columns, key=lambda c: (c not in KEY, c))]


# --- helpers -----------------------------------------------------------------------------------


def _holds_other_files(folder: Path) -> bool:
    """Anything beyond what `open_table` makes before the manifest (a kill may have come just then)."""
    for entry in folder.iterdir():
        if entry.name == ".lock":
            continue
        if entry.name == PARTS and entry.is_dir() and not any(entry.iterdir()):
            continue
        return True
    return False


def _read(paths: Iterable[Path]) -> Any:
    import pandas as pd

    frames = [pd.read_parquet(p) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=KEY)
    frame = pd.concat(frames, ignore_index=True, sort=False)
    frame = frame.drop_duplicates(subset=KEY, keep="first")
    return frame.sort_values(KEY, kind="stable").reset_index(drop=True)


def _write_parquet(frame: Any, path: Path) -> None:
    frame.to_parquet(path, index=False)
    # The rename that publishes the file must not overtake its content on a crash of the machine.
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _plain(data: Any) -> Any:
    """Round-trip through JSON, so a fresh manifest compares equal to one read back from disk."""
    return json.loads(json.dumps(data, sort_keys=True, default=str))


def _check_same(folder: Path, existing: dict[str, Any], wanted: dict[str, Any]) -> None:
    differences = []
    for key in sorted(set(existing) | set(wanted)):
        there, now = existing.get(key), wanted.get(key)
        same_kind = (there or {}).get("kind") == (now or {}).get("kind") if key == "design" else False
        if key == "design" and same_kind and existing.get("combinations") != wanted.get("combinations"):
            continue  # the grid's own message says it better
        if there != now:
            if key == "combinations":
                differences.append(f"grid: {_grid(there)} there, {_grid(now)} now")
            else:
                differences.append(f"{key}: {_short(there)} there, {_short(now)} now")
    if differences:
        raise UserInputError(
            f"--out {folder}: holds runs of a different ensemble ({'; '.join(differences)}); "
            "re-run with the options it was made with to continue it, or choose another --out",
        )


def _grid(combinations: Any) -> str:
    """Each parameter with the values it takes, e.g. ``zombie.sprint_speed=4,6``."""
    if not isinstance(combinations, list) or not combinations:
        return "no parameters"
    values: dict[str, list[Any]] = {}
    for combination in combinations:
        for key, value in combination.items():
            if value not in values.setdefault(key, []):
                values[key].append(value)
    text = "; ".join(
        f"{k}={','.join(f'{v:g}' if isinstance(v, float) else str(v) for v in vs)}" for k, vs in values.items()
    )
    return _short(text).strip('"') if len(text) > 80 else (text or "no parameters")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
