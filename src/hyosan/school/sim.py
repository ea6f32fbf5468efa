"""SchoolSim: set up the agents of a scenario, run the compiled tick loop, and gather the results."""

from __future__ import annotations

import copy
import hashlib
import math
import pickle
import time as wallclock
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyosan import __version__
from hyosan.building.model import Building, DoorState, Tile
from hyosan.building.navigation import update_fields
from hyosan.building.senses import SoundParams, open_rectangles, sound_search
from hyosan.errors import UserInputError
from hyosan.people.roster import build_roster, seat_people
from hyosan.results import Results, atomic_write, world_json
from hyosan.rng import RandomStreams
from hyosan.scenario import Event, Scenario, load_scenario
from hyosan.school import kernel, noises
from hyosan.school.codes import EventKind, Intent, Param, State
from hyosan.units import format_duration
from hyosan.world import ROLES, build_building

if TYPE_CHECKING:
    from hyosan.building.navigation import DistanceField

__all__ = ["STATE_NAMES", "ProgressInfo", "SchoolSim"]

STATE_NAMES = [s.name.lower() for s in State]
_FLOOR_STATES = ("healthy", "bitten", "zombie", "hambie", "dead")
_EVENT_NAMES = {k.value: k.name.lower() for k in EventKind}
# The three outcomes of a vote on a hambie are one kind of event in the results, told apart by its note.
_VOTE_NOTES = {
    EventKind.HAMBIE_KEPT: "keep",
    EventKind.HAMBIE_RESTRAINED: "restrain",
    EventKind.HAMBIE_EXPELLED: "expel",
}
for _kind in _VOTE_NOTES:
    _EVENT_NAMES[_kind.value] = "hambie_vote"
_WORLD_KIND = {
    "patient_zero": EventKind.PATIENT_ZERO,
    "seal": EventKind.SEAL,
    "power_cut": EventKind.POWER_CUT,
    "power_on": EventKind.POWER_ON,
    "rescue": EventKind.RESCUE_ARRIVES,
    "announcement": EventKind.ANNOUNCEMENT,
    "phone_call": EventKind.PHONE_CALL,
    "open_exits": EventKind.OPEN_EXITS,
    "close_exits": EventKind.CLOSE_EXITS,
}
_N_SOUNDS = noises.N_SOUNDS
_UNREACHABLE_M = 1e9  # a goal field's distance from where the goal cannot be reached (finite, for the kernel)
_NOT_CARED_FOR = ("rival", "bully")  # ties nobody risks their life for (see `_care_weights`)
_NOISE_DEFAULT_S = {"announcement": 120.0, "phone_call": 30.0}
_RESCUE_DEFAULT_S = 600.0
_EVENT_BUFFER = 200_000
_TRAJECTORY_BUFFER = 1_000_000
_LOG_BUFFERS = ("tr_t", "tr_i", "ev_t", "ev_i")
# Words in a room's name that make it no place to hide: one cannot shut oneself in a corridor or a yard.
_NOT_REFUGES = ("corridor", "yard", "rooftop", "grounds", "field", "landing", "entrance hall")
_CHUNK_MIN_S = 5.0  # kernel calls last this long while things happen...
_CHUNK_MAX_S = 120.0  # ...and grow to this on quiet nights
_QUIET_MAX_S = 3600.0  # a call of the quiet kernel lasts at most this long (it stops itself when something stirs)
_CALL_MAX_S = 3600.0  # `kernel.advance_chunks` hands back to Python at least this often (the progress bar moves)
_STAIRS_COST_M = 7.0  # one flight of stairs, in metres of walking (as `Walker.stairs_cost_m`)
_FLEE_MEMORY_S = 30.0  # a person stays alert this long after seeing or hearing danger
_IDLE_AFTER_S = 60.0  # LORE: with nothing to see or hear, zombies stand still


