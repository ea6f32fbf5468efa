"""Results of a school run: time series, events, fates and summary, saved atomically and loaded back."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hyosan.errors import UserInputError

__all__ = ["RESULT_FILES", "Results", "atomic_write", "load_results"]

RESULT_FILES = (
    "summary.json",
    "timeseries.parquet",
    "timeseries.csv",
    "events.jsonl",
    "people.csv",
    "trajectories.parquet",
)


@dataclass
class Results:
    """Everything a run produced. `save` writes the results folder; `load_results` reads it back."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    events: pd.DataFrame
    people: pd.DataFrame
    trajectories: pd.DataFrame
    run_info: dict[str, Any] = field(default_factory=dict)  # wall time etc.: kept out of summary.json

    def save(self, folder: str | Path) -> Path:
        """Write every results file into `folder`, each atomically (a crash leaves no half-written file)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "summary.json", lambda p: p.write_text(_json(self.summary)))
        atomic_write(folder / "timeseries.parquet", lambda p: self.timeseries.to_parquet(p, index=False))
        atomic_write(
            folder / "timeseries.csv",
            lambda p: self.timeseries.to_csv(p, index=False, float_format="%.6g"),
        )
        atomic_write(folder / "events.jsonl", lambda p: p.write_text(_jsonl(self.events)))
        atomic_write(folder / "people.csv", lambda p: self.people.to_csv(p, index=False, float_format="%.6g"))
        atomic_write(folder / "trajectories.parquet", lambda p: self.trajectories.to_parquet(p, index=False))
        if self.run_info:
            atomic_write(folder / "run-info.json", lambda p: p.write_text(_json(self.run_info)))
        return folder


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by `Results.save`."""
    folder = Path(folder)
    missing = [name for name in RESULT_FILES if not (folder / name).is_file()]
    if missing:
        raise UserInputError(f"not a complete hyosan results folder: missing {', '.join(missing)}", folder)
    events_text = (folder / "events.jsonl").read_text()
    events = pd.DataFrame([json.loads(line) for line in events_text.splitlines() if line.strip()])
    info_path = folder / "run-info.json"
    return Results(
        summary=json.loads((folder / "summary.json").read_text()),
        timeseries=pd.read_parquet(folder / "timeseries.parquet"),
        events=events,
        people=pd.read_csv(folder / "people.csv", keep_default_na=False),
        trajectories=pd.read_parquet(folder / "trajectories.parquet"),
        run_info=json.loads(info_path.read_text()) if info_path.is_file() else {},
    )


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _jsonl(events: pd.DataFrame) -> str:
    records = events.to_dict(orient="records")
    return "".join(json.dumps(_plain(r), ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and value.is_integer() and key != "time_s":
            value = int(value)
        out[key] = value
    return out
