"""Pictures of a run: curves, floor snapshots, animations and the browser replay.

Names are imported on first use, so that `hyosan --help` does not pay for matplotlib and pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "STATES",
    "STATE_COLOURS",
    "FloorView",
    "doors_at",
    "draw_floors",
    "state_at",
    "write_animation",
    "write_curves",
    "write_replay",
    "write_snapshot",
]

_HOME = {
    "STATES": "curves",
    "STATE_COLOURS": "curves",
    "write_curves": "curves",
    "FloorView": "floors",
    "doors_at": "floors",
    "draw_floors": "floors",
    "state_at": "floors",
    "write_snapshot": "floors",
    "write_animation": "animate",
    "write_replay": "replay",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'hyosan.viz' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hyosan.viz.{_HOME[name]}"), name)