def tie_csr(n: int, ties: pd.DataFrame | None) -> tuple[np.ndarray, ...]:
    """Ties between people as compressed rows both ways: (in_ptr, in_from, in_weight, out_ptr, out_to, out_weight).

    `ties` has columns person, other (ids), weight in [0, 1] (kind is not needed by the kernels); row v of
    the `in` arrays lists who is tied to v, row i of the `out` arrays whom i is tied to.
    """
    if ties is None or len(ties) == 0:
        src = np.zeros(0, dtype=np.int64)
        dst = np.zeros(0, dtype=np.int64)
        weight = np.zeros(0)
    else:
        src = ties["person"].to_numpy(dtype=np.int64)
        dst = ties["other"].to_numpy(dtype=np.int64)
        weight = ties["weight"].to_numpy(dtype=np.float64)
    out = []
    for key, value in ((dst, src), (src, dst)):
        order = np.argsort(key, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
        out += [ptr, value[order].copy(), weight[order].copy()]
    return tuple(out)


_GROUP_KINDS = ("friend", "best_friend", "crush", "sibling")


def form_groups(
    n: int,
    ties: pd.DataFrame | None,
    start_room: np.ndarray,
    leadership: np.ndarray,
    tie_threshold: float,
    max_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(group of each person or -1, leader of each group): circles of strong ties within one starting room.

    Two people are joined by a friend, best-friend, crush or sibling tie of weight >= `tie_threshold`
    (either way) when they start in the same room. A circle larger than `max_size` is cut in order of
    leadership. A victim never joins a circle that holds their bully; they stay on their own.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    group = np.full(n, -1, dtype=np.int64)
    if ties is None or len(ties) == 0:
        return group, np.zeros(0, dtype=np.int64)
    a = ties["person"].to_numpy(dtype=np.int64)
    b = ties["other"].to_numpy(dtype=np.int64)
    strong = ties["kind"].isin(_GROUP_KINDS).to_numpy() & (ties["weight"].to_numpy() >= tie_threshold)
    strong &= (start_room[a] == start_room[b]) & (start_room[a] >= 0)
    graph = coo_matrix((np.ones(int(strong.sum())), (a[strong], b[strong])), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="weak")
    bullied = ties["kind"].to_numpy() == "bully"
    victims_of = {}
    for bully, victim in zip(a[bullied], b[bullied], strict=True):
        victims_of.setdefault(int(victim), []).append(int(bully))
    leaders = []
    for members in _circles(label):
        members = members[np.argsort(-leadership[members], kind="stable")]
        keep = [m for m in members if not any(label[bully] == label[m] for bully in victims_of.get(int(m), ()))]
        for start in range(0, len(keep), max_size):
            chunk = keep[start : start + max_size]
            if len(chunk) >= 2:
                group[chunk] = len(leaders)
                leaders.append(chunk[0])
    return group, np.array(leaders, dtype=np.int64)


def _circles(label: np.ndarray) -> list[np.ndarray]:
    """Members of each component of two or more, by label; most people are on their own, and are skipped."""
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [order.size]])
    return [order[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b - a >= 2]


@dataclass(frozen=True)
class ProgressInfo:
    """What a progress bar shows while a run goes on."""

    time_s: float
    duration_s: float
    people: int  # healthy, bitten or hambie, still in the building
    zombies: int


class SchoolSim:
    """The agent-based school model: ``SchoolSim.from_scenario("hyosan-high", seed=1).run()``."""

    def __init__(self, scenario: Scenario, seed: int | None = None, debug: bool = False) -> None:
        """`debug` runs one tick per kernel call and checks the model's invariants after each."""
        self.scenario = scenario
        self.debug = debug
        self.skip_quiet = True  # quiet spells take the cheap kernel (identical results; False to compare)
        self.quiet_s = 0.0  # simulated seconds that took the cheap kernel
        self.seed = scenario.run.seed if seed is None else int(seed)
        if self.seed < 0:
            raise UserInputError(f"seed must be 0 or more, got {self.seed}")
        self.building: Building = build_building(scenario)
        self.streams = RandomStreams(self.seed)
        start = _start_of(scenario, self.building)
        self._setup_people(start)
        self._tie_csr = tie_csr(len(self.state), getattr(self, "ties", None))
        self._setup_world(start)
        self._setup_groups()
        self._setup_recording()

    @classmethod
    def from_scenario(
        cls, scenario: str | Scenario | None = None, seed: int | None = None, debug: bool = False
    ) -> SchoolSim:
        """Load a scenario (a built-in name, a TOML path, or a `Scenario`) and set up a run."""
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        return cls(scenario, seed, debug)

    # --- running -------------------------------------------------------------------------------------

    def run(
        self,
        until: float | None = None,
        progress: Callable[[ProgressInfo], None] | None = None,
        checkpoint_every: float | None = None,
        checkpoint_dir: str | Path | None = None,
        tables: str = "all",
    ) -> Results:
        """Simulate to the scenario's end (or `until` seconds), then return the results.

        ``tables="summary"`` builds only what the summary needs (summary, events, people, time series):
        the trajectories are left empty and the world drawing out, for sweeps that keep one row per run.

        With `checkpoint_every` (s) and `checkpoint_dir`, the whole state is saved (see `checkpoint`)
        at each multiple of `checkpoint_every` (the kernel pauses there; where it pauses never changes
        the run), so a run that saves checkpoints is identical to one that does not, and a run resumed
        from any checkpoint ends identical to the uninterrupted one.
        """
        started = wallclock.perf_counter()
        end = self.scenario.run.duration if until is None else min(float(until), self.scenario.run.duration)
        if tables not in ("all", "summary"):
            raise ValueError(f"tables must be 'all' or 'summary', got {tables!r}")
        if checkpoint_every is not None and (checkpoint_every <= 0 or checkpoint_dir is None):
            raise ValueError("checkpoint_every needs a positive interval and a checkpoint_dir")
        next_save = (math.floor(self.t / checkpoint_every) + 1) * checkpoint_every if checkpoint_every else math.inf
        while self.t < end - 1e-9:
            self._apply_due_events()
            next_event = self._events[self._next_event].at if self._next_event < len(self._events) else math.inf
            if self.params[Param.RESCUE_ROOM] >= 0:
                next_event = min(next_event, self._rescue_until)  # the rescue leaves on time, not at a pause
            # Calls end at checkpoint times too, so a checkpoint lands on its time (the run is the same
            # however it is cut into calls), and at least every `_CALL_MAX_S`, for the progress bar.
            limit = min(next_event, end, next_save)
            first = int(self._n_ev[0])
            one_tick = self.debug or limit <= self.t
            if one_tick:
                # One tick (in debug, with the model's invariants checked after it).
                snapshot = self._snapshot() if self.debug else None
                self.t, reason = self._advance(min(self.t + self.scenario.run.tick, end))
                if snapshot is not None:
                    self._check_invariants(snapshot, first)
                self._chunk = _CHUNK_MIN_S if int(self._n_ev[0]) > first else min(_CHUNK_MAX_S, self._chunk * 2)
            else:
                # Chunks of the kernel and quiet spells, in one call until Python must answer something.
                self.t, reason = self._advance_chunks(min(limit, self.t + _CALL_MAX_S))
            self._after_chunk(first, rang=not one_tick)
            if reason in (kernel.STOP_EVENTS_FULL, kernel.STOP_TRAJECTORY_FULL):
                self._drain()
            if self.t >= next_save - 1e-9 and checkpoint_dir is not None:
                self.checkpoint(Path(checkpoint_dir) / f"t{round(self.t):07d}.ckpt")
                next_save = (math.floor(self.t / checkpoint_every) + 1) * checkpoint_every
            if progress is not None:
                progress(self.progress_info(end))
            if reason == kernel.STOP_NOBODY_LEFT:
                self._stopped_early = "nobody left in the building"
                break
            if reason == kernel.STOP_DIED_OUT:
                self._stopped_early = "the outbreak died out"
                break
        self._apply_due_events()
        results = self._results(full=tables != "summary")
        results.run_info = {
            "wall_time_s": round(wallclock.perf_counter() - started, 3),
            "hyosan_version": __version__,
            "quiet_simulated_s": round(self.quiet_s, 1),
        }
        return results

    def checkpoint(self, path: str | Path) -> Path:
        """Save the whole state of the run (written atomically) so `SchoolSim.resume` can go on from here.

        A checkpoint is a Python pickle: open only files you made yourself.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"hyosan_version": __version__, "scenario_hash": self.scenario.content_hash(), "sim": self}
        atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)))
        return path

    @classmethod
    def resume(cls, path: str | Path) -> SchoolSim:
        """A run restored from a checkpoint written by `checkpoint` (same hyosan version)."""
        path = Path(path)
        try:
            payload = pickle.loads(path.read_bytes())
        except FileNotFoundError:
            raise UserInputError("no such checkpoint", path) from None
        except Exception as exc:  # a truncated or foreign file
            raise UserInputError(f"not a hyosan checkpoint ({type(exc).__name__})", path) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("sim"), SchoolSim):
            raise UserInputError("not a hyosan checkpoint", path)
        if payload["hyosan_version"] != __version__:
            raise UserInputError(
                f"checkpoint written by hyosan {payload['hyosan_version']}; this is {__version__}", path
            )
        return payload["sim"]

    def __getstate__(self) -> dict:
        # The kernel's log buffers are large and mostly unused: keep their sizes and the rows in use.
        # (Draining them instead would move the pauses a full buffer forces, and so the run itself.)
        state = self.__dict__.copy()
        state.pop("_noise_kept", None)  # caches: rebuilt by `_new_caches` on resume
        state.pop("_noise_place", None)
        state.pop("_noise_levels", None)
        state.pop("_search", None)
        state.pop("_door_tiles", None)
        state.pop("_sight_rects", None)
        state.pop("_walled_pairs", None)
        state.pop("_sight_memo", None)
        state.pop("_voices", None)
        state.pop("_sound_params", None)
        state.pop("occupancy", None)  # the tile index: empty between kernel calls, rebuilt on resume
        state.pop("tile_head", None)
        # Of the lure table only the sound rows change; the rows of the rooms (most of it) are rebuilt.
        state["lure"] = self.lure[:_N_SOUNDS].copy()
        used = {
            "tr_t": int(self._n_tr[0]),
            "tr_i": int(self._n_tr[0]),
            "ev_t": int(self._n_ev[0]),
            "ev_i": int(self._n_ev[0]),
        }
        for name in _LOG_BUFFERS:
            array = state.pop(name)
            state[f"_{name}_kept"] = (array.shape, array[: used[name]].copy())
        return state

    def __setstate__(self, state: dict) -> None:
        for name in _LOG_BUFFERS:
            shape, rows = state.pop(f"_{name}_kept")
            array = np.zeros(shape, dtype=rows.dtype)
            array[: len(rows)] = rows
            state[name] = array
        self.__dict__.update(state)
        n_tiles = self.building.tiles.size
        self.occupancy = np.zeros(n_tiles, dtype=np.int64)
        self.tile_head = np.full(n_tiles, -1, dtype=np.int64)
        if len(self.lure) < len(self.lure_room):  # only the sound rows were saved: the rooms' rows as at the start
            b, now = self.building, self.building.door_state
            b.door_state = self._doors_at_start
            try:
                rooms = _room_lures(b, self.lure_room[_N_SOUNDS:])
            finally:
                b.door_state = now
            self.lure = np.concatenate([self.lure, rooms])
        if len(self.params) < Param.N:  # a checkpoint from before freezing (nobody freezes) or the died-out stop
            old = len(self.params)
            self.params = np.concatenate([self.params, np.zeros(Param.N - old)])
            if old <= Param.SCREAM_GAP_S:  # ... or from before growing scream gaps: the rule it was written under
                self.params[Param.SCREAM_GAP_S] = 600.0
                self.params[Param.SCREAM_GAP_GROWTH] = 1.0
        if "screams_in_terror" not in state:
            self.screams_in_terror = np.zeros(len(self.state), dtype=np.int64)
        self._new_caches()
        if "zombie_filed" not in state:  # a checkpoint from before these work arrays
            self._new_work_arrays()
        if "sound_next" not in state:  # a checkpoint from before the kernel rang its own noises
            self._spreads_from_lists(state.get("_sound_spread"))  # (None: from before sounds joined a din)
            self.sound_next = np.array([state["_next_sound"]], dtype=np.int64)
            self.__dict__.pop("_sound_spread", None)
            self.__dict__.pop("_next_sound", None)
        if "sac_other" not in state:  # a checkpoint from before going back and luring
            self._setup_sacrifices()

    def progress_info(self, duration: float | None = None) -> ProgressInfo:
        s = self.state
        people = int(np.count_nonzero((s == State.HEALTHY) | (s == State.BITTEN) | (s == State.HAMBIE)))
        return ProgressInfo(
            self.t, duration or self.scenario.run.duration, people, int(np.count_nonzero(s == State.ZOMBIE))
        )

    # --- setup ---------------------------------------------------------------------------------------

    def _setup_people(self, start: _Start | None = None) -> None:
        sc = self.scenario
        start = start or _start_of(sc, self.building)
        # Named and generated people, their classes and ties: drawn from their own stream, so that
        # names and ties never reshuffle the positions and traits drawn below.
        self.roster = build_roster(sc, self.streams["roster"])
        self.roles = self.roster.role
        self.names = self._names()
        n = len(self.roles)
        if n == 0:
            raise sc.error("the scenario has no people: set people.students (or a roster)", "people")
        rng = self.streams["people"]
        p = sc.people
        self.state = np.zeros(n, dtype=np.uint8)
        self.intent = np.full(n, Intent.CALM, dtype=np.uint8)
        self.floor = np.zeros(n, dtype=np.int64)
        self.row = np.zeros(n, dtype=np.int64)
        self.col = np.zeros(n, dtype=np.int64)
        self.goal = np.zeros(n, dtype=np.int64)
        self.walk_speed = np.clip(rng.normal(p.walk_speed, 0.1 * p.walk_speed, n), 0.3 * p.walk_speed, 2 * p.walk_speed)
        self.sprint_speed = np.clip(
            rng.normal(p.sprint_speed, 0.12 * p.sprint_speed, n), self.walk_speed, 2 * p.sprint_speed
        )
        self.stamina_max = p.sprint_stamina * rng.uniform(0.6, 1.4, n)
        self.stamina = self.stamina_max.copy()
        role_strength = np.select([self.roles == "soldier", self.roles == "student"], [3.0, 1.0], 1.2)
        self.strength = rng.uniform(0.5, 1.5, n) * role_strength
        self.courage = rng.uniform(0.0, 1.0, n)  # 0.5 is average: blows land as often as strength says
        # A roster's traits replace the drawn ones (NaN: keep the draw).
        given = self.roster
        self.strength = np.where(np.isnan(given.strength), self.strength, given.strength)
        self.courage = np.where(np.isnan(given.courage), self.courage, given.courage)
        speed_factor = np.where(np.isnan(given.speed_factor), 1.0, given.speed_factor)
        self.walk_speed = self.walk_speed * speed_factor
        self.sprint_speed = self.sprint_speed * speed_factor
        self.budget = np.zeros(n)
        self.turn_at = np.full(n, np.inf)
        self.will_be_hambie = np.zeros(n, dtype=np.bool_)
        self.seen_at = np.full(n, -1e9)
        self.seen_y = np.zeros(n, dtype=np.int64)
        self.seen_x = np.zeros(n, dtype=np.int64)
        self.hidden_since = np.zeros(n)
        self.heading = rng.integers(0, 8, n).astype(np.int64)
        self.hunt = np.full(n, -1, dtype=np.int64)
        self.stress = np.zeros(n)  # 0 calm .. 1 terror
        self.hunger = np.zeros(n)  # hambies only: 0 fed .. 1 starving
        self.hambie_status = np.zeros(n, dtype=np.uint8)  # HambieStatus
        self.screamed_at = np.full(n, -1e9)
        self.screams_in_terror = np.zeros(n, dtype=np.int64)  # since their stress last sat at `scream_above` or below
        self.mind_state = np.zeros(n, dtype=np.uint8)  # states as the minds last saw them (for grief)
        self._place_people(rng, start)
        # Students start in their classroom, and people the roster places in a room start there.
        position = (self.floor, self.row, self.col)
        seat_people(given, self.building, position, self.max_per_tile, self.streams["seating"])
        self.start_room = self.building.room_of[self.floor, self.row, self.col].copy()
        self.ties = given.ties
        if not np.isnan(given.leadership).all():
            drawn = self.streams["leadership"].uniform(0.0, 1.0, n)
            self.leadership = np.where(np.isnan(given.leadership), drawn, given.leadership)

    def _setup_groups(self) -> None:
        """Groups from strong ties among people who start in the same room; the most able leads."""
        n = len(self.state)
        ties = getattr(self, "ties", None)
        rng = self.streams["groups"]
        leadership = getattr(self, "leadership", None)
        if leadership is None:
            leadership = rng.uniform(0.0, 1.0, n)
        self.group, self.group_leader = form_groups(
            n, ties, self.start_room, leadership, self.scenario.groups.tie_threshold, self.scenario.groups.max_size
        )
        self.is_bully = np.zeros(n, dtype=np.bool_)
        if ties is not None and len(ties):
            self.is_bully[ties.loc[ties["kind"] == "bully", "person"].to_numpy(dtype=np.int64)] = True
        self.waited = np.zeros(n)
        self.door_watch = np.zeros((3, *self.building.shape))
        self.door_watch[0:2] = -1e9
        self._new_caches()
        self._setup_sacrifices()

    def _new_caches(self) -> None:
        """What is derived from the building and rebuilt on resume, never saved in a checkpoint."""
        self._door_tiles = np.flatnonzero(self.building.tiles.ravel() == Tile.DOOR).astype(np.int64)
        self._sight_rects = open_rectangles(self.building)  # within one, everyone sees everyone: no trace needed
        self._walled_pairs = kernel.walled_table(self.building.shape)  # see `kernel._sees_across`
        # What each zombie last saw, and what would change it (see `kernel.advance`): forgotten whenever
        # Python calls the kernel.
        n = len(self.state)
        self._sight_memo = (
            np.full((n, 4), -1, dtype=np.int64),  # per zombie: tick, tile, door changes then, whom it saw
            np.full(n, -1, dtype=np.int64),  # per person: the tile filed at among the prey
            np.full(self.cell_prey.shape, -1, dtype=np.int64),  # per sensing cell: when its prey last changed
            # events read, door changes among them, Python's calls of the kernel, the call the memo is of,
            # and how many looks it spared
            np.array([0, 0, 0, -1, 0], dtype=np.int64),
        )
        self._voices = kernel.voice_tables(len(self.state))  # what rooms of talkers sound like (`_loudest_lure`)
        # A noise is followed down to the quietest level anyone reacts to (the search stops there).
        sc = self.scenario
        b = self.building
        self._sound_params = SoundParams(quietest_db=min(sc.zombie.hearing_threshold, sc.people.hearing_threshold))
        # What `noises.ring` keeps from noise to noise (spreads for reuse; where each sound row is heard).
        self._noise_kept = noises.new_kept(b.tiles.size, self._door_tiles.size)
        self._noise_place = (b.room_of.reshape(-1), b.shape[1], b.shape[2], noises.DIN_TILES)
        lasts = sc.groups.shout_every if sc.groups.shout_every > 0 else sc.groups.lure_time
        self._noise_levels = noises.noise_levels(float(sc.groups.shout_level), float(lasts))
        self._search = (b.door_state, sound_search(b, self._sound_params))

    def _setup_sacrifices(self) -> None:
        """Who is fetching or luring (see `kernel._people_act`), and whom each would risk their life for."""
        n = len(self.state)
        self.sac_other = np.full(n, -1, dtype=np.int64)
        self.sac_room = np.full(n, -1, dtype=np.int64)
        self.sac_since = np.full(n, -1.0)
        ties = getattr(self, "ties", None)
        if ties is None or len(ties) == 0:
            self.care_weight = np.zeros(0)
            return
        # Aligned with the `out` rows of `tie_csr` (ties sorted stably by person).
        weight = np.where(ties["kind"].isin(_NOT_CARED_FOR), 0.0, ties["weight"].to_numpy(dtype=np.float64))
        order = np.argsort(ties["person"].to_numpy(dtype=np.int64), kind="stable")
        self.care_weight = weight[order].copy()

    def _names(self) -> np.ndarray:
        """Everyone's name, from the roster (named people, then generated names: see `hyosan.people.roster`)."""
        return np.asarray(self.roster.name, dtype=object)

    def _place_people(self, rng: np.random.Generator, start: _Start | None = None) -> None:
        """Students in classrooms, teachers in the staff room and classrooms, others indoors."""
        b = self.building
        start = start or _start_of(self.scenario, b)
        pools, indoor, anywhere = start.pools, start.indoor, start.standable
        for role in ROLES:
            who = np.flatnonzero(self.roles == role)
            if who.size == 0:
                continue
            pool = pools[role] if pools[role].size else (indoor if indoor.size else anywhere)
            slots = np.repeat(pool, self.max_per_tile)
            if slots.size < who.size:
                slots = np.repeat(anywhere, self.max_per_tile)
            chosen = rng.choice(slots, size=who.size, replace=False)
            self.floor[who], self.row[who], self.col[who] = np.unravel_index(chosen, b.shape)

    @property
    def max_per_tile(self) -> int:
        return max(1, math.ceil(self.scenario.world.max_density * self.building.tile_m**2))

    def _setup_world(self, start: _Start | None = None) -> None:
        sc = self.scenario
        b = self.building
        start = start or _start_of(sc, b)
        self.t = 0.0
        self._stopped_early = ""  # why the run ended before the scenario's end, if it did
        self._rescue_until = -1.0
        self.params = self._params()
        self._doors_at_start = b.door_state.copy()
        self.door_hp = np.where(b.door_state == DoorState.BARRICADED, b.barricade_strength, sc.zombie.door_break_time)
        self.light = b.light()
        n_rooms = len(b.rooms)
        # Each run its own copies: the kernels and `_update_fields` may write into them.
        self.room_door_ptr = start.room_door_ptr.copy()
        self.room_doors = start.room_doors.copy()
        self.room_refuge = start.room_refuge.copy()
        self.stair_ptr, self.stair_to = start.stair_ptr.copy(), start.stair_to.copy()
        self._events = sorted(sc.events, key=lambda e: e.at)
        self._next_event = 0
        self._goal_room_field = dict(start.goal_room_field)
        self._fields = [fld.copy_for(b) for fld in start.fields]
        self.goal_fields = start.goal_fields.copy()
        refuges = start.refuges.copy()
        n_lures = _N_SOUNDS + refuges.size
        self.lure = _lure_table(start.room_lures, self)
        self.lure_until = np.full(n_lures, -1.0)
        self.lure_room = np.full(n_lures, -1, dtype=np.int64)
        self.lure_src = np.zeros(n_lures, dtype=np.int64)
        self.lure_alarm = np.zeros(n_lures, dtype=np.bool_)  # does it make people who hear it hide?
        self.room_lure = np.full(n_rooms, -1, dtype=np.int64)  # room -> its lure row, -1 if none
        self.room_lure[refuges] = _N_SOUNDS + np.arange(refuges.size)
        self.lure_room[_N_SOUNDS:] = refuges
        self.lure_until[_N_SOUNDS:] = np.inf
        self.lure_src[_N_SOUNDS:] = start.lure_src
        self.sound_next = np.zeros(1, dtype=np.int64)  # the sound slot the next noise takes
        # Per sound slot: its level, and the doors its spread depends on as they were (see `noises`).
        self._spreads_from_lists(None)
        self.room_zombies = np.zeros(n_rooms, dtype=np.int64)
        self.room_chatter = np.zeros(n_rooms, dtype=np.int64)
        self.occupancy = np.zeros(b.tiles.size, dtype=np.int64)
        self.tile_head = np.full(b.tiles.size, -1, dtype=np.int64)
        self.agent_next = np.full(len(self.state), -1, dtype=np.int64)
        cells = (b.n_floors, -(-b.shape[1] // kernel.CELL), -(-b.shape[2] // kernel.CELL))
        self.cell_zombies = np.full(cells, -1, dtype=np.int64)
        self.cell_prey = np.full(cells, -1, dtype=np.int64)
        self.cell_next = np.full(len(self.state), -1, dtype=np.int64)
        self.prey_on_floor = np.zeros(b.n_floors, dtype=np.int64)
        self.active_lures = np.zeros(n_lures, dtype=np.int64)
        self._new_work_arrays()
        self.rng = {
            name: kernel.seed_rng(self.streams.seed_for(name))
            for name in ("movement", "senses", "contact", "infection", "minds")
        }

    def _params(self) -> np.ndarray:
        sc = self.scenario
        td = sc.infection.turn_delay
        # Lognormal: the 90th percentile is median * exp(z90 * sigma), z90 = 1.2816.
        sigma = {"lognormal": math.log(td.p90 / td.median) / 1.2815515655446004, "fixed": 0.0, "exponential": -1.0}
        values = {
            Param.TICK_S: sc.run.tick,
            Param.TILE_M: self.building.tile_m,
            Param.STAIRS_COST_M: _STAIRS_COST_M,
            Param.PERSON_SIGHT_LIT: sc.people.sight_range_lit,
            Param.PERSON_SIGHT_DARK: sc.people.sight_range_dark,
            Param.ZOMBIE_SIGHT_LIT: sc.zombie.sight_range_lit,
            Param.ZOMBIE_SIGHT_DARK: sc.zombie.sight_range_dark,
            Param.ZOMBIE_WALK: sc.zombie.walk_speed,
            Param.ZOMBIE_SPRINT: sc.zombie.sprint_speed,
            Param.ZOMBIE_HEARING_DB: sc.zombie.hearing_threshold,
            Param.BITE_CHANCE_PER_S: sc.zombie.bite_chance,
            Param.STOP_CHANCE_PER_BLOW: sc.zombie.stop_chance_per_blow,
            Param.DOOR_BREAK_S: sc.zombie.door_break_time,
            Param.CLOSE_TIME_S: sc.doors.close_time,
            Param.OPEN_TIME_S: sc.doors.open_time,
            Param.BARRICADE_TIME_S: sc.doors.barricade_time,
            Param.BARRICADE_STRENGTH_S: sc.doors.barricade_strength,
            Param.HAMBIE_FRACTION: sc.infection.hambie_fraction,
            Param.TURN_MEDIAN_S: td.median,
            Param.TURN_SIGMA: sigma[td.distribution],
            Param.RECORD_EVERY_S: sc.run.record_every,
            Param.TRAJECTORY_EVERY_S: sc.run.trajectory_every,
            Param.EXITS_OPEN: 1.0,
            Param.MAX_PER_TILE: self.max_per_tile,
            Param.FLEE_MEMORY_S: _FLEE_MEMORY_S,
            Param.SCREAM_DB: noises.SCREAM_DB,
            Param.RESCUE_ROOM: -1.0,
            Param.CHATTER_DB: sc.people.chatter_level,
            Param.PERSON_HEARING_DB: sc.people.hearing_threshold,
            Param.IDLE_AFTER_S: _IDLE_AFTER_S,
            Param.STRESS_DANGER_PER_S: 1.0 / sc.stress.danger_fill,
            Param.STRESS_DARK_PER_S: 1.0 / sc.stress.dark_fill,
            Param.SIEGE_AFTER_S: sc.stress.siege_after,
            Param.STRESS_SIEGE_PER_S: 1.0 / sc.stress.siege_fill,
            Param.STRESS_RELIEF_PER_S: 1.0 / sc.stress.calm_down,
            Param.GRIEF: sc.stress.grief,
            Param.SCREAM_ABOVE: sc.stress.scream_above,
            Param.SCREAM_CHANCE_PER_S: sc.stress.scream_chance,
            Param.SCREAM_GAP_S: sc.stress.scream_gap,
            Param.SCREAM_GAP_GROWTH: sc.stress.scream_gap_growth,
            Param.PANIC_ABOVE: sc.stress.panic_above,
            Param.PANIC_CHANCE_PER_S: sc.stress.panic_chance,
            Param.FREEZE_ABOVE: sc.stress.freeze_above,
            Param.FREEZE_CHANCE_PER_S: sc.stress.freeze_chance,
            Param.THAW_PER_S: 1.0 / sc.stress.freeze_time,
            Param.HUNGER_PER_S: 1.0 / sc.hambies.hunger_fill,
            Param.BLOOD_HUNGER_PER_S: 1.0 / sc.hambies.blood_fill,
            Param.HAMBIE_BITE_CHANCE_PER_S: sc.hambies.bite_chance,
            Param.REVEAL_HUNGER: sc.hambies.reveal_hunger,
            Param.HAMBIE_STRENGTH_GAIN: sc.hambies.strength_gain,
            Param.HAMBIE_SPEED_GAIN: sc.hambies.speed_gain,
            Param.WAIT_S: sc.groups.wait,
            Param.FOLLOW_TILES: sc.groups.follow_range / self.building.tile_m,
            Param.SPLIT_ABOVE: sc.groups.split_above,
            Param.SPLIT_CHANCE_PER_S: sc.groups.split_chance,
            Param.BULLY_MARGIN: sc.groups.bully_margin,
            Param.HOLD_CHANCE_PER_S: sc.groups.hold_chance,
            Param.HOLD_STRENGTH: sc.groups.hold_strength,
            Param.GO_BACK_CHANCE_PER_S: sc.groups.go_back_chance,
            Param.GO_BACK_TIES: sc.groups.go_back_ties,
            Param.GO_BACK_S: sc.groups.go_back_time,
            Param.LURE_CHANCE_PER_S: sc.groups.lure_chance,
            Param.LURE_S: sc.groups.lure_time,
            Param.SHOUT_EVERY_S: sc.groups.shout_every,
        }
        params = np.zeros(Param.N)
        for slot, value in values.items():
            params[slot] = value
        return params

    def _setup_recording(self) -> None:
        sc = self.scenario
        n = len(self.state)
        n_records = int(sc.run.duration / sc.run.record_every) + 2
        self.counts = np.zeros((n_records, 1 + kernel.N_STATES * (1 + self.building.n_floors)))
        self._n_counts = np.zeros(1, dtype=np.int64)
        self._next_record = np.zeros(1)
        self._next_frame = np.zeros(1)
        self.last = np.full((n, 4), -1, dtype=np.int64)  # floor, row, col, state as last stored
        size = max(_TRAJECTORY_BUFFER, 4 * n)
        self.tr_t = np.zeros(size)
        self.tr_i = np.zeros((size, 5), dtype=np.int64)  # person, floor, row, col, state
        self._n_tr = np.zeros(1, dtype=np.int64)
        size = max(_EVENT_BUFFER, 8 * n + 64)
        self.ev_t = np.zeros(size)
        self.ev_i = np.zeros((size, len(kernel.EV_COLUMNS)), dtype=np.int64)
        self._n_ev = np.zeros(1, dtype=np.int64)
        self._ever_bitten = np.zeros(1, dtype=np.int64)
        self._chunks_ev: list[tuple[np.ndarray, np.ndarray]] = []
        self._chunks_tr: list[tuple[np.ndarray, np.ndarray]] = []
        self._world_log: list[tuple[float, int, str, str, int]] = []  # time, kind, room, note, person
        self._chunk = _CHUNK_MIN_S  # length of the next kernel call (s); kept so a resumed run pauses alike

    # --- one kernel call and what follows it ----------------------------------------------------------

    def _advance(self, t_stop: float) -> tuple[float, int]:
        """One call of the full kernel to `t_stop` (a tick at a time in debug mode; `bench_school` times it)."""
        self._sight_memo[3][2] += 1  # (what zombies saw may no longer hold: see `kernel.advance`)
        t, reason = kernel.advance(self.t, t_stop, self.params, self._world(), self._lures(), self._agents(),
                                   self._rngs(), self._rec(), self.ev_t, self.ev_i, self._n_ev, self._scratch(),
                                   self._minds(), self._social())  # fmt: skip
        return float(t), int(reason)

    def _advance_chunks(self, limit: float) -> tuple[float, int]:
        """`kernel.advance_chunks` toward `limit`: chunks of the kernel, and quiet spells where they can be taken."""
        self._sight_memo[3][2] += 1  # (what zombies saw may no longer hold: see `kernel.advance`)
        chunking = np.array([self._chunk, _CHUNK_MIN_S, _CHUNK_MAX_S, _QUIET_MAX_S, float(self.skip_quiet)])
        quiet_s = np.zeros(1)
        t, reason = kernel.advance_chunks(self.t, limit, chunking, quiet_s, self.params, self._world(), self._lures(),
                                          self._agents(), self._rngs(), self._rec(), self.ev_t, self.ev_i, self._n_ev,
                                          self._scratch(), self._minds(), self._social(), self._door_tiles,
                                          self._noises())  # fmt: skip
        self._chunk = float(chunking[0])
        self.quiet_s += float(quiet_s[0])
        return float(t), int(reason)

    # The kernels' arguments, grouped as `kernel.advance` documents them.
    def _world(self) -> tuple:
        b = self.building
        return (b.tiles, b.door_state, self.door_hp, b.room_of, self.light, self.room_door_ptr, self.room_doors,
                self.room_refuge, self.stair_ptr, self.stair_to, self.goal_fields, self._sight_rects,
                self._walled_pairs)  # fmt: skip

    def _agents(self) -> tuple:
        return (self.state, self.intent, self.floor, self.row, self.col, self.goal, self.walk_speed, self.sprint_speed,
                self.stamina, self.stamina_max, self.strength, self.courage, self.budget, self.turn_at, self.will_be_hambie,
                self.seen_at, self.seen_y, self.seen_x, self.hidden_since, self.heading, self.hunt)  # fmt: skip

    def _lures(self) -> tuple:
        return (self.lure, self.lure_until, self.lure_room, self.lure_src, self.lure_alarm, self.room_lure,
                self._voices)  # fmt: skip

    def _rngs(self) -> tuple:
        return (self.rng["movement"], self.rng["contact"], self.rng["infection"], self.rng["minds"])

    def _rec(self) -> tuple:
        return (self._next_record, self.counts, self._n_counts, self._next_frame, self.last, self.tr_t, self.tr_i,
                self._n_tr, self._ever_bitten)  # fmt: skip

    def _scratch(self) -> tuple:
        return (self.room_zombies, self.room_chatter, self.occupancy, self.tile_head, self.agent_next, self.cell_zombies,
                self.cell_prey, self.cell_next, self.prey_on_floor, self.active_lures, self.heard,
                self.lure_seen, self.zombie_filed, self.living_list, self.mover_list, self.alive_list, self.zombie_rows,
                self.prey_rows, *self._sight_memo)  # fmt: skip

    def _new_work_arrays(self) -> None:
        # What each zombie last heard, as (epoch, tile, lure), and the lures sounding when that epoch began
        # (see `kernel.advance`): a cache, invalid at the start of every kernel call.
        self.heard = np.full((len(self.state), 3), -1, dtype=np.int64)
        self.lure_seen = np.full(2 + 2 * self.lure.shape[0], -1, dtype=np.int64)
        # Work space of `kernel.advance`: the tile each zombie is filed at in the sensing cells (kept from
        # tick to tick), the living, zombies that act, all not yet gone (per tick).
        self.zombie_filed = np.full(len(self.state), -1, dtype=np.int64)
        self.living_list = np.zeros(len(self.state), dtype=np.int64)
        self.mover_list = np.zeros(len(self.state), dtype=np.int64)
        self.alive_list = np.zeros(len(self.state), dtype=np.int64)
        # Per row of sensing cells, a bit mask of the cells holding zombies, and prey (see `kernel._nearest_visible`).
        self.zombie_rows = np.zeros(self.cell_zombies.shape[:2], dtype=np.int64)
        self.prey_rows = np.zeros(self.cell_zombies.shape[:2], dtype=np.int64)

    def _minds(self) -> tuple:
        return (self.stress, self.hunger, self.hambie_status, self.screamed_at, self.mind_state, *self._tie_csr,
                self.screams_in_terror)  # fmt: skip

    def _social(self) -> tuple:
        return (self.group, self.group_leader, self.is_bully, self.waited, self.door_watch, self.sac_other,
                self.sac_room, self.sac_since, self.care_weight)  # fmt: skip

    def _clear_barricades(self, people: np.ndarray) -> None:
        """People called out (a rescue) pull down the barricades of the rooms they hid in, to get out."""
        b = self.building
        rooms = np.unique(b.room_of[self.floor[people], self.row[people], self.col[people]])
        cleared = []
        for room in rooms[rooms >= 0]:
            before = len(cleared)
            for d in self.room_doors[self.room_door_ptr[room] : self.room_door_ptr[room + 1]]:
                f, y, x = b.unflat(int(d))
                if b.door_state[f, y, x] == DoorState.BARRICADED:
                    b.door_state[f, y, x] = DoorState.CLOSED
                    self.door_hp[f, y, x] = self.scenario.zombie.door_break_time
                    cleared.append(int(d))
            if len(cleared) > before:
                self._log_world(EventKind.UNBARRICADE, b.rooms[room].name, "cleared to reach the rescue")
        if cleared:
            self._update_fields(np.array(cleared, dtype=np.int64))

    def _update_fields(self, tiles: np.ndarray) -> None:
        update_fields(self._fields, tiles)  # the doors' new costs are read once for all the fields
        for g, fld in enumerate(self._fields):
            fld.write_distances(self.goal_fields[g], unreachable=_UNREACHABLE_M)

    def _after_chunk(self, first: int, rang: bool) -> None:
        """Update the path fields for the barricades, breaches and slipped-out doors the kernel logged since
        event `first`; ring their noises first unless the kernel has (`rang`: `kernel.advance_chunks` does)."""
        last = int(self._n_ev[0])
        if last == first:
            return
        if not rang:
            noises.hear(self.ev_t, self.ev_i, first, last, self.t, *self._noises())
        rows = first + np.flatnonzero(noises.OPENS_WAYS[self.ev_i[first:last, 0]])
        if rows.size:
            # (A door slipped out by may have had its barricade pulled down: the event's place is that door.)
            f, y, x = self.ev_i[rows, 3], self.ev_i[rows, 4], self.ev_i[rows, 5]
            self._update_fields(np.ravel_multi_index((f, y, x), self.building.shape).astype(np.int64))

    def _add_sound(self, flat: int, level_db: float, until: float, alarm: bool) -> None:
        """A noise from Python (an announcement, a phone call): see `noises.ring`."""
        _, *rest = self._noises()
        noises.ring(int(flat), float(level_db), float(until), bool(alarm), float(self.t), *rest)

    def _noises(self) -> tuple:
        """The arguments of `noises.hear` after the events and the time: levels, slots, caches, place, search."""
        b = self.building
        if self._search[0] is not b.door_state:  # (the search reads the doors through a view of that array)
            self._search = (b.door_state, sound_search(b, self._sound_params))
        slots = (self.lure, self.lure_until, self.lure_src, self.lure_alarm, self.sound_next, self.spread_level,
                 self.spread_met_n, self.spread_met, self.spread_states)  # fmt: skip
        return self._noise_levels, slots, self._noise_kept, self._noise_place, self._search[1]

    def _spreads_from_lists(self, spreads: list[tuple[float, np.ndarray, np.ndarray]] | None) -> None:
        """Per sound slot its level and the doors its spread met, with their states then: from a checkpoint's
        lists of (level, doors, states) per slot (written before `noises`), or as never rung (None)."""
        n_doors = int(np.count_nonzero(self.building.tiles == Tile.DOOR))
        self.spread_level, self.spread_met_n, self.spread_met, self.spread_states = noises.new_spreads(n_doors)
        for slot, (level, met, states) in enumerate(spreads or []):
            self.spread_level[slot] = level
            self.spread_met_n[slot] = len(met)
            self.spread_met[slot, : len(met)] = met
            self.spread_states[slot, : len(met)] = states

    def _drain(self) -> None:
        """Move logged events and trajectory rows out of the kernel's buffers."""
        n = int(self._n_ev[0])
        if n:
            self._chunks_ev.append((self.ev_t[:n].copy(), self.ev_i[:n].copy()))
            self._n_ev[0] = 0
        n = int(self._n_tr[0])
        if n:
            self._chunks_tr.append((self.tr_t[:n].copy(), self.tr_i[:n].copy()))
            self._n_tr[0] = 0

    # --- world events ----------------------------------------------------------------------------------

    def _apply_due_events(self) -> None:
        while self._next_event < len(self._events) and self._events[self._next_event].at <= self.t + 1e-9:
            self._apply(self._events[self._next_event])
            self._next_event += 1
            if self._events[self._next_event - 1].kind == "patient_zero":
                self._set_died_out_stop()
        if self.params[Param.RESCUE_ROOM] >= 0 and self.t >= self._rescue_until - 1e-9:
            self.params[Param.RESCUE_ROOM] = -1.0
            self._log_world(EventKind.RESCUE_LEAVES, self.building.rooms[self._rescue_room].name)
            self.intent[self.intent == Intent.GOTO] = Intent.CALM

    def _set_died_out_stop(self) -> None:
        """Once patient zero has come and no other is to come, a school with nobody infectious left is done
        with (a stochastic epidemic ends when no one is infectious); one with no outbreak at all, a drill,
        runs on. Called when a patient zero comes, and when a fork changes the events still to come."""
        came = bool(np.isfinite(self.turn_at).any())  # set at a bite (patient zero's too), never cleared
        to_come = any(e.kind == "patient_zero" for e in self._events[self._next_event :])
        self.params[Param.STOP_WHEN_DIED_OUT] = float(came and not to_come)

    def _apply(self, event: Event) -> None:
        b = self.building
        kind = event.kind
        if kind == "patient_zero":
            self._patient_zero(event)
            return
        if kind in ("seal", "close_exits"):
            self.params[Param.EXITS_OPEN] = 0.0
        elif kind == "open_exits":
            self.params[Param.EXITS_OPEN] = 1.0
        elif kind in ("power_cut", "power_on"):
            b.room_light[:] = [r.light for r in b.rooms] if kind == "power_on" else False
            self.light[:] = b.light()
        elif kind == "rescue":
            self._rescue_room = b.room_index(event.room)
            self.params[Param.RESCUE_ROOM] = self._rescue_room
            self._rescue_until = event.at + (event.lasts or _RESCUE_DEFAULT_S)
            people = np.flatnonzero((self.state == State.HEALTHY) | (self.state == State.BITTEN))
            self.goal[people] = self._goal_room_field[self._rescue_room]
            self.intent[people] = Intent.GOTO
            self._clear_barricades(people)
        elif kind in ("announcement", "phone_call"):
            room = b.rooms[b.room_index(event.room)]
            flat = b.flat(room.floor, *room.anchor)
            self._add_sound(
                flat, float(event.loudness or 80.0), event.at + (event.lasts or _NOISE_DEFAULT_S[kind]), event.alarm
            )
        self._log_world(_WORLD_KIND[kind], event.room or "", event.note)

    def _patient_zero(self, event: Event) -> None:
        b = self.building
        room = b.room_index(event.room)
        rng = self.streams["patient-zero"]
        healthy = np.flatnonzero(self.state == State.HEALTHY)
        inside = healthy[self.start_room[healthy] == room]
        students = healthy[self.roles[healthy] == "student"]
        # LORE: patient zero is a student; if nobody starts in that room, a student had gone there.
        pool = inside if inside.size >= event.count else (students if students.size >= event.count else healthy)
        chosen = np.sort(rng.choice(pool, size=min(event.count, pool.size), replace=False))
        if inside.size < event.count:
            tiles = np.flatnonzero((b.room_of == room) & b.walkable)
            self.floor[chosen], self.row[chosen], self.col[chosen] = np.unravel_index(
                rng.choice(tiles, size=chosen.size), b.shape
            )
        self.state[chosen] = State.BITTEN
        self._ever_bitten[0] += chosen.size
        delay = event.turn_after if event.turn_after is not None else self.params[Param.TURN_MEDIAN_S]
        self.turn_at[chosen] = self.t + delay
        if event.taken_to is not None:
            self.goal[chosen] = self._goal_room_field[b.room_index(event.taken_to)]
            self.intent[chosen] = Intent.GOTO
        for i in chosen:
            self._log_world(EventKind.PATIENT_ZERO, event.room or "", event.note, who=int(i))

    def _log_world(self, kind: EventKind, room: str, note: str = "", who: int = -1) -> None:
        self._world_log.append((self.t, int(kind), room, note, who))

    # --- debug mode -------------------------------------------------------------------------------------

    def _snapshot(self) -> dict[str, np.ndarray]:
        return {"state": self.state.copy(), "doors": self.building.door_state.copy()}

    def _check_invariants(self, before: dict[str, np.ndarray], first_event: int) -> None:
        """The model's laws, checked after every tick in debug mode; AssertionError names the law broken."""
        b = self.building
        state, old = self.state, before["state"]
        assert state.shape == old.shape, "population is not conserved"
        legal = {
            State.HEALTHY: {State.HEALTHY, State.BITTEN, State.ESCAPED, State.RESCUED},
            # Within one tick a bitten person may turn and then be stopped: bitten -> zombie -> dead.
            State.BITTEN: {State.BITTEN, State.ZOMBIE, State.HAMBIE, State.DEAD, State.ESCAPED, State.RESCUED},
            State.ZOMBIE: {State.ZOMBIE, State.DEAD},
            State.HAMBIE: {State.HAMBIE, State.ESCAPED, State.RESCUED},
            State.DEAD: {State.DEAD},
            State.ESCAPED: {State.ESCAPED},
            State.RESCUED: {State.RESCUED},
        }
        for was, allowed in legal.items():
            bad = {int(v) for v in np.unique(state[old == was])} - {int(a) for a in allowed}
            assert not bad, f"illegal change from {was.name} to {[State(v).name for v in bad]} at t={self.t}"
        _, H, W = b.shape
        inside = (
            (self.floor >= 0)
            & (self.floor < b.n_floors)
            & (self.row >= 0)
            & (self.row < H)
            & (self.col >= 0)
            & (self.col < W)
        )
        assert inside.all(), "an agent is off the map"
        on_map = (state != State.ESCAPED) & (state != State.RESCUED)
        under = b.tiles[self.floor, self.row, self.col]
        assert not np.isin(under[on_map], (Tile.WALL, Tile.VOID, Tile.WINDOW)).any(), (
            f"an agent is inside a wall at t={self.t}"
        )
        # Nobody stands in a shut doorway, and a shut door opens only through a logged event. (The dead are
        # out of the tile index: a zombie struck down in a doorway lies there and does not keep it open.)
        in_doorway = on_map & (state != State.DEAD) & (under == Tile.DOOR)
        shut = ~np.isin(
            b.door_state[self.floor[in_doorway], self.row[in_doorway], self.col[in_doorway]],
            (DoorState.OPEN, DoorState.BROKEN),
        )
        assert not shut.any(), f"an agent stands in a shut doorway at t={self.t}"
        assert not self.occupancy.any() and (self.tile_head == -1).all(), (
            f"the kernel left the tile index of a mover, an exit or a death stale at t={self.t}"
        )
        opened = np.argwhere(
            (b.door_state != before["doors"]) & np.isin(b.door_state, (DoorState.OPEN, DoorState.BROKEN))
        )
        kinds = self.ev_i[first_event : int(self._n_ev[0]), 0]
        places = self.ev_i[first_event : int(self._n_ev[0]), 3:6]
        logged = {
            tuple(int(v) for v in p)
            for p, k in zip(places, kinds, strict=True)
            if k in (EventKind.DOOR_OPEN, EventKind.BREACH)
        }
        for f, y, x in opened:
            assert (int(f), int(y), int(x)) in logged, f"the door at {(f, y, x)} opened without an event at t={self.t}"

    # --- results -------------------------------------------------------------------------------------------

    def _results(self, full: bool = True) -> Results:
        self._drain()
        events = self._events_table()
        people = self._people_table(events)
        chunks_tr = self._chunks_tr if full else []
        tr_t = np.concatenate([c[0] for c in chunks_tr]) if chunks_tr else np.zeros(0)
        tr_i = np.concatenate([c[1] for c in chunks_tr]) if chunks_tr else np.zeros((0, 5), dtype=np.int64)
        trajectories = pd.DataFrame({
            "time_s": tr_t, "person": tr_i[:, 0].astype(np.int32), "floor": tr_i[:, 1].astype(np.int16),
            "row": tr_i[:, 2].astype(np.int16), "col": tr_i[:, 3].astype(np.int16),
            "state": pd.Categorical.from_codes(tr_i[:, 4].astype(np.int8), categories=STATE_NAMES),
        })  # fmt: skip
        world = world_json(self.building, self._doors_at_start) if full else {}
        relationships = self.ties[["person", "other", "kind", "weight"]].reset_index(drop=True)
        return Results(summary=self._summary(events, people), timeseries=self._timeseries(), events=events, people=people,
                       trajectories=trajectories, world=world, relationships=relationships)  # fmt: skip

    def _events_table(self) -> pd.DataFrame:
        b = self.building
        names = self.names
        ev_t = np.concatenate([c[0] for c in self._chunks_ev]) if self._chunks_ev else np.zeros(0)
        ev_i = np.concatenate([c[1] for c in self._chunks_ev]) if self._chunks_ev else np.zeros((0, 6), dtype=np.int64)
        columns = ["time_s", "kind", "person", "name", "other", "other_name", "floor", "row", "col", "room", "note"]
        rows = []
        for t, kind, where, note, who in self._world_log:
            room = b.rooms[b.room_index(where)] if where else None
            rows.append((float(t), _EVENT_NAMES[kind], who, names[who] if who >= 0 else "", -1, "",
                         b.floor_names[room.floor] if room else "", room.anchor[0] + 1 if room else 0,
                         room.anchor[1] + 1 if room else 0, where, note))  # fmt: skip
        if not ev_t.size:
            return pd.DataFrame(rows, columns=columns).sort_values("time_s", kind="stable").reset_index(drop=True)
        # Column by column: a run logs tens of thousands of events.
        kind, a, other, f, y, x = ev_i[:, :6].T
        room_names = np.array([r.name for r in b.rooms] + [""], dtype=object)  # room -1: ""
        people = np.array([*names, ""], dtype=object)  # person -1: ""
        kind_names = np.empty(kind.size, dtype=object)
        notes = np.empty(kind.size, dtype=object)
        for k in np.unique(kind).tolist():
            kind_names[kind == k] = _EVENT_NAMES[k]
            notes[kind == k] = _VOTE_NOTES.get(k, "")
        data = {
            "time_s": ev_t.astype(np.float64), "kind": kind_names, "person": a, "name": people[a],
            "other": other, "other_name": people[other], "floor": np.array(b.floor_names, dtype=object)[f],
            "row": y + 1, "col": x + 1, "room": room_names[b.room_of[f, y, x]], "note": notes,
        }  # fmt: skip
        if rows:
            # The world's events appended and everything sorted as arrays, before the one frame is made:
            # concatenating and sorting frames cost more than making them.
            world = list(zip(*rows, strict=True))
            for column, values in zip(columns, world, strict=True):
                kept = data[column]
                data[column] = np.concatenate([kept, np.array(values, dtype=kept.dtype)])
        order = np.argsort(data["time_s"], kind="stable")  # never NaN: as the frame's stable sort
        return pd.DataFrame({column: values[order] for column, values in data.items()})

    def _timeseries(self) -> pd.DataFrame:
        c = self.counts[: int(self._n_counts[0])]
        data: dict[str, object] = {"time_s": c[:, 0], "clock": self._clocks(c[:, 0])}
        for s, name in enumerate(STATE_NAMES):
            data[name] = c[:, 1 + s].astype(np.int64)
        for f, floor_name in enumerate(self.building.floor_names):
            for name in _FLOOR_STATES:
                data[f"{floor_name}_{name}"] = c[:, 1 + kernel.N_STATES * (1 + f) + STATE_NAMES.index(name)].astype(
                    np.int64
                )
        return pd.DataFrame(data)

    def _people_table(self, events: pd.DataFrame) -> pd.DataFrame:
        b = self.building
        n = len(self.state)
        fate_time = np.full(n, np.nan)
        fate_floor = np.array(b.floor_names, dtype=object)[self.floor]
        here = b.room_of[self.floor, self.row, self.col]
        fate_room = np.array([r.name for r in b.rooms] + [""], dtype=object)[here]  # room -1: ""
        # A fate's time and place: the person's last state-changing event (or the blow that stopped them).
        kind = events["kind"]
        changing = kind.isin(["patient_zero", "bite", "turn", "hambie", "escape", "rescue"]) & (events["person"] >= 0)
        for mask, column in ((changing, "person"), (kind == "kill", "other")):
            rows = np.flatnonzero(mask.to_numpy())
            if rows.size == 0:
                continue
            # Each one's last row, in the order of the log (as a group-by's tail would give them).
            keys = events[column].to_numpy(dtype=np.int64)[rows]
            _, from_end = np.unique(keys[::-1], return_index=True)
            last = np.sort(rows[rows.size - 1 - from_end])
            who = keys[np.searchsorted(rows, last)]
            fate_time[who] = events["time_s"].to_numpy()[last]
            fate_floor[who] = events["floor"].iloc[last].to_numpy()
            fate_room[who] = events["room"].iloc[last].to_numpy()
        fate_time[self.state == State.HEALTHY] = np.nan
        return pd.DataFrame({
            "id": np.arange(n), "name": self.names, "role": self.roles, "class": self.roster.class_name,
            "named": self.roster.named,
            "fate": self._fates(), "fate_time_s": fate_time,
            "fate_clock": self._clocks(fate_time),
            "fate_floor": fate_floor, "fate_room": fate_room,
        })  # fmt: skip

    def _fates(self) -> list[str]:
        """Each person's state at the end; who left the building after a bite left `escaped_bitten` or `rescued_bitten`.

        They are not survivors: they carry the infection out (LORE: that is how it reaches the city).
        """
        fates = [STATE_NAMES[s] for s in self.state]
        bitten = np.isfinite(self.turn_at)  # set at the bite, never cleared
        for i in np.flatnonzero(bitten & ((self.state == State.ESCAPED) | (self.state == State.RESCUED))):
            fates[i] += "_bitten"
        return fates

    def _summary(self, events: pd.DataFrame, people: pd.DataFrame) -> dict:
        sc = self.scenario
        n = len(self.state)
        # Plain arrays rather than filtered frames: only the times and a few names are wanted.
        times = events["time_s"].to_numpy()
        bites = times[events["kind"].isin(["bite", "patient_zero"]).to_numpy()]
        rescue = times[(events["kind"] == "rescue_arrives").to_numpy()]
        counts = {name: int(np.count_nonzero(self.state == s)) for s, name in enumerate(STATE_NAMES)}
        survived = people["fate"].isin(["healthy", "escaped", "rescued"]).to_numpy()
        named_survivors = people["name"].to_numpy()[survived & people["named"].to_numpy().astype(bool)]

        def at(times: np.ndarray, k: int) -> float | None:
            return float(times[k]) if -len(times) <= k < len(times) else None

        return {
            "scenario": sc.name,
            "scenario_hash": sc.content_hash(),
            "seed": self.seed,
            "hyosan_version": __version__,
            "people": n,
            "simulated_s": round(self.t, 6),
            "simulated": format_duration(self.t),
            "ended": self._stopped_early or "end of the scenario",
            "counts": counts,
            "ever_bitten": int(self._ever_bitten[0]),
            "left_bitten": int(people["fate"].isin(["escaped_bitten", "rescued_bitten"]).sum()),
            "first_bite_s": at(bites, 0),
            # The school falls when half of its people have been bitten.
            "school_fell_s": at(bites, (n + 1) // 2 - 1) if len(bites) >= (n + 1) // 2 else None,
            "last_survivor_s": at(bites, -1) if counts["healthy"] == 0 and len(bites) else None,
            "rescue_s": at(rescue, 0),
            "survivors": int(np.count_nonzero(survived)),
            "survivors_by_name": sorted(named_survivors.tolist()),
        }

    def _clocks(self, times: np.ndarray) -> list[str]:
        """Each time (s since the start) as the school's clock, "day D HH:MM:SS"; "" for NaN."""
        h, m = (int(v) for v in self.scenario.run.start_clock.split(":"))
        known = ~np.isnan(times)
        # np.rint rounds half to even, as Python's round does.
        seconds = np.rint(h * 3600 + m * 60 + np.where(known, times, 0.0)).astype(np.int64)
        day, rest = np.divmod(seconds, 86400)
        if day.size == 0:
            return []
        # Strings joined element by element from tables (object arrays add as Python strings do): a
        # format per row was the slowest part of the results of a long run.
        first = int(day.min())
        days = np.array([f"day {d + 1} " for d in range(first, int(day.max()) + 1)], dtype=object)
        clocks = days[day - first] + _time_of_day_strings()[rest]
        clocks[~known] = ""
        return clocks.tolist()


@dataclass(frozen=True)
class _Start:
    """What the set-up of a run derives from its scenario alone (the building as built, its events).

    The same for every seed, so a sweep's worker derives it once (see `_start_of`). Its arrays are
    read-only and its fields are templates: a run takes copies of what it may change.
    """

    pools: dict[str, np.ndarray]  # by role: the tiles people of that role start on (see `_place_people`)
    indoor: np.ndarray
    standable: np.ndarray  # every walkable tile but the exits
    room_door_ptr: np.ndarray
    room_doors: np.ndarray
    room_refuge: np.ndarray
    stair_ptr: np.ndarray
    stair_to: np.ndarray
    goal_room_field: dict[int, int]
    fields: list[DistanceField]  # solved on a copy of the building of their own
    goal_fields: np.ndarray
    refuges: np.ndarray
    room_lures: np.ndarray
    lure_src: np.ndarray


_STARTS: OrderedDict[str, _Start] = OrderedDict()
_STARTS_KEPT = 2  # the goal fields and lure rows of a school are a few tens of MB


def _start_of(scenario: Scenario, building: Building) -> _Start:
    """The seed-independent set-up of a run of `scenario`, whose building is `building` as just built."""
    key = scenario.content_hash()
    start = _STARTS.get(key)
    if start is None:
        start = _derive_start(scenario, copy.deepcopy(building))
        _STARTS[key] = start
        if len(_STARTS) > _STARTS_KEPT:
            _STARTS.popitem(last=False)
    return start


def _derive_start(scenario: Scenario, b: Building) -> _Start:
    from hyosan.building.navigation import PERSON, DistanceField

    walkable = b.walkable
    standable = walkable & (b.tiles != Tile.EXIT)
    room_names = [r.name.lower() for r in b.rooms]

    def tiles_of(pred: Callable[[str], bool]) -> np.ndarray:
        ids = [i for i, name in enumerate(room_names) if pred(name)]
        return np.flatnonzero(np.isin(b.room_of, ids) & standable) if ids else np.zeros(0, dtype=np.int64)

    # Students in classrooms, teachers in the staff room and classrooms, others indoors.
    indoor = tiles_of(lambda name: not any(w in name for w in ("yard", "rooftop", "grounds", "field")))
    pools = {
        "student": tiles_of(lambda name: name.startswith("classroom")),
        "teacher": tiles_of(lambda name: "staff" in name or name.startswith("classroom")),
        "staff": tiles_of(
            lambda name: any(w in name for w in ("office", "staff", "infirmary", "cafeteria", "kitchen"))
        ),
        "soldier": indoor,
    }
    per_room = _doors_of_rooms(b)
    room_door_ptr = np.concatenate([[0], np.cumsum([len(d) for d in per_room])]).astype(np.int64)
    room_doors = np.array([d for ds in per_room for d in ds], dtype=np.int64)
    # A refuge is a named room with a door to shut; corridors, halls and the open air are not.
    room_refuge = np.array(
        [
            r.label is not None and len(per_room[i]) > 0 and not any(w in r.name.lower() for w in _NOT_REFUGES)
            for i, r in enumerate(b.rooms)
        ],
        dtype=np.bool_,
    )
    stair_ptr, stair_to = _stair_adjacency(b)
    # Goal fields for people: 0 the refuge rooms, 1 the exits, then one per room an event names.
    goal_rooms: list[int] = []
    for e in sorted(scenario.events, key=lambda e: e.at):
        for name in (e.taken_to, e.room if e.kind == "rescue" else None):
            if name is not None and b.room_index(name) not in goal_rooms:
                goal_rooms.append(b.room_index(name))
    refuge_tiles = np.flatnonzero(np.isin(b.room_of, np.flatnonzero(room_refuge)) & walkable)
    sources = [refuge_tiles, b.exits] + [np.flatnonzero((b.room_of == r) & walkable) for r in goal_rooms]
    fields = [DistanceField(b, src, PERSON) for src in sources]
    goal_fields = np.stack([_finite(fld.distances) for fld in fields])
    # Lures: one row per refuge room (minus the zombie's walking distance to it), through which zombies
    # hear the people talking inside; each sounds from the room's first walkable tile.
    refuges = np.flatnonzero(room_refuge)
    lure_src = np.array([np.flatnonzero((b.room_of == r) & walkable)[0] for r in refuges], dtype=np.int64)
    start = _Start(
        pools=pools,
        indoor=indoor,
        standable=np.flatnonzero(standable),
        room_door_ptr=room_door_ptr,
        room_doors=room_doors,
        room_refuge=room_refuge,
        stair_ptr=stair_ptr,
        stair_to=stair_to,
        goal_room_field={r: 2 + k for k, r in enumerate(goal_rooms)},
        fields=fields,
        goal_fields=goal_fields,
        refuges=refuges,
        room_lures=_room_lures(b, refuges),
        lure_src=lure_src,
    )
    for array in (*pools.values(), indoor, start.standable, room_door_ptr, room_doors, room_refuge, stair_ptr,
                  stair_to, goal_fields, refuges, start.room_lures, lure_src):  # fmt: skip
        array.flags.writeable = False
    return start


_TIME_OF_DAY: list[np.ndarray] = []


def _time_of_day_strings() -> np.ndarray:
    """ "HH:MM:SS" of every second of a day, as an object array (made once per process)."""
    if not _TIME_OF_DAY:
        hours = np.array([f"{h:02d}:" for h in range(24)], dtype=object)
        minutes = np.array([f"{m:02d}:" for m in range(60)], dtype=object)
        seconds = np.array([f"{s:02d}" for s in range(60)], dtype=object)
        _TIME_OF_DAY.append((hours[:, None, None] + minutes[None, :, None] + seconds[None, None, :]).ravel())
    return _TIME_OF_DAY[0]


# The rooms' lure rows (a zombie's walking distance to each refuge) are the same for every seed of a
# scenario: a sweep's worker computes them once (about a fifth of a second for the default school).
_ROOM_LURES: dict[bytes, np.ndarray] = {}


def _lure_table(rows: np.ndarray, owner: SchoolSim) -> np.ndarray:
    """A run's lure table: `_N_SOUNDS` silent sound rows, then the rooms' `rows` (of `_room_lures`).

    Nothing writes the rooms' rows during a run, so the table of a run that has ended (its
    `SchoolSim` gone) is handed to the next run on the same rows with only its sound rows reset:
    a sweep's run then copies no rooms' rows (25 MB for the default school) into fresh memory.
    """
    kept = _LURE_TABLE.get("last")
    if kept is not None and kept[0] is rows and kept[2]() is None:
        table = kept[1]
    else:
        table = np.empty((_N_SOUNDS + len(rows), rows.shape[1]), dtype=np.float32)
        table[_N_SOUNDS:] = rows
    table[:_N_SOUNDS] = -1e9
    _LURE_TABLE["last"] = (rows, table, weakref.ref(owner))
    return table


_LURE_TABLE: dict[str, tuple[np.ndarray, np.ndarray, weakref.ref]] = {}


def _room_lures(b: Building, refuges: np.ndarray) -> np.ndarray:
    """Rows of minus the zombie walking distance to each room of `refuges`, as built at the start of a run."""
    from hyosan.building.navigation import ZOMBIE, distance_field

    digest = hashlib.blake2b(digest_size=20)
    for part in (b.tiles, b.door_state, b.barricade_strength, b.room_of, b.stairs, refuges):
        digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(str((part.dtype, part.shape)).encode())
    digest.update(repr((b.tile_m, ZOMBIE)).encode())
    key = digest.digest()
    rows = _ROOM_LURES.get(key)
    if rows is None:
        rows = np.empty((refuges.size, b.tiles.size), dtype=np.float32)
        for k, r in enumerate(refuges):
            tiles_r = np.flatnonzero((b.room_of == r) & b.walkable)
            rows[k] = -_finite(distance_field(b, tiles_r, ZOMBIE))
        if len(_ROOM_LURES) >= 2:  # a few tens of MB each
            _ROOM_LURES.clear()
        _ROOM_LURES[key] = rows
    return rows


def _finite(distances: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A distance field as flat float32 with unreachable tiles at a large finite distance (in `out` if given)."""
    if out is None:
        out = np.asarray(distances, dtype=np.float32).ravel().copy()
    else:
        np.copyto(out, distances.reshape(-1))
    out[~np.isfinite(out)] = _UNREACHABLE_M
    return out


def _doors_of_rooms(b: Building) -> list[list[int]]:
    """Flat indices of the door tiles that open onto each room."""
    _, H, W = b.shape
    per_room: list[list[int]] = [[] for _ in b.rooms]
    for f, y, x in np.argwhere(b.tiles == Tile.DOOR):
        touching = set()
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            yy, xx = y + dy, x + dx
            if 0 <= yy < H and 0 <= xx < W and b.room_of[f, yy, xx] >= 0:
                touching.add(int(b.room_of[f, yy, xx]))
        for r in touching:
            per_room[r].append(b.flat(int(f), int(y), int(x)))
    return per_room


def _stair_adjacency(b: Building) -> tuple[np.ndarray, np.ndarray]:
    """Stairs as a CSR adjacency over flat tiles, both directions: tile i links to stair_to[ptr[i]:ptr[i+1]]."""
    links = np.concatenate([b.stairs, b.stairs[:, ::-1]]) if b.stairs.size else np.zeros((0, 2), dtype=np.int64)
    links = links[np.lexsort((links[:, 1], links[:, 0]))]
    ptr = np.zeros(b.tiles.size + 1, dtype=np.int64)
    np.add.at(ptr, links[:, 0] + 1, 1)
    return np.cumsum(ptr), links[:, 1].astype(np.int64)
