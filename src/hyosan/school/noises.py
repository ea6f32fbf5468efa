"""The noises of a school run, compiled: a cry joins the din it is made in, or takes a sound slot whose spread is searched or reused.

The kernel rings the noises its events make (`hear`) without handing back to Python, which spared a
default run some 600 of its 776 round trips (their Python was a tenth of the run); world events ring theirs
through `ring`. Three groups of arrays, made by `SchoolSim`:

- `slots` (saved in checkpoints): the lure table (its first `N_SOUNDS` rows are the sound slots), each
  lure's end, source and alarm flag, the next slot to take, and per slot its level and the doors its
  spread met, with their states then (a din is joined only while they hold);
- `kept` (caches, rebuilt on resume): per slot the tiles its row holds levels at (so that the next
  noise there clears only those; -1: not known, clear the whole row), the last `FIELDS_KEPT` spreads
  by source tile and level (with the doors each met and their states: a noise made again where those
  doors stand as they did spreads the very same way), and a count of searches and reuses;
- `place`: the room of each tile, the grid's rows and columns, and how near a cry must be to a din to
  join it; `levels`: how loud each kind of noise is and how long it rings (`noise_levels`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hyosan.building.senses import search_into
from hyosan.school.codes import EventKind

__all__ = [
    "DIN_TILES",
    "FIELDS_KEPT",
    "MAKES_NOISE",
    "N_SOUNDS",
    "OPENS_WAYS",
    "hear",
    "new_kept",
    "new_spreads",
    "noise_levels",
    "ring",
    "spreads_counted",
]

N_SOUNDS = 16  # sounds that can ring at once; the oldest gives way
DIN_TILES = 4  # a cry this close to a sound as loud still ringing in the same room joins it (see `_din_at`)
FIELDS_KEPT = 32  # spreads kept for reuse (which are kept changes the time a run takes, never what it does)
SCREAM_DB = 85.0
SCREAM_S = 15.0
BARRICADE_DB = 70.0  # desks and chairs dragged against a door
BARRICADE_S = 20.0

_BITE, _SCREAM, _BARRICADE = (int(k) for k in (EventKind.BITE, EventKind.SCREAM, EventKind.BARRICADE))
_LURE, _SHOUT = (int(k) for k in (EventKind.LURE, EventKind.SHOUT))
# By event kind: the kinds that make a noise (`hear`), and those that open or shut a way, after which
# the people's path fields must be updated (a breach, a barricade, a door slipped out by and shut).
MAKES_NOISE = np.zeros(max(int(k) for k in EventKind) + 1, dtype=np.bool_)
MAKES_NOISE[[_BITE, _SCREAM, _BARRICADE, _LURE, _SHOUT]] = True
OPENS_WAYS = np.zeros_like(MAKES_NOISE)
OPENS_WAYS[[int(k) for k in (EventKind.BARRICADE, EventKind.BREACH, EventKind.LURE, EventKind.GO_BACK)]] = True


def noise_levels(shout_db: float, shout_s: float) -> np.ndarray:
    """`levels` for `hear`: (scream dB, s it rings, barricade dB, s, a lurer's shout dB, s)."""
    return np.array([SCREAM_DB, SCREAM_S, BARRICADE_DB, BARRICADE_S, shout_db, shout_s])


def new_spreads(n_doors: int) -> tuple[np.ndarray, ...]:
    """Per slot, never rung: its level (-inf), how many doors its spread met, which, and their states then."""
    width = max(n_doors, 1)
    return (
        np.full(N_SOUNDS, -np.inf),
        np.zeros(N_SOUNDS, dtype=np.int64),
        np.zeros((N_SOUNDS, width), dtype=np.int64),
        np.zeros((N_SOUNDS, width), dtype=np.uint8),
    )


def new_kept(n_tiles: int, n_doors: int) -> tuple[np.ndarray, ...]:
    """Empty caches for `ring` (see the module's docstring); the big arrays are touched only where used."""
    width = max(n_doors, 1)
    return (
        np.full(N_SOUNDS, -1, dtype=np.int64),  # tiles each slot's row holds levels at: how many (-1: not known)
        np.empty((N_SOUNDS, n_tiles), dtype=np.int32),  # ... and which
        np.full(FIELDS_KEPT, -1, dtype=np.int64),  # kept spreads: source tile (-1: none)
        np.zeros(FIELDS_KEPT),  # level
        np.full(FIELDS_KEPT, -1, dtype=np.int64),  # when last used (the least recent gives way)
        np.zeros(FIELDS_KEPT, dtype=np.int64),  # doors met: how many
        np.zeros((FIELDS_KEPT, width), dtype=np.int64),  # ... which
        np.zeros((FIELDS_KEPT, width), dtype=np.uint8),  # ... and their states
        np.zeros(FIELDS_KEPT, dtype=np.int64),  # tiles reached: how many
        np.empty((FIELDS_KEPT, n_tiles), dtype=np.int32),  # ... which
        np.empty((FIELDS_KEPT, n_tiles), dtype=np.float32),  # ... and the levels there
        np.zeros(3, dtype=np.int64),  # searches, reuses, and a clock for "last used"
        np.zeros(1, dtype=np.int64),  # the source of a search
    )


def spreads_counted(kept: tuple[np.ndarray, ...]) -> tuple[int, int]:
    """How many spreads `ring` has searched and how many it reused, with these caches."""
    counts = kept[11]
    return int(counts[0]), int(counts[1])


@nb.njit(cache=True)
def hear(ev_t, ev_i, first, last, now, levels, slots, kept, place, search) -> bool:
    """Ring the noises logged in events `first`..`last`: bites and screams, then barricades, then lurers'
    shouts, each kind in the order logged. True if any of the events opened or shut a way (`OPENS_WAYS`:
    the path fields must be updated)."""
    H = place[1]
    W = place[2]
    ways = False
    for k in range(first, last):
        ways |= OPENS_WAYS[ev_i[k, 0]]
    for kinds in range(3):
        for k in range(first, last):
            kind = ev_i[k, 0]
            flat = (ev_i[k, 3] * H + ev_i[k, 4]) * W + ev_i[k, 5]
            if kinds == 0 and (kind == _BITE or kind == _SCREAM):
                ring(flat, levels[0], ev_t[k] + levels[1], True, now, slots, kept, place, search)
            elif kinds == 1 and kind == _BARRICADE:
                ring(flat, levels[2], ev_t[k] + levels[3], False, now, slots, kept, place, search)
            elif kinds == 2 and (kind == _LURE or kind == _SHOUT):
                ring(flat, levels[4], ev_t[k] + levels[5], False, now, slots, kept, place, search)
    return ways


@nb.njit(cache=True)
def ring(flat, level_db, until, alarm, now, slots, kept, place, search) -> None:
    """A noise of `level_db` at tile `flat`, ringing until `until`, made at `now`: it joins a din (a
    sound at least as loud still ringing in the same room within `place[3]` tiles, whose doors stand as
    they did), or takes the next slot, its spread reused if kept, else searched."""
    (lure, lure_until, lure_src, lure_alarm, next_slot, spread_level, spread_met_n, spread_met, spread_states) = slots
    (reach_n, reach, kept_flat, kept_level, kept_used, kept_met_n, kept_met, kept_states, kept_n, kept_tiles,
     kept_levels, counts, source) = kept  # fmt: skip
    doors = search[12]
    din = _din_at(flat, level_db, now, lure_until, lure_src, spread_level, spread_met_n, spread_met, spread_states,
                  doors, place)  # fmt: skip
    if din >= 0:
        lure_until[din] = max(lure_until[din], until)
        lure_alarm[din] |= alarm
        return
    slot = next_slot[0]
    next_slot[0] = (slot + 1) % N_SOUNDS
    # The row falls silent where its last sound reached (a few thousand tiles of the default school's
    # 66,360), so that the new sound is written only where it reaches.
    row = lure[slot]
    if reach_n[slot] < 0:
        row[:] = -np.inf
    else:
        for k in range(reach_n[slot]):
            row[reach[slot, k]] = -np.inf
    counts[2] += 1
    e = -1
    for j in range(FIELDS_KEPT):
        if kept_flat[j] == flat and kept_level[j] == level_db:
            e = j
            break
    if e >= 0 and _doors_as_then(doors, kept_met[e], kept_states[e], kept_met_n[e]):
        counts[1] += 1
        for k in range(kept_n[e]):
            row[kept_tiles[e, k]] = kept_levels[e, k]
    else:
        counts[0] += 1
        source[0] = flat
        n_doors, n_reached = search_into(search, source, level_db, row, False)
        touched, doors_read = search[6], search[9]
        if e < 0:  # a new spread takes the place of the one used least recently (or an empty one)
            e = 0
            for j in range(1, FIELDS_KEPT):
                if kept_used[j] < kept_used[e]:
                    e = j
        kept_flat[e] = flat
        kept_level[e] = level_db
        kept_met_n[e] = n_doors
        for k in range(n_doors):
            kept_met[e, k] = doors_read[k]
            kept_states[e, k] = doors[doors_read[k]]
        kept_n[e] = n_reached
        for k in range(n_reached):
            kept_tiles[e, k] = touched[k]
            kept_levels[e, k] = row[touched[k]]
    kept_used[e] = counts[2]
    n = kept_n[e]
    reach_n[slot] = n
    reach[slot, :n] = kept_tiles[e, :n]
    spread_level[slot] = level_db
    spread_met_n[slot] = kept_met_n[e]
    spread_met[slot, : kept_met_n[e]] = kept_met[e, : kept_met_n[e]]
    spread_states[slot, : kept_met_n[e]] = kept_states[e, : kept_met_n[e]]
    lure_until[slot] = until
    lure_src[slot] = flat
    lure_alarm[slot] = alarm


# --- helpers -------------------------------------------------------------------------------------------------


@nb.njit(cache=True)
def _din_at(flat, level_db, now, lure_until, lure_src, spread_level, spread_met_n, spread_met, spread_states, doors,
            place) -> int:  # fmt: skip
    """The sound slot still ringing, at least `level_db` loud, within `place[3]` tiles of `flat` in its room; -1 if none.

    Only a sound whose spread still holds (the doors its search met unchanged) is joined.
    """
    room_of, H, W, din_tiles = place
    room = room_of[flat]
    if room < 0:
        return -1
    f = flat // (H * W)
    y = (flat // W) % H
    x = flat % W
    for s in range(N_SOUNDS):
        if not lure_until[s] >= now:
            continue
        src = lure_src[s]
        sf = src // (H * W)
        sy = (src // W) % H
        sx = src % W
        if sf != f or max(abs(sy - y), abs(sx - x)) > din_tiles or room_of[src] != room:
            continue
        if spread_level[s] >= level_db and _doors_as_then(doors, spread_met[s], spread_states[s], spread_met_n[s]):
            return s
    return -1


@nb.njit(cache=True, inline="always")
def _doors_as_then(doors, met, states, n) -> bool:
    for k in range(n):
        if doors[met[k]] != states[k]:
            return False
    return True
