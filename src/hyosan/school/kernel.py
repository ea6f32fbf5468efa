"""The compiled tick loop of the school model: progress, sense, decide, move, contact, record.

One call advances the whole school by many ticks; Python only orchestrates world events, sounds and
navigation fields between calls. Every agent is a row of the state arrays (structure of arrays);
nothing is allocated per tick: the tile index (who stands where) is rebuilt in place.

Zombies are drawn by *lures*, rows of one float32 array over all tiles where higher means closer to
the source: the first rows are sounds (level in dB, from `hyosan.building.senses.sound_levels`), the
others are rooms (minus the walking distance to the room, for the chatter of calm people in it).
A hunting zombie climbs its lure tile by tile, which leads it along corridors, up stairs and to the
doors it must break; a chasing zombie runs straight at the person it sees.

Speed: the compiled functions here run without Numba's reference counting (``_nrt=False``). None of
them allocates, and counting the array arguments of the per-agent helper calls cost over a third of
the loop (`perf`: ``NRT_incref``/``NRT_decref``); `_quiet_ticks`, which allocates, keeps it.

Randomness: each subsystem (movement, contact, infection) has its own xoshiro256** state
(4 x uint64) seeded from the run's named streams, so the kernel is deterministic for a given seed,
independent of other simulations in the same process, and checkpointable (the states are arrays).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from hyosan.building.senses import LINE_CLEAR, LINE_WALLED, _kept_db20, _trace
from hyosan.libm import log10
from hyosan.school import noises
from hyosan.school.codes import EventKind, HambieStatus, Intent, Param, State

__all__ = [
    "N_STATES",
    "STOP_DIED_OUT",
    "STOP_EVENTS_FULL",
    "STOP_NOBODY_LEFT",
    "STOP_NOT_QUIET",
    "STOP_TIME",
    "STOP_TRAJECTORY_FULL",
    "STOP_WORLD_CHANGED",
    "advance",
    "advance_chunks",
    "advance_quiet",
    "quiet_now",
    "quiet_sight_and_sound",
    "seed_rng",
    "voice_tables",
    "walled_table",
]

# Plain ints for Numba (IntEnum members would be globals it has to box).
HEALTHY, BITTEN, ZOMBIE, HAMBIE, DEAD, ESCAPED, RESCUED = (int(s) for s in State)
CALM, FLEE, HIDE, GOTO, CHASE, HUNT, WANDER, IDLE, HOLD, FETCH, LURE, FREEZE = (int(i) for i in Intent)
EV_BITE, EV_TURN, EV_HAMBIE, EV_KILL = (
    int(k) for k in (EventKind.BITE, EventKind.TURN, EventKind.HAMBIE, EventKind.KILL)
)
EV_OPEN, EV_CLOSE, EV_BARRICADE, EV_BREACH = (
    int(k) for k in (EventKind.DOOR_OPEN, EventKind.DOOR_CLOSE, EventKind.BARRICADE, EventKind.BREACH)
)
EV_ESCAPE, EV_RESCUE = int(EventKind.ESCAPE), int(EventKind.RESCUE)
EV_SCREAM, EV_PANIC, EV_GRIEF, EV_FOUND = (
    int(k) for k in (EventKind.SCREAM, EventKind.PANIC, EventKind.GRIEF, EventKind.HAMBIE_FOUND)
)
EV_KEPT, EV_RESTRAINED, EV_EXPELLED = (
    int(k) for k in (EventKind.HAMBIE_KEPT, EventKind.HAMBIE_RESTRAINED, EventKind.HAMBIE_EXPELLED)
)
SECRET, KEPT, RESTRAINED, EXPELLED = (int(h) for h in HambieStatus)
EV_HOLD, EV_ABANDON, EV_WAIT = int(EventKind.HOLD_DOOR), int(EventKind.ABANDON), int(EventKind.WAIT)
EV_GO_BACK, EV_SAVED, EV_LURE, EV_SHOUT = (
    int(k) for k in (EventKind.GO_BACK, EventKind.SAVED, EventKind.LURE, EventKind.SHOUT)
)
EV_FREEZE = int(EventKind.FREEZE)
_DANGER_TILES = 8  # a prowling zombie this close to someone puts them in danger (for going back)
_PEEK_TILES = 3  # nobody slips out of a refuge with a zombie this close to the door
_HEAR_ZOMBIE_TILES = 5  # a prowling zombie this close is heard through walls (CELL = 8 covers it)
_HOLD_MEMORY_S = 30.0  # a holder lets go once nobody has pushed the door for this long
MIND_EVERY = 4  # ticks between updates of stress and hunger: both change over tens of seconds
_GRIEF_SIGHT_TILES = 10  # a bite is grieved at once only by those near enough to see it; a turn by all
T_VOID, T_WALL, T_FLOOR, T_DOOR, T_WINDOW, T_STAIRS, T_EXIT = 0, 1, 2, 3, 4, 5, 6
D_OPEN, D_CLOSED, D_LOCKED, D_BARRICADED, D_BROKEN = 0, 1, 2, 3, 4
N_STATES = 7
EV_COLUMNS = ("kind", "a", "b", "f", "y", "x")  # int columns of the event buffer, beside its times

# Why the kernel stopped.
STOP_TIME, STOP_EVENTS_FULL, STOP_TRAJECTORY_FULL, STOP_NOBODY_LEFT, STOP_NOT_QUIET, STOP_WORLD_CHANGED, STOP_DIED_OUT = (
    range(7)
)

_DY = np.array([-1, 1, 0, 0, -1, -1, 1, 1], dtype=np.int64)
_DX = np.array([0, 0, -1, 1, -1, 1, -1, 1], dtype=np.int64)
_SQRT2 = math.sqrt(2.0)
CELL = 8  # side of a sensing cell in tiles: who is near whom is looked up cell by cell
_WALLED_BITS = 16
WALLED_PAIRS = 1 << _WALLED_BITS  # buckets of two in the table of tile pairs a wall parts for good (`_sees_across`)
GAVE_UP = -2  # `hunt` of a zombie that could not reach whom it saw; it ignores sight for a while
_GIVE_UP_S = 20.0


def seed_rng(seed: int) -> np.ndarray:
    """A xoshiro256** state from a 63-bit seed (SplitMix64 expansion, as its authors recommend)."""
    state = np.empty(4, dtype=np.uint64)
    z = seed & 0xFFFFFFFFFFFFFFFF
    for i in range(4):
        z = (z + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        state[i] = x ^ (x >> 31)
    return state


@nb.njit(cache=True, _nrt=False)
def advance(t_now, t_stop, params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
    """Advance the school from `t_now` toward `t_stop`; returns (time reached, why it stopped).

    Arguments are tuples of arrays (see `SchoolSim._advance` for their order): `world` the building
    and its fields, `lures` what draws zombies, `agents` the state arrays, `rngs` the random streams,
    `rec` the recording buffers, `ev_t`/`ev_i` the event log, `scratch` preallocated work arrays,
    `minds` stress, hunger, what is known of hambies, and the ties between people (see `_minds_act`),
    `social` groups and who holds which door (see `_people_act`).
    """
    t, reason = _advance(
        t_now, t_stop, params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social
    )
    _, H, W = world[0].shape
    _empty_tile_index(agents[0], agents[2], agents[3], agents[4], H, W, scratch[2], scratch[3])
    return t, reason


@nb.njit(cache=True, _nrt=False)
def _advance(t_now, t_stop, params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
    (
        tiles,
        doors,
        door_hp,
        room_of,
        light,
        room_door_ptr,
        room_doors,
        room_refuge,
        stair_ptr,
        stair_to,
        goal_fields,
        sight_rects,
        walled_pairs,
    ) = world
    (state, intent, floor, row, col, goal, walk_speed, sprint_speed, stamina, stamina_max, strength, courage, budget,
     turn_at, will_be_hambie, seen_at, seen_y, seen_x, hidden_since, heading, hunt) = agents  # fmt: skip
    (lure, lure_until, lure_room, lure_src, lure_alarm, room_lure, voices) = lures
    (rng_move, rng_contact, rng_infect, rng_minds) = rngs
    stress = minds[0]
    hambie_status = minds[2]
    door_watch = social[4]
    tr_t, n_tr, ever_bitten = rec[5], rec[7], rec[8]
    (room_zombies, room_chatter, occupancy, tile_head, agent_next, cell_zombies, cell_prey, cell_next, prey_on_floor,
     active, heard, lure_seen, zombie_filed, living, movers, alive, zombie_rows, prey_rows, looked, prey_filed,
     prey_changed, sight_clock) = scratch  # fmt: skip
    n_lures = lure.shape[0]
    lure_seen[0] += 1  # Python may have rung new sounds since the last call: nothing heard before holds
    lure_seen[1] = -1
    n = state.shape[0]
    _, H, W = tiles.shape
    dt = params[Param.TICK_S]
    t = t_now
    # The tile index is built once per call and then kept current by every move, exit and death:
    # clearing it every tick would cost more than everything else on a quiet night (and clearing the
    # whole building at each call more than a short call: `advance` empties it by agents on return).
    _index_tiles(state, floor, row, col, H, W, occupancy, tile_head, agent_next)
    # Everyone not yet dead, escaped or rescued: no step of the kernel undoes those, so once in them an
    # agent is dropped for the rest of the call (the list is rebuilt here since Python may change states).
    n_alive = 0
    for i in range(n):
        s = state[i]
        alive[n_alive] = i
        n_alive += (s != DEAD) & (s != ESCAPED) & (s != RESCUED)
    # Zombies stay filed in their sensing cells and counted in their rooms from tick to tick
    # (`zombie_filed`: the tile each is filed at, -1 if none): most of them stand still, and refiling
    # hundreds of idle zombies every tick cost more than all they do. Filed afresh at each call.
    cell_zombies[:] = -1
    zombie_rows[:] = 0
    room_zombies[:] = 0
    zombie_filed[:] = -1
    # What zombies saw stands while nothing they could see has changed (`_zombies_act`): which prey are
    # in each sensing cell and where (`prey_changed`: the tick that last changed, `prey_filed`: the tile
    # each was filed at), and the doors (`sight_clock`: [0] events read, [1] door changes among them).
    # Python may have changed anything since it last called the kernel (it counts its calls in
    # `sight_clock[2]`): then nothing seen before holds. Between the calls of one `advance_chunks` only
    # quiet spells pass, in which nobody moves and no door changes.
    if sight_clock[3] != sight_clock[2]:
        sight_clock[3] = sight_clock[2]
        looked[:, 0] = -1
        prey_filed[:] = -1
        sight_clock[0] = n_ev[0]
        sight_clock[1] = 0
    else:  # (those who left at the last tick of the last call are not among the living walked below)
        first_tick = int(t_now / dt + 0.5) + 1
        for i in range(n):
            if prey_filed[i] >= 0 and state[i] != HEALTHY:
                _prey_moved(prey_filed[i], first_tick, prey_changed, H, W)
                prey_filed[i] = -1
    room_flat = room_of.reshape(room_of.size)
    while t < t_stop - 1e-9:
        # Leave room in the buffers for one tick of events and one frame of trajectories.
        if n_ev[0] > ev_t.shape[0] - 4 * n - 16:
            return t, STOP_EVENTS_FULL
        if n_tr[0] > tr_t.shape[0] - n:
            return t, STOP_TRAJECTORY_FULL
        t += dt
        tick = int(t / dt + 0.5)
        ev_mark = n_ev[0]

        # --- progress: the bitten turn when their time comes; then who is where, in one pass ----------
        # In index order: the zombies and the living (nobody turns or is bitten again before the contact
        # phase, so the lists hold through it: the phases below walk them instead of all agents); the
        # zombies that move or fight this tick (`movers`: an idle zombie does nothing but look every
        # sixth tick, see `_zombies_act`, and hunts nothing); zombies and prey per sensing cell; zombies
        # and talkers per room.
        cell_prey[:] = -1
        prey_rows[:] = 0
        prey_on_floor[:] = 0
        room_chatter[:] = 0
        n_zombies = 0
        n_living = 0
        n_movers = 0
        n_infected = 0
        kept = 0
        for k in range(n_alive):
            i = alive[k]
            s = state[i]
            if s == BITTEN and turn_at[i] <= t:
                if will_be_hambie[i]:
                    state[i] = HAMBIE
                    _log(ev_t, ev_i, n_ev, t, EV_HAMBIE, i, -1, floor[i], row[i], col[i])
                else:
                    state[i] = ZOMBIE
                    intent[i] = WANDER
                    seen_at[i] = t  # a new zombie prowls a while before it goes idle
                    budget[i] = 0.0
                    _log(ev_t, ev_i, n_ev, t, EV_TURN, i, -1, floor[i], row[i], col[i])
                s = state[i]
            if s != ZOMBIE and zombie_filed[i] >= 0:  # killed (or no longer a zombie): out of its cell and room
                _unfile_zombie(i, zombie_filed[i], H, W, room_flat, room_zombies, cell_zombies, zombie_rows, cell_next)
                zombie_filed[i] = -1
            if s != HEALTHY and prey_filed[i] >= 0:  # bitten, gone: no longer prey where it was
                _prey_moved(prey_filed[i], tick, prey_changed, H, W)
                prey_filed[i] = -1
            if s == DEAD or s == ESCAPED or s == RESCUED:
                continue
            alive[kept] = i
            kept += 1
            if s == ZOMBIE:
                n_zombies += 1
                here = (floor[i] * H + row[i]) * W + col[i]
                if zombie_filed[i] != here:  # it moved, or turned: refiled where it stands now
                    if zombie_filed[i] >= 0:
                        _unfile_zombie(i, zombie_filed[i], H, W, room_flat, room_zombies, cell_zombies, zombie_rows,
                                       cell_next)  # fmt: skip
                    _file_zombie(i, here, H, W, room_flat, room_zombies, cell_zombies, zombie_rows, cell_next)
                    zombie_filed[i] = here
                if intent[i] != IDLE or hunt[i] != -1 or (i + tick) % 6 == 0:
                    movers[n_movers] = i
                    n_movers += 1
            else:  # healthy, bitten or hambie
                living[n_living] = i
                n_living += 1
                n_infected += s != HEALTHY
                if s == HEALTHY:
                    prey_on_floor[floor[i]] += 1
                    _file_in_cell(i, floor[i], row[i] // CELL, col[i] // CELL, cell_prey, prey_rows, cell_next)
                    here = (floor[i] * H + row[i]) * W + col[i]
                    if prey_filed[i] != here:  # moved (or newly filed): both cells changed
                        if prey_filed[i] >= 0:
                            _prey_moved(prey_filed[i], tick, prey_changed, H, W)
                        _prey_moved(here, tick, prey_changed, H, W)
                        prey_filed[i] = here
                if intent[i] == CALM and s == HEALTHY:  # the bitten keep quiet (see `_quiet_sight_and_sound`)
                    r = room_of[floor[i], row[i], col[i]]
                    if r >= 0:
                        room_chatter[r] += 1
        n_alive = kept
        if n_living == 0:
            return t, STOP_NOBODY_LEFT
        if n_zombies + n_infected == 0 and params[Param.STOP_WHEN_DIED_OUT] > 0.5:
            return t, STOP_DIED_OUT  # nobody can be bitten any more: the outbreak's outcome is settled
        n_active = 0
        alarm_span = 0  # the sounding lures up to the last alarm among them: all people listen for (see `_people_act`)
        for k in range(lure.shape[0]):
            if (lure_room[k] < 0 and lure_until[k] >= t) or (lure_room[k] >= 0 and room_chatter[lure_room[k]] > 0):
                active[n_active] = k
                n_active += 1
                if lure_alarm[k]:
                    alarm_span = n_active
        # What a zombie hears changes only when the sounding lures or the talkers in them change; while
        # they do not, a zombie that has not moved hears what it heard before (`heard`, per zombie).
        same = n_active == lure_seen[1]
        if same:
            for a in range(n_active):
                s = active[a]
                if lure_seen[2 + a] != s or (
                    lure_room[s] >= 0 and lure_seen[2 + n_lures + a] != room_chatter[lure_room[s]]
                ):
                    same = False
                    break
        if not same:
            lure_seen[0] += 1
            lure_seen[1] = n_active
            for a in range(n_active):
                s = active[a]
                lure_seen[2 + a] = s
                lure_seen[2 + n_lures + a] = room_chatter[lure_room[s]] if lure_room[s] >= 0 else 0

        # --- sense, decide, move: zombies first, then people ------------------------------------------
        _zombies_act(t, tick, params, tiles, doors, door_hp, room_of, light, sight_rects, walled_pairs, prey_rows, stair_ptr, stair_to, lure, lure_room, room_lure, active,
                     n_active, room_chatter, state, intent, floor, row, col, budget, seen_at, seen_y, seen_x, heading,
                     hunt, rng_move, occupancy, tile_head, agent_next, cell_prey, cell_next, prey_on_floor, door_watch, ev_t,
                     ev_i, n_ev, heard, lure_seen[0], movers, n_movers, voices, looked, prey_changed,
                     sight_clock)  # fmt: skip
        _people_act(t, tick, params, tiles, doors, door_hp, room_of, light, sight_rects, walled_pairs, zombie_rows, room_door_ptr, room_doors, room_refuge,
                    room_zombies, stair_ptr, stair_to, goal_fields, lure, lure_room, lure_src, lure_alarm, active,
                    alarm_span, room_lure, minds[8], minds[9], state, stress, hambie_status,
                    intent, floor, row, col, goal, walk_speed, sprint_speed, stamina, stamina_max, budget, seen_at,
                    seen_y, seen_x, hidden_since, occupancy, tile_head, agent_next, cell_zombies, cell_next, ev_t, ev_i,
                    n_ev, strength, courage, social, rng_minds, living, n_living)  # fmt: skip

        # --- contact: blows and bites between neighbours --------------------------------------------
        for kz in range(n_movers):
            z = movers[kz]
            if state[z] != ZOMBIE or intent[z] == IDLE:
                continue  # an idle zombie has nobody near it (it wakes when someone comes in sight)
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    yy = row[z] + dy
                    xx = col[z] + dx
                    if yy < 0 or yy >= H or xx < 0 or xx >= W:
                        continue
                    p = tile_head[(floor[z] * H + yy) * W + xx]
                    if p < 0:
                        continue  # nobody there (most of the time): no wall to look for
                    if (dy != 0 or dx != 0) and _blocked_between(tiles, doors, floor[z], row[z], col[z], yy, xx):
                        continue
                    while p >= 0 and state[z] == ZOMBIE:
                        if state[p] == HEALTHY:
                            # The person strikes first (harder if strong, more often if brave): a decisive
                            # blow stops the zombie for good; anything less does not slow it.
                            blow = params[Param.STOP_CHANCE_PER_BLOW] * strength[p] * (0.5 + courage[p])
                            if intent[p] == FREEZE:
                                blow = 0.0  # frozen: no blow comes (the draw is kept, so others' luck stays put)
                            if _uniform(rng_contact) < blow * dt:
                                state[z] = DEAD
                                _log(ev_t, ev_i, n_ev, t, EV_KILL, p, z, floor[z], row[z], col[z])
                                here = (floor[z] * H + row[z]) * W + col[z]
                                occupancy[here] -= 1
                                _unlink(z, here, tile_head, agent_next)
                                break
                            elif _uniform(rng_contact) < params[Param.BITE_CHANCE_PER_S] * dt:
                                state[p] = BITTEN
                                ever_bitten[0] += 1
                                turn_at[p] = t + _turn_delay(
                                    rng_infect, params[Param.TURN_MEDIAN_S], params[Param.TURN_SIGMA]
                                )
                                will_be_hambie[p] = _uniform(rng_infect) < params[Param.HAMBIE_FRACTION]
                                seen_at[p] = t
                                seen_y[p] = row[z]
                                seen_x[p] = col[z]
                                if intent[p] != GOTO and intent[p] != LURE:
                                    intent[p] = FLEE  # (a bitten lurer runs on, away from the friends it left)
                                _log(ev_t, ev_i, n_ev, t, EV_BITE, p, z, floor[p], row[p], col[p])
                        p = agent_next[p]

        # --- minds: stress, grief, screams and panic; hambies' hunger, discovery and the vote -------
        if tick % MIND_EVERY == 0:
            _minds_act(t, MIND_EVERY * dt, params, tiles, doors, light, room_of, state, intent, floor, row, col,
                       seen_at, seen_y, seen_x, strength, sprint_speed, turn_at, will_be_hambie, ever_bitten, minds,
                       tile_head, agent_next, rng_minds, rng_infect, ev_t, ev_i, n_ev, social)  # fmt: skip

        # --- record ------------------------------------------------------------------------------------
        _record(t, params, state, floor, row, col, rec)
        # A bite, a scream, a shout or a barricade makes a noise, and a breach (or a barricade pulled down
        # to slip out) opens new ways: the call's caller must answer them now, so the world answers at the
        # next tick whatever the length of the call.
        for k in range(ev_mark, n_ev[0]):
            if noises.MAKES_NOISE[ev_i[k, 0]] or noises.OPENS_WAYS[ev_i[k, 0]]:
                return t, STOP_WORLD_CHANGED
    return t, STOP_TIME


@nb.njit(cache=True)
def advance_chunks(t_now, limit, chunking, quiet_s, params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev, scratch,
                   minds, social, door_tiles, noise):  # fmt: skip
    """Chunks of `advance`, with quiet spells taken by `advance_quiet`, toward `limit`, as `SchoolSim.run`
    would call them one by one; returns (time reached, why it stopped) as `advance` does.

    `chunking`: (length of the next chunk in s, shortest, longest, longest quiet spell, 1.0 to look for
    quiet spells). A chunk in which something happened is followed by the shortest; a calm one by one
    twice as long; only after a calm chunk is a quiet spell looked for (`quiet_now`). `quiet_s[0]`
    adds up the seconds the quiet kernel took. It goes on by itself until `limit`, or until something
    Python must answer (a new way: `STOP_WORLD_CHANGED`; full buffers; the end of the run): where the
    chunks end never changes the run, so one call spares Python the round trip of each. The noises the
    kernel's events make ring here (`noise`: the arguments of `noises.hear` after the events and the
    time), before the next tick, as Python would ring them.
    """
    t = t_now
    while t < limit - 1e-9:
        first = n_ev[0]
        chunk = chunking[0]
        reason = STOP_NOT_QUIET
        if chunking[4] > 0.5 and chunk > chunking[1] and _quiet_now(
            t, params, world, agents, lures, scratch, minds, social, door_tiles
        ):
            start = t
            t, reason = _advance_quiet(t, min(t + chunking[3], limit), params, world, agents, rngs, rec, ev_t, ev_i,
                                       n_ev, scratch, minds, social)  # fmt: skip
            quiet_s[0] += t - start
        if reason == STOP_NOT_QUIET:
            t, reason = advance(t, min(t + chunk, limit), params, world, lures, agents, rngs, rec, ev_t, ev_i, n_ev,
                                scratch, minds, social)  # fmt: skip
        # Busy moments get short chunks, so that a quiet spell is taken soon after it begins.
        chunking[0] = chunking[1] if n_ev[0] > first else min(chunking[2], chunk * 2.0)
        if reason == STOP_WORLD_CHANGED and not noises.hear(ev_t, ev_i, first, n_ev[0], t, noise[0], noise[1], noise[2],
                                                            noise[3], noise[4]):  # fmt: skip
            reason = STOP_TIME  # only noises, rung: nothing for Python to do
        if reason != STOP_TIME:
            return t, reason
    return t, STOP_TIME


def advance_quiet(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
    """Advance a quiet school: every zombie idle and out of earshot, nobody moving or seeing danger.

    The caller (`advance_chunks`, by `quiet_now`) checks that sensing, moving and contact would change nothing; what
    still runs is what a quiet night does — the bitten's clocks, stress and hunger, the records —
    exactly as `advance` would, tick by tick. The stressed draw their chances to scream, bolt or leave
    their group here too, from the same generator in the same order as `_minds_act`; it stops, before
    the tick, as soon as something would happen (someone turns or grieves, or a chance comes up: the
    generator is then wound back so that `advance` draws the same numbers and takes over from there).
    Returns (time reached, STOP_TIME or STOP_NOT_QUIET).
    """
    return _advance_quiet(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social)


@nb.njit(cache=True)
def _advance_quiet(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
    t, reason = _quiet_ticks(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social)
    _, H, W = world[0].shape
    _empty_tile_index(agents[0], agents[2], agents[3], agents[4], H, W, scratch[2], scratch[3])
    return t, reason


@nb.njit(cache=True)
def _quiet_ticks(t_now, t_stop, params, world, agents, rngs, rec, ev_t, ev_i, n_ev, scratch, minds, social):
    tiles, light = world[0], world[4]
    state, intent, floor, row, col = agents[0], agents[1], agents[2], agents[3], agents[4]
    turn_at, seen_at = agents[13], agents[15]
    rng = rngs[3]
    occupancy, tile_head, agent_next = scratch[2], scratch[3], scratch[4]
    stress, screamed_at, last_state = minds[0], minds[3], minds[4]
    out_ptr, out_to, out_weight, screams_in_terror = minds[8], minds[9], minds[10], minds[11]
    group = social[0]
    is_bully = social[2]
    n = state.shape[0]
    _, H, W = tiles.shape
    dt = params[Param.TICK_S]
    dt_m = MIND_EVERY * dt
    t = t_now
    _index_tiles(state, floor, row, col, H, W, occupancy, tile_head, agent_next)
    # What a quiet spell changes: the clocks of the bitten, the stress of a few, the hunger of hambies.
    next_turn = np.inf
    n_hambies = 0
    hambies = np.empty(n, dtype=np.int64)
    hunger_rate = np.empty(n)
    for i in range(n):
        if state[i] != last_state[i]:
            return t, STOP_NOT_QUIET  # someone to grieve
        if state[i] == BITTEN and turn_at[i] < next_turn:
            next_turn = turn_at[i]
        if state[i] == HAMBIE:
            hambies[n_hambies] = i
            # Nobody moves until the spell ends, so the rate `_hambie_act` would use holds throughout.
            hunger_rate[n_hambies] = _hunger_rate(i, params, state, floor, row, col, tile_head, agent_next, H, W)
            n_hambies += 1
    # People whose stress moves (or sits above the scream threshold) are followed step by step; the
    # others' stress provably stays put while nothing moves, until the siege begins to tell.
    moving = np.empty(n, dtype=np.int64)
    n_moving = -1
    sieged = False
    after = np.empty(n)
    rng_before = np.empty(4, dtype=np.uint64)
    still_row = -1  # the spell's first row of counts, and whether its first frame is stored (`_record`)
    framed = False
    while t < t_stop - 1e-9:
        if n_ev[0] > ev_t.shape[0] - 4 * n - 16 or rec[7][0] > rec[5].shape[0] - n:
            return t, STOP_NOT_QUIET  # `advance` knows how to stop for full buffers
        t_next = t + dt
        tick = int(t_next / dt + 0.5)
        if next_turn <= t_next:
            return t, STOP_NOT_QUIET
        minds_now = tick % MIND_EVERY == 0
        if minds_now:
            if n_moving < 0 or sieged != (t_next >= params[Param.SIEGE_AFTER_S]):
                sieged = t_next >= params[Param.SIEGE_AFTER_S]
                n_moving = 0
                for i in range(n):
                    if state[i] == HEALTHY or state[i] == BITTEN:
                        moving[n_moving] = i
                        n_moving += 1
                keep = 0
                for k in range(n_moving):
                    i = moving[k]
                    a = _stress_after(i, t_next, dt_m, params, light, state, intent, floor, row, col, seen_at,
                                      stress, out_ptr, out_to, out_weight)  # fmt: skip
                    if (
                        a != stress[i]
                        or a > params[Param.SCREAM_ABOVE]
                        or not _calm_enough(i, a, t_next, params, intent, group, is_bully, screamed_at,
                                            screams_in_terror)
                    ):
                        moving[keep] = i
                        keep += 1
                n_moving = keep
            rng_before[:] = rng
            for k in range(n_moving):
                i = moving[k]
                a = _stress_after(i, t_next, dt_m, params, light, state, intent, floor, row, col, seen_at, stress,
                                  out_ptr, out_to, out_weight)  # fmt: skip
                if _a_chance_comes_up(i, a, t_next, dt_m, params, intent, group, is_bully, screamed_at, screams_in_terror,
                                      rng):
                    rng[:] = rng_before
                    return t, STOP_NOT_QUIET
                after[i] = a
        t = t_next
        if minds_now:
            # Exactly what `_minds_act` does when nothing happens: the same operations, in the same order.
            for k in range(n_moving):
                _set_stress(moving[k], after[moving[k]], params, stress, screams_in_terror)
            for k in range(n_hambies):
                h = hambies[k]
                hunger_h = minds[1]
                hunger_h[h] = min(1.0, hunger_h[h] + dt_m * hunger_rate[k])
        still_row, framed = _record(t, params, state, floor, row, col, rec, still_row, framed)
    return t, STOP_TIME


# The three chances fear gives at each minds step, in `_minds_act`'s order; the quiet kernel asks the
# same questions (`_calm_enough`, `_a_chance_comes_up`), so they are written once.


@nb.njit(cache=True, _nrt=False, inline="always")
def _may_scream(i, stress_i, t, params, screamed_at, screams_in_terror) -> bool:
    return stress_i > params[Param.SCREAM_ABOVE] and t - screamed_at[i] >= _scream_gap(screams_in_terror[i], params)


@nb.njit(cache=True, _nrt=False, inline="always")
def _set_stress(i, value, params, stress, screams_in_terror):
    """Person i's stress after a step of the minds (both kernels take it here).

    Terror mostly silences: each scream doubles the wait before the next (`scream_gap_growth`) for as
    long as the fear lasts; once it falls back to the threshold the waits start again.
    """
    stress[i] = value
    if value <= params[Param.SCREAM_ABOVE]:
        screams_in_terror[i] = 0


@nb.njit(cache=True, _nrt=False, inline="always")
def _scream_gap(screams, params) -> float:
    """The wait after a person's last scream, given their screams since their terror began (0 if calm since)."""
    return params[Param.SCREAM_GAP_S] * params[Param.SCREAM_GAP_GROWTH] ** max(screams - 1, 0)


@nb.njit(cache=True, _nrt=False, inline="always")
def _may_bolt(i, stress_i, params, intent) -> bool:
    return intent[i] == HIDE and stress_i > params[Param.PANIC_ABOVE]


@nb.njit(cache=True, _nrt=False, inline="always")
def _may_split(i, stress_i, params, group, is_bully) -> bool:
    # Under pressure groups split: bullies look after themselves first.
    return group[i] >= 0 and stress_i > params[Param.SPLIT_ABOVE] - (params[Param.BULLY_MARGIN] if is_bully[i] else 0.0)


@nb.njit(cache=True, _nrt=False, inline="always")
def _calm_enough(i, after, t, params, intent, group, is_bully, screamed_at, screams_in_terror) -> bool:
    """Whether person i, at this stress, would draw no chance to scream, bolt or leave their group."""
    return not (
        _may_scream(i, after, t, params, screamed_at, screams_in_terror)
        or _may_bolt(i, after, params, intent)
        or _may_split(i, after, params, group, is_bully)
    )


@nb.njit(cache=True, _nrt=False)
def _a_chance_comes_up(i, after, t, dt_m, params, intent, group, is_bully, screamed_at, screams_in_terror, rng) -> bool:
    """Person i's draws of `_minds_act` at this stress, in its order: scream, bolt, leave the group."""
    if _may_scream(i, after, t, params, screamed_at, screams_in_terror) and _uniform(rng) < params[Param.SCREAM_CHANCE_PER_S] * dt_m:
        return True
    if _may_bolt(i, after, params, intent) and _uniform(rng) < params[Param.PANIC_CHANCE_PER_S] * dt_m:
        return True
    return _may_split(i, after, params, group, is_bully) and _uniform(rng) < params[Param.SPLIT_CHANCE_PER_S] * dt_m


@nb.njit(cache=True, _nrt=False)
def _record(t, params, state, floor, row, col, rec, still_row=-1, framed=False):
    """The rows of counts and the frame of positions due at t; returns the new (`still_row`, `framed`).

    Within a stretch where nobody moves or changes state (a tick, or a quiet spell whose caller keeps
    the two values), once one row is counted (`still_row`, -1 before) the next rows are copies of it,
    and once a frame is stored (`framed`) the next ones would store nothing: a quiet night costs no
    pass over everyone.
    """
    (next_record, counts, n_counts, next_frame, last, tr_t, tr_i, n_tr, _) = rec
    while t >= next_record[0] - 1e-9 and n_counts[0] < counts.shape[0]:
        r = n_counts[0]
        if still_row < 0:
            record_counts(counts, r, next_record[0], state, floor)
            still_row = r
        else:
            counts[r, 0] = next_record[0]
            for c in range(1, counts.shape[1]):
                counts[r, c] = counts[still_row, c]
        n_counts[0] += 1
        next_record[0] += params[Param.RECORD_EVERY_S]
    if t >= next_frame[0] - 1e-9:
        if not framed:
            _record_frame(t, state, floor, row, col, last, tr_t, tr_i, n_tr)
            framed = True
        next_frame[0] += params[Param.TRAJECTORY_EVERY_S]
    return still_row, framed


def quiet_now(t, params, world, agents, lures, scratch, minds, social, door_tiles) -> bool:
    """True when nothing in the school can move until someone turns or someone's fear boils over, so that
    `advance_quiet` may run the next chunk (`advance_chunks` asks after each calm chunk). `door_tiles`: the flat
    indices of the building's door tiles, the only tiles a zombie pushes."""
    return _quiet_now(t, params, world, agents, lures, scratch, minds, social, door_tiles)


@nb.njit(cache=True, _nrt=False)
def _quiet_now(t, params, world, agents, lures, scratch, minds, social, door_tiles):
    tiles = world[0]
    state, intent, floor, row, col = agents[0], agents[1], agents[2], agents[3], agents[4]
    seen_at, hidden_since, hunt = agents[15], agents[18], agents[20]
    mind_state = minds[4]
    door_watch = social[4]
    _, H, W = tiles.shape
    n = state.shape[0]
    if params[Param.RESCUE_ROOM] >= 0:
        return False
    any_living = False
    exits_open = params[Param.EXITS_OPEN] > 0.5
    for i in range(n):
        s = state[i]
        if s != mind_state[i]:
            return False  # someone to grieve
        if s == ZOMBIE:
            if intent[i] != IDLE or hunt[i] != -1:
                return False
            continue
        if s != HEALTHY and s != BITTEN and s != HAMBIE:
            continue
        any_living = True
        if intent[i] != CALM and intent[i] != HIDE:
            return False  # (the frozen too: each tick they may come out of it)
        if t - seen_at[i] < params[Param.FLEE_MEMORY_S]:
            return False  # alert: they look around every tick and may run
        if intent[i] == HIDE and hidden_since[i] >= 0:
            return False  # a barricade still to build
        if exits_open and tiles[floor[i], row[i], col[i]] == T_EXIT:
            return False
        if s == HAMBIE and minds[2][i] != RESTRAINED:
            # A hambie with a healthy person right next to it, nothing in between, may bite or be found out
            # (`_hambie_act`); one within two steps only grows hungry faster, which `advance_quiet` follows.
            for j in range(n):
                if (
                    state[j] == HEALTHY
                    and floor[j] == floor[i]
                    and abs(row[j] - row[i]) <= 1
                    and abs(col[j] - col[i]) <= 1
                    and not _blocked_between(tiles, world[1], floor[i], row[i], col[i], row[j], col[j])
                ):
                    return False
    if not any_living:
        return False
    since = t - 2 * params[Param.TICK_S]
    for d in door_tiles:
        if door_watch[0, d // (H * W), (d // W) % H, d % W] >= since:
            return False  # a door was pushed just now: someone may step up to hold it, or slip out to lure
    # Going back for someone needs a zombie on the prowl near them, and a rescuer or a lurer is neither
    # calm nor hidden: the checks above already leave those moments to `advance`.
    return _quiet_sight_and_sound(t, params, world, agents, lures, scratch)


def quiet_sight_and_sound(t, params, world, agents, lures, scratch) -> bool:
    """True when no idle zombie sees prey or hears a lure, and nobody who looks around sees a zombie."""
    return _quiet_sight_and_sound(t, params, world, agents, lures, scratch)


@nb.njit(cache=True, _nrt=False)
def _quiet_sight_and_sound(t, params, world, agents, lures, scratch):
    tiles, doors, room_of, light = world[0], world[1], world[3], world[4]
    state, intent, floor, row, col = agents[0], agents[1], agents[2], agents[3], agents[4]
    lure, lure_until, lure_room = lures[0], lures[1], lures[2]
    room_zombies, room_chatter, cell_zombies, cell_prey = scratch[0], scratch[1], scratch[5], scratch[6]
    cell_next, prey_on_floor, active = scratch[7], scratch[8], scratch[9]
    zombie_rows, prey_rows = scratch[16], scratch[17]
    _, H, W = tiles.shape
    flat_tiles = tiles.reshape(tiles.size)  # views for the lines of sight (`_nearest_visible`)
    flat_doors = doors.reshape(doors.size)
    n = state.shape[0]
    _index_cells(state, floor, row, col, cell_zombies, cell_prey, cell_next, prey_on_floor, zombie_rows, prey_rows)
    room_zombies[:] = 0
    room_chatter[:] = 0
    for i in range(n):
        r = room_of[floor[i], row[i], col[i]]
        if r < 0:
            continue
        if state[i] == ZOMBIE:
            room_zombies[r] += 1
        elif intent[i] == CALM and state[i] == HEALTHY:
            # Only the healthy talk: a bitten person keeps quiet (hiding the bite, or in fever), so one
            # alone does not call the zombies in, to frighten it off, to call them in again when it calms.
            room_chatter[r] += 1
    n_active = 0
    for k in range(lure.shape[0]):
        if lure_room[k] < 0 and lure_until[k] >= t:
            return False  # a sound is ringing
        if lure_room[k] >= 0 and room_chatter[lure_room[k]] > 0:
            active[n_active] = k
            n_active += 1
    tile_m = params[Param.TILE_M]
    for i in range(n):
        if state[i] == ZOMBIE:
            if prey_on_floor[floor[i]] > 0:
                seen = _nearest_visible(i, params[Param.ZOMBIE_SIGHT_LIT], params[Param.ZOMBIE_SIGHT_DARK], tile_m,
                                        flat_tiles, flat_doors, light, world[11], world[12], floor, row, col, cell_prey, prey_rows,
                                        cell_next, intent, False)  # fmt: skip
                if seen >= 0:
                    return False
            if (
                _loudest_lure(
                    floor[i], row[i], col[i], params, lure, lure_room, active, n_active, room_chatter, lures[6], H, W
                )
                >= 0
            ):
                return False
        elif state[i] == HEALTHY or state[i] == BITTEN:
            r = room_of[floor[i], row[i], col[i]]
            if intent[i] == HIDE and r >= 0 and room_zombies[r] == 0:
                continue  # hidden behind a shut door: they do not look out
            seen = _nearest_visible(i, params[Param.PERSON_SIGHT_LIT], params[Param.PERSON_SIGHT_DARK], tile_m,
                                    flat_tiles, flat_doors, light, world[11], world[12], floor, row, col, cell_zombies, zombie_rows,
                                    cell_next, intent, state[i] == BITTEN)  # fmt: skip
            if seen >= 0:
                return False
    return True


# --- zombies -------------------------------------------------------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _zombies_act(t, tick, params, tiles, doors, door_hp, room_of, light, sight_rects, walled_pairs, prey_rows, stair_ptr, stair_to, lure, lure_room, room_lure, active,
                 n_active, room_chatter, state, intent, floor, row, col, budget, seen_at, seen_y, seen_x, heading, hunt,
                 rng_move, occupancy, tile_head, agent_next, cell_prey, cell_next, prey_on_floor, door_watch, ev_t, ev_i,
                 n_ev, heard, epoch, zombies, n_zombies, voices, looked, prey_changed, sight_clock):  # fmt: skip
    """Every zombie of `zombies[:n_zombies]` (in index order) senses, decides and moves.

    The caller leaves out the idle zombies whose look is not due: for them this would do nothing. One
    call per tick: a call per agent costs more than its work. A zombie that looks again from where it
    last looked, no door changed and no prey moved within its sight since (see `advance`), sees what it
    saw then (`looked`: tick, tile, door changes then, whom it saw): a zombie held at a door looks every
    tick at the same hidden people.
    """
    _, H, W = tiles.shape
    flat_tiles = tiles.reshape(tiles.size)  # views for the lines of sight (`_nearest_visible`)
    flat_doors = doors.reshape(doors.size)
    dt = params[Param.TICK_S]
    tile_m = params[Param.TILE_M]
    n = state.shape[0]
    rings = _sight_rings(params[Param.ZOMBIE_SIGHT_LIT], tile_m)  # the cells a look visits
    # A rotating first mover, so nobody always wins a contested tile: agents tick % n, tick % n + 1, ...
    start = _first_at_or_after(zombies, n_zombies, tick % n)
    for kz in range(n_zombies):
        k = start + kz  # (start < n_zombies: one subtraction wraps it, where a modulo would divide)
        i = zombies[k - n_zombies if k >= n_zombies else k]
        if state[i] != ZOMBIE:
            continue
        # Sense: a chasing zombie looks every tick, a prowling one every third tick, an idle one every
        # sixth (staggered), and an idle one does nothing else. That is what keeps a quiet night cheap.
        if hunt[i] == GAVE_UP and t - seen_at[i] >= _GIVE_UP_S:
            hunt[i] = -1
        # (Constant divisors: a division by a variable costs more than the rest of an idle zombie's tick.)
        due = (i + tick) % 6 == 0 if intent[i] == IDLE else (i + tick) % 3 == 0
        if hunt[i] != GAVE_UP and (intent[i] == CHASE or due):
            target = -1
            if prey_on_floor[floor[i]] > 0:  # most floors are empty of people late in a run
                _count_door_changes(ev_i, n_ev, sight_clock)  # (one may have just broken a door)
                here = (floor[i] * H + row[i]) * W + col[i]
                if (
                    looked[i, 0] >= 0
                    and looked[i, 1] == here
                    and looked[i, 2] == sight_clock[1]
                    and _prey_still(prey_changed, floor[i], row[i], col[i], rings, looked[i, 0])
                ):
                    target = looked[i, 3]
                    sight_clock[4] += 1
                else:
                    target = _nearest_visible(i, params[Param.ZOMBIE_SIGHT_LIT], params[Param.ZOMBIE_SIGHT_DARK], tile_m,
                                              flat_tiles, flat_doors, light, sight_rects, walled_pairs, floor, row, col, cell_prey, prey_rows,
                                              cell_next, intent, False)  # fmt: skip
                    looked[i, 0] = tick
                    looked[i, 1] = here
                    looked[i, 2] = sight_clock[1]
                    looked[i, 3] = target
            if target >= 0:
                intent[i] = CHASE
                seen_at[i] = t
                seen_y[i] = row[target]
                seen_x[i] = col[target]
                # Seen in another room (through a window or a doorway): run the way round, by the
                # room's lure; in the same space, straight at them.
                r_target = room_of[floor[i], row[target], col[target]]
                r_here = room_of[floor[i], row[i], col[i]]
                hunt[i] = room_lure[r_target] if (r_target >= 0 and r_target != r_here) else -1
            elif intent[i] == CHASE and (
                (row[i] == seen_y[i] and col[i] == seen_x[i]) or t - seen_at[i] > params[Param.FLEE_MEMORY_S]
            ):
                intent[i] = WANDER  # reached where the person was last seen, or lost the trail
                seen_at[i] = t
            if intent[i] != CHASE:
                tile_i = (floor[i] * H + row[i]) * W + col[i]
                if heard[i, 0] == epoch and heard[i, 1] == tile_i:
                    hunt[i] = heard[i, 2]
                else:
                    hunt[i] = _loudest_lure(
                        floor[i], row[i], col[i], params, lure, lure_room, active, n_active, room_chatter, voices, H, W
                    )
                    heard[i, 0] = epoch
                    heard[i, 1] = tile_i
                    heard[i, 2] = hunt[i]
                if hunt[i] >= 0:
                    intent[i] = HUNT
                    seen_at[i] = t
                elif t - seen_at[i] >= params[Param.IDLE_AFTER_S]:
                    intent[i] = IDLE
                else:
                    intent[i] = WANDER
        if intent[i] == IDLE:
            continue

        speed = params[Param.ZOMBIE_SPRINT] if intent[i] == CHASE else params[Param.ZOMBIE_WALK]
        budget[i] = min(budget[i] + speed * dt, 2.0 * speed * dt + 2.0 * tile_m)
        h = hunt[i]
        start_tile = (floor[i] * H + row[i]) * W + col[i]
        if intent[i] == CHASE and h >= 0 and lure[h, (floor[i] * H + row[i]) * W + col[i]] >= 0.0:
            h = hunt[i] = -1  # in the room now: straight at them
        pushed = False
        for _ in range(32):
            if budget[i] < tile_m:
                break
            f = floor[i]
            y0 = row[i]
            x0 = col[i]
            cur = (f * H + y0) * W + x0
            by_lure = intent[i] == HUNT or (intent[i] == CHASE and h >= 0)
            if by_lure:
                here = -float(lure[h, cur])
            elif intent[i] == CHASE:
                here = float((y0 - seen_y[i]) ** 2 + (x0 - seen_x[i]) ** 2)
            else:
                here = 1e18
            best = here
            bf = -1
            by = -1
            bx = -1
            first = int(_uniform(rng_move) * 8.0)
            for kk in range(8):
                k = (first + kk) % 8
                yy = y0 + _DY[k]
                xx = x0 + _DX[k]
                if yy < 0 or yy >= H or xx < 0 or xx >= W or _impassable(tiles[f, yy, xx]):
                    continue
                if k >= 4 and _squeezes_past_corner(tiles, f, y0, x0, yy, xx):
                    continue
                if by_lure:
                    score = -float(lure[h, (f * H + yy) * W + xx])
                elif intent[i] == CHASE:
                    score = float((yy - seen_y[i]) ** 2 + (xx - seen_x[i]) ** 2)
                else:
                    score = 0.0 if k == heading[i] else 1.0 + _uniform(rng_move)  # wander: mostly straight on
                if score < best - 1e-6:
                    best = score
                    bf = f
                    by = yy
                    bx = xx
            # Stairs: a hunting zombie takes them when its lure says so; a wandering one sometimes.
            if by_lure or intent[i] == WANDER:
                for e in range(stair_ptr[cur], stair_ptr[cur + 1]):
                    dest = stair_to[e]
                    score = -float(lure[h, dest]) if by_lure else 0.5 + _uniform(rng_move)
                    if score < best - 1e-6:
                        best = score
                        bf = dest // (H * W)
                        by = (dest // W) % H
                        bx = dest % W
            if bf < 0:
                if intent[i] == CHASE and h < 0 and best > 2.0:
                    # Seen but out of reach (behind glass, across a gap): give up for a while.
                    intent[i] = WANDER
                    hunt[i] = GAVE_UP
                    seen_at[i] = t
                break  # nowhere better: at the source, or cornered
            if tiles[bf, by, bx] == T_DOOR and doors[bf, by, bx] != D_OPEN and doors[bf, by, bx] != D_BROKEN:
                # Zombies do not open doors: they push until it gives, and several push together.
                _push_door(i, t, dt, bf, by, bx, doors, door_hp, door_watch, ev_t, ev_i, n_ev)
                budget[i] = 0.0
                pushed = True
                break
            if occupancy[(bf * H + by) * W + bx] >= params[Param.MAX_PER_TILE]:
                break
            if bf != f:
                step = params[Param.STAIRS_COST_M]
            else:
                step = tile_m * (_SQRT2 if (by != y0 and bx != x0) else 1.0)
            for k in range(8):
                if y0 + _DY[k] == by and x0 + _DX[k] == bx:
                    heading[i] = k
            budget[i] -= step
            _move(i, bf, by, bx, floor, row, col, occupancy, tile_head, agent_next, H, W)
        if intent[i] == CHASE and not pushed and (floor[i] * H + row[i]) * W + col[i] == start_tile:
            # Stuck (a crowd, or the long way round) with the prey in sight beyond a shut door: push it.
            _push_door_toward(i, t, dt, seen_y[i], seen_x[i], tiles, doors, door_hp, room_of, floor, row, col,
                              door_watch, ev_t, ev_i, n_ev)  # fmt: skip
        if intent[i] == WANDER and _uniform(rng_move) < 0.1:
            heading[i] = int(_uniform(rng_move) * 8.0)


@nb.njit(cache=True, _nrt=False)
def _push_door(i, t, dt, f, y, x, doors, door_hp, door_watch, ev_t, ev_i, n_ev):
    # door_watch: [0] when it was last pushed (the people behind it notice), [1] when someone last held
    # it from the other side, [2] how hard they hold: their push divides the zombies'.
    door_watch[0, f, y, x] = t
    held = door_watch[1, f, y, x] >= t - 1.5 * dt
    door_hp[f, y, x] -= dt / (1.0 + door_watch[2, f, y, x]) if held else dt
    if door_hp[f, y, x] <= 0.0:
        doors[f, y, x] = D_BROKEN
        _log(ev_t, ev_i, n_ev, t, EV_BREACH, i, -1, f, y, x)


@nb.njit(cache=True, _nrt=False)
def _push_door_toward(i, t, dt, ty, tx, tiles, doors, door_hp, room_of, floor, row, col, door_watch, ev_t, ev_i, n_ev):
    """Push a shut door next to zombie i that opens into the room where it sees its prey."""
    f = floor[i]
    _, H, W = tiles.shape
    target_room = room_of[f, ty, tx]
    if target_room < 0:
        return
    for k in range(4):
        dy = _DY[k]
        dx = _DX[k]
        y = row[i] + dy
        x = col[i] + dx
        beyond_y = y + dy
        beyond_x = x + dx
        if not (0 <= beyond_y < H and 0 <= beyond_x < W):
            continue
        if tiles[f, y, x] == T_DOOR and doors[f, y, x] != D_OPEN and doors[f, y, x] != D_BROKEN:
            if room_of[f, beyond_y, beyond_x] == target_room:
                _push_door(i, t, dt, f, y, x, doors, door_hp, door_watch, ev_t, ev_i, n_ev)
                return


@nb.njit(cache=True, _nrt=False)
def _loudest_lure(f, y, x, params, lure, lure_room, active, n_active, room_chatter, voices, H, W) -> int:
    """The lure a zombie at (f, y, x) hears best above its threshold; -1 if none.

    Sounds give their level directly. A room with calm people talking in it is heard at
    ``chatter_db + 10 log10(talkers) - 20 log10(1 + distance)``: voices add in power, fall with distance;
    a zombie inside the room no longer follows it (it searches the room instead). Both terms come
    from `voices` (see `voice_tables`): the same values, without two log10 a room a zombie.
    """
    talkers_db, falloff = voices
    tile = (f * H + y) * W + x
    best_db = params[Param.ZOMBIE_HEARING_DB]
    best = -1
    for a in range(n_active):
        s = active[a]
        r = lure_room[s]
        if r < 0:
            level = lure[s, tile]
        else:
            distance = -lure[s, tile]
            if distance <= 0.0:
                continue  # already in the room: the voices come from all around, so it searches (wanders)
            fall_db = _kept_db20(1.0 + distance, falloff, _FALLOFF_SHIFT)
            level = params[Param.CHATTER_DB] + talkers_db[room_chatter[r]] - fall_db
        if level > best_db:
            best_db = level
            best = s
    return best


def voice_tables(n_people: int) -> tuple[np.ndarray, np.ndarray]:
    """What `_loudest_lure` reads instead of computing: ``10 log10(k)`` for k = 0..n_people talkers (the
    very values the kernel's log10 gives), and an empty table of falls with distance (`_loudest_lure`)."""
    talkers_db = np.empty(n_people + 1)
    _fill_talkers_db(talkers_db)
    return talkers_db, np.zeros((1 << _FALLOFF_SLOTS_LOG2, 2))  # see `_FALLOFF_SHIFT`


_FALLOFF_SLOTS_LOG2 = 12
# A zombie hears the same rooms from the same few distances over and over (walking distances are
# sums of the same steps): `senses._kept_db20` keeps 20 log10(1 + distance) by its argument.
_FALLOFF_SHIFT = np.uint64(64 - _FALLOFF_SLOTS_LOG2)


@nb.njit(cache=True)
def _fill_talkers_db(out):
    for k in range(out.shape[0]):
        out[k] = 10.0 * log10(k) if k > 0 else -np.inf


# --- people --------------------------------------------------------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _people_act(t, tick, params, tiles, doors, door_hp, room_of, light, sight_rects, walled_pairs, zombie_rows, room_door_ptr, room_doors, room_refuge,
                 room_zombies, stair_ptr, stair_to, goal_fields, lure, lure_room, lure_src, lure_alarm, active, alarm_span,
                 room_lure, out_ptr, out_to, state,
                 stress, hambie_status, intent, floor, row, col, goal, walk_speed, sprint_speed, stamina, stamina_max, budget, seen_at, seen_y,
                 seen_x, hidden_since, occupancy, tile_head, agent_next, cell_zombies, cell_next, ev_t, ev_i,
                 n_ev, strength, courage, social, rng, living, n_living):  # fmt: skip
    """Every person senses, decides and moves.

    Groups (`social`): a member who flees follows its leader while the leader is near and the danger
    is not; a leader reaching a refuge waits a while for members still outside before shutting the
    doors. A hidden person in a group may hold the door of their refuge when zombies push it, or slip
    out by another door and run off shouting to draw the zombies away (LURE); a hidden person may go
    back out for someone close in danger nearby and bring them in (FETCH).

    `social[5:9]` (sacrifices): for a rescuer the one fetched, for the one fetched their rescuer, else
    -1; the refuge to go back to (or that a lurer left); when the rescue or the luring began (-1 for
    the one fetched); and the weight of each tie of `out_to` that one would risk oneself for (rivals
    and bullies weigh 0). People listen for alarms among `active[:alarm_span]`, the sounding lures up to
    the last alarm.
    """
    (group, group_leader, _, waited, door_watch, sac_other, sac_room, sac_since, care_weight) = social
    _, H, W = tiles.shape
    flat_tiles = tiles.reshape(tiles.size)  # views for the lines of sight (`_nearest_visible`)
    flat_doors = doors.reshape(doors.size)
    dt = params[Param.TICK_S]
    tile_m = params[Param.TILE_M]
    n = state.shape[0]
    start = _first_at_or_after(living, n_living, tick % n)  # a rotating first mover, as for zombies
    for kp in range(n_living):
        k = start + kp
        i = living[k - n_living if k >= n_living else k]
        if state[i] != HEALTHY and state[i] != BITTEN and state[i] != HAMBIE:
            continue
        f = floor[i]
        cur = (f * H + row[i]) * W + col[i]
        here_room = room_of[f, row[i], col[i]]
        # Leaving: an exit while exits are open, the rescue room while a rescue waits.
        leaves = -1
        if tiles[f, row[i], col[i]] == T_EXIT and params[Param.EXITS_OPEN] > 0.5:
            leaves = ESCAPED
        elif params[Param.RESCUE_ROOM] >= 0 and here_room == int(params[Param.RESCUE_ROOM]):
            leaves = RESCUED
        if leaves >= 0:
            occupancy[cur] -= 1
            _unlink(i, cur, tile_head, agent_next)
            state[i] = leaves
            _log(ev_t, ev_i, n_ev, t, EV_ESCAPE if leaves == ESCAPED else EV_RESCUE, i, -1, f, row[i], col[i])
            continue

        # Sense: alert people look every tick, calm ones every fourth tick; hidden ones only once a
        # zombie is in their room (they cannot see through the door they shut).
        alert = t - seen_at[i] < params[Param.FLEE_MEMORY_S]
        hidden_safe = (intent[i] == HIDE or intent[i] == HOLD) and here_room >= 0 and room_zombies[here_room] == 0
        sees = False
        if state[i] != HAMBIE and not hidden_safe and (alert or (i + tick) % 4 == 0):
            z = _nearest_visible(i, params[Param.PERSON_SIGHT_LIT], params[Param.PERSON_SIGHT_DARK], tile_m, flat_tiles, flat_doors,
                                 light, sight_rects, walled_pairs, floor, row, col, cell_zombies, zombie_rows, cell_next, intent,
                                 state[i] == BITTEN)  # fmt: skip
            if z >= 0:
                seen_at[i] = t
                seen_y[i] = row[z]
                seen_x[i] = col[z]
                alert = True
                sees = True
            elif not alert:
                # Zombies on the prowl a few steps away are heard through walls and doors (growls,
                # shuffling, banging): the calm fall silent and hide, as LORE's survivors learn to.
                z = _prowler_near(i, _HEAR_ZOMBIE_TILES, floor, row, col, intent, cell_zombies, cell_next)
                if z >= 0:
                    seen_at[i] = t
                    seen_y[i] = row[z]
                    seen_x[i] = col[z]
                    alert = True
                # A scream or an alarm heard: run from where it came from, or shut the door and hide.
                for a in range(alarm_span):  # (no alarm sounds after these)
                    if alert:
                        break
                    s = active[a]
                    if lure_alarm[s] and lure[s, cur] >= params[Param.PERSON_HEARING_DB]:
                        src = lure_src[s]
                        seen_at[i] = t
                        seen_y[i] = (src // W) % H
                        seen_x[i] = src % W
                        alert = True
                        break

        if intent[i] == GOTO or intent[i] == FETCH or intent[i] == LURE:
            pass  # walking somewhere on purpose (patient zero, the rescue, a sacrifice); fear does not turn them
        elif intent[i] == FREEZE:
            # The spell breaks once no zombie has been in sight for a while, or by chance (it lasts
            # `freeze_time` on average): then they run.
            if not alert:
                intent[i] = CALM
            elif _uniform(rng) < params[Param.THAW_PER_S] * dt:
                intent[i] = FLEE
        elif alert:
            if not hidden_safe:
                intent[i] = FLEE  # hidden people stay hidden while no zombie is in their room
                # Fight, flight or freeze: in terror, with a zombie in sight, some freeze where they stand.
                if (
                    sees
                    and stress[i] > params[Param.FREEZE_ABOVE]
                    and params[Param.FREEZE_CHANCE_PER_S] > 0.0
                    and _uniform(rng) < params[Param.FREEZE_CHANCE_PER_S] * dt
                ):
                    intent[i] = FREEZE
                    _log(ev_t, ev_i, n_ev, t, EV_FREEZE, i, -1, f, row[i], col[i])
        elif intent[i] == FLEE:
            intent[i] = CALM

        if (
            intent[i] == FLEE
            and here_room >= 0
            and room_refuge[here_room]
            and room_zombies[here_room] == 0
            and stress[i] < params[Param.PANIC_ABOVE]  # in a panic, nobody stops to hide
            and not (state[i] == HAMBIE and hambie_status[i] == EXPELLED)  # driven out: no room takes it in
        ):
            # In a room with doors and no zombie in it: shut the doors and hide, unless one leads a group
            # whose members are still on their way (then wait a little, doors open).
            g = group[i]
            if g >= 0 and group_leader[g] == i and waited[i] < params[Param.WAIT_S]:
                late = _member_outside(i, g, here_room, params[Param.FOLLOW_TILES], group, state, floor, row, col,
                                       room_of)  # fmt: skip
                if late >= 0:
                    if waited[i] == 0.0:
                        _log(ev_t, ev_i, n_ev, t, EV_WAIT, i, late, f, row[i], col[i])
                    waited[i] += dt
                    continue
            _close_room(i, t, here_room, doors, room_door_ptr, room_doors, occupancy, H, W, ev_t, ev_i, n_ev)
            intent[i] = HIDE
            hidden_since[i] = t
            budget[i] = -params[Param.CLOSE_TIME_S] * walk_speed[i]
            continue
        if intent[i] == HIDE:
            if hidden_since[i] >= 0.0 and t - hidden_since[i] >= params[Param.BARRICADE_TIME_S]:
                _barricade_room(i, t, here_room, doors, door_hp, params[Param.BARRICADE_STRENGTH_S], room_door_ptr,
                                room_doors, H, W, ev_t, ev_i, n_ev)  # fmt: skip
                hidden_since[i] = -1.0  # barricaded once
            if group[i] >= 0 and here_room >= 0 and params[Param.HOLD_CHANCE_PER_S] > 0.0:
                # Someone to protect, and the door is giving: the brave step up to hold it.
                d = _attacked_door(here_room, t, 2.0 * dt, doors, room_door_ptr, room_doors, door_watch, H, W)
                if d >= 0 and _uniform(rng) < params[Param.HOLD_CHANCE_PER_S] * courage[i] * dt:
                    intent[i] = HOLD
                    _log(ev_t, ev_i, n_ev, t, EV_HOLD, i, -1, d // (H * W), (d // W) % H, d % W)
            if intent[i] == HIDE and state[i] == HEALTHY and here_room >= 0 and room_zombies[here_room] == 0:
                if group[i] >= 0 and params[Param.LURE_CHANCE_PER_S] > 0.0:
                    _try_lure(i, t, params, tiles, doors, door_hp, room_of, room_door_ptr, room_doors, here_room,
                              state, intent, floor, row, col, walk_speed, budget, occupancy, tile_head, agent_next,
                              ev_t, ev_i, n_ev, courage, group, door_watch, sac_room, sac_since, out_ptr, out_to,
                              care_weight, cell_zombies, cell_next, rng)  # fmt: skip
                if intent[i] == HIDE and params[Param.GO_BACK_CHANCE_PER_S] > 0.0:
                    _try_go_back(i, t, params, tiles, doors, door_hp, room_of, room_door_ptr, room_doors, here_room,
                                 state, intent, floor, row, col, walk_speed, budget, occupancy, tile_head, agent_next,
                                 ev_t, ev_i, n_ev, courage, door_watch, sac_other, sac_room, sac_since, out_ptr,
                                 out_to, care_weight, seen_at, cell_zombies, cell_next, rng)  # fmt: skip
            continue
        if intent[i] == FETCH:
            _fetch_act(i, t, params, tiles, doors, room_of, room_door_ptr, room_doors, room_zombies, stair_ptr,
                       stair_to, lure, room_lure, state, intent, floor, row, col, walk_speed, sprint_speed, stamina,
                       stamina_max, budget, seen_at, seen_y, seen_x, hidden_since, occupancy, tile_head, agent_next,
                       ev_t, ev_i, n_ev, sac_other, sac_room, sac_since)  # fmt: skip
            continue
        if intent[i] == LURE:
            # A lurer bitten on the way keeps away until it turns; one who turned hambie has its mind back
            # and stops as a healthy one does (else it would run on for the rest of the run).
            if state[i] != BITTEN and t - sac_since[i] >= params[Param.LURE_S]:
                _stop_lure(i, t, intent, row, col, seen_at, seen_y, seen_x)
                continue
            # A shout as they leave (the LURE event rings it) and then one every `shout_every` seconds,
            # until caught: a bitten lurer falls silent but keeps away, never back to the friends it left,
            # until it turns.
            every = params[Param.SHOUT_EVERY_S]
            if (
                state[i] == HEALTHY
                and every > 0.0
                and math.floor((t - sac_since[i]) / every + 1e-9) > math.floor((t - dt - sac_since[i]) / every + 1e-9)
            ):
                _log(ev_t, ev_i, n_ev, t, EV_SHOUT, i, -1, f, row[i], col[i])
            _walk(i, t, 2, room_lure[sac_room[i]], 0, 0, params, tiles, doors, lure, stair_ptr, stair_to, floor, row,
                  col, walk_speed, sprint_speed, stamina, stamina_max, budget, occupancy, tile_head, agent_next, ev_t,
                  ev_i, n_ev)  # fmt: skip
            continue
        if intent[i] == HOLD:
            d = _attacked_door(here_room, t, _HOLD_MEMORY_S, doors, room_door_ptr, room_doors, door_watch, H, W)
            if d < 0:
                intent[i] = HIDE  # the pushing stopped (or the door is gone)
                continue
            df = d // (H * W)
            dy = (d // W) % H
            dx = d % W
            if abs(row[i] - dy) <= 1 and abs(col[i] - dx) <= 1:
                # Holding wears one out (a tenth as fast as sprinting): spent, they let go for good.
                stamina[i] -= 0.1 * dt
                if stamina[i] <= 0.0:
                    intent[i] = HIDE
                    continue
                # Two can lean on a door side by side, no more: their forces add up to that.
                force = params[Param.HOLD_STRENGTH] * strength[i]
                if door_watch[1, df, dy, dx] == t:
                    door_watch[2, df, dy, dx] = min(door_watch[2, df, dy, dx] + force, 2.0 * params[Param.HOLD_STRENGTH])
                else:
                    door_watch[1, df, dy, dx] = t
                    door_watch[2, df, dy, dx] = force
            else:
                _step_toward(i, dy, dx, here_room, tiles, room_of, params[Param.MAX_PER_TILE], floor, row, col,
                             occupancy, tile_head, agent_next, H, W)  # fmt: skip
            continue
        if intent[i] == CALM or intent[i] == FREEZE:
            continue

        # Move: FLEE sprints while stamina lasts, away from the danger and toward safety; GOTO walks.
        fleeing = intent[i] == FLEE
        if fleeing and stamina[i] > 0.0:
            speed = sprint_speed[i]
            stamina[i] -= dt
        else:
            speed = walk_speed[i]
            stamina[i] = min(stamina_max[i], stamina[i] + 0.5 * dt)
        budget[i] = min(budget[i] + speed * dt, 2.0 * speed * dt + 2.0 * tile_m)
        if fleeing:
            field = goal_fields[1] if params[Param.EXITS_OPEN] > 0.5 else goal_fields[0]
        else:
            field = goal_fields[goal[i]]
        # A fleeing member follows its leader while the leader is near, in another room, and the
        # danger is not at its heels; close by, both run the same way anyway.
        leader = group_leader[group[i]] if group[i] >= 0 else -1
        follow = (
            fleeing
            and leader >= 0
            and leader != i
            and (state[leader] == HEALTHY or state[leader] == BITTEN)
            and floor[leader] == f
            and max(abs(row[leader] - row[i]), abs(col[leader] - col[i])) <= params[Param.FOLLOW_TILES]
            and room_of[f, row[leader], col[leader]] != here_room
            and (row[i] - seen_y[i]) ** 2 + (col[i] - seen_x[i]) ** 2 > 25
        )
        for _ in range(32):
            if budget[i] < tile_m:
                break
            f = floor[i]
            y0 = row[i]
            x0 = col[i]
            cur = (f * H + y0) * W + x0
            if follow:
                best = float((y0 - row[leader]) ** 2 + (x0 - col[leader]) ** 2)
            else:
                best = _flee_score(field[cur], y0, x0, seen_y[i], seen_x[i], fleeing, tile_m)
            bf = -1
            by = -1
            bx = -1
            for k in range(8):
                yy = y0 + _DY[k]
                xx = x0 + _DX[k]
                if yy < 0 or yy >= H or xx < 0 or xx >= W or _impassable(tiles[f, yy, xx]):
                    continue
                if tiles[f, yy, xx] == T_DOOR and (doors[f, yy, xx] == D_LOCKED or doors[f, yy, xx] == D_BARRICADED):
                    continue
                if k >= 4 and _squeezes_past_corner(tiles, f, y0, x0, yy, xx):
                    continue
                nt = (f * H + yy) * W + xx
                if occupancy[nt] >= params[Param.MAX_PER_TILE]:
                    continue
                if follow:
                    score = float((yy - row[leader]) ** 2 + (xx - col[leader]) ** 2)
                else:
                    score = _flee_score(field[nt], yy, xx, seen_y[i], seen_x[i], fleeing, tile_m)
                if score < best - 1e-6:
                    best = score
                    bf = f
                    by = yy
                    bx = xx
            for e in range(stair_ptr[cur], stair_ptr[cur + 1]):
                dest = stair_to[e]
                if follow or occupancy[dest] >= params[Param.MAX_PER_TILE]:
                    continue
                if field[dest] < best - 1e-6:
                    best = field[dest]
                    bf = dest // (H * W)
                    by = (dest // W) % H
                    bx = dest % W
            if bf < 0:
                break
            if bf != f:
                step = params[Param.STAIRS_COST_M]
            else:
                step = tile_m * (_SQRT2 if (by != y0 and bx != x0) else 1.0)
            if tiles[bf, by, bx] == T_DOOR and doors[bf, by, bx] == D_CLOSED:
                doors[bf, by, bx] = D_OPEN
                step += params[Param.OPEN_TIME_S] * speed
                _log(ev_t, ev_i, n_ev, t, EV_OPEN, i, -1, bf, by, bx)
            budget[i] -= step
            _move(i, bf, by, bx, floor, row, col, occupancy, tile_head, agent_next, H, W)
        if intent[i] == GOTO and goal_fields[goal[i]][(floor[i] * H + row[i]) * W + col[i]] <= 0.0:
            intent[i] = CALM  # arrived


# --- sacrifices: going back for someone, luring zombies away -------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _way_out(room, ty, tx, far, t, params, tiles, doors, room_of, room_door_ptr, room_doors, door_watch, occupancy,
             state, floor, row, col, cell_zombies, cell_next, H, W) -> int:  # fmt: skip
    """A door of `room` to slip out by, as door * tiles.size + the flat tile just outside it; -1 if none.

    The door is shut, barricaded (the desks are pulled aside) or open, but neither locked nor broken,
    nobody pushed it for `_HOLD_MEMORY_S`, and the tile outside is free with no zombie within
    `_PEEK_TILES` of it (one listens at the door first). Of those, the one nearest (ty, tx), or with
    `far` the farthest from it.
    """
    best = -1
    best_score = 1e18
    for e in range(room_door_ptr[room], room_door_ptr[room + 1]):
        d = room_doors[e]
        df = d // (H * W)
        dy = (d // W) % H
        dx = d % W
        s = doors[df, dy, dx]
        if s == D_LOCKED or s == D_BROKEN or door_watch[0, df, dy, dx] >= t - _HOLD_MEMORY_S:
            continue
        for k in range(4):
            yy = dy + _DY[k]
            xx = dx + _DX[k]
            if yy < 0 or yy >= H or xx < 0 or xx >= W:
                continue
            tile = tiles[df, yy, xx]
            if _impassable(tile) or tile == T_DOOR or room_of[df, yy, xx] == room:
                continue
            out = (df * H + yy) * W + xx
            if occupancy[out] >= params[Param.MAX_PER_TILE] or _zombie_at(
                df, yy, xx, _PEEK_TILES, state, floor, row, col, cell_zombies, cell_next
            ):
                continue
            score = float((dy - ty) ** 2 + (dx - tx) ** 2)
            if far:
                score = -score
            if score < best_score:
                best_score = score
                best = d * tiles.size + out
            break
    return best


@nb.njit(cache=True, _nrt=False)
def _zombie_at(f, y, x, reach, state, floor, row, col, cell_zombies, cell_next) -> bool:
    """Whether a zombie (idle or not) stands within `reach` tiles of (f, y, x); `reach` is at most CELL."""
    _, CH, CW = cell_zombies.shape
    cy0 = y // CELL
    cx0 = x // CELL
    for cy in range(max(0, cy0 - 1), min(CH, cy0 + 2)):
        for cx in range(max(0, cx0 - 1), min(CW, cx0 + 2)):
            z = cell_zombies[f, cy, cx]
            while z >= 0:
                if state[z] == ZOMBIE and floor[z] == f and abs(row[z] - y) <= reach and abs(col[z] - x) <= reach:
                    return True
                z = cell_next[z]
    return False


@nb.njit(cache=True, _nrt=False)
def _slip_out(i, way, params, tiles, doors, door_hp, floor, row, col, walk_speed, budget, occupancy, tile_head,
              agent_next, H, W) -> int:  # fmt: skip
    """Person i leaves their room by the door of `way` (see `_way_out`) and shuts it behind them; returns the door."""
    d = way // tiles.size
    out = way % tiles.size
    df = d // (H * W)
    dy = (d // W) % H
    dx = d % W
    if doors[df, dy, dx] == D_BARRICADED:
        # The desks are pulled aside, and not put back from outside: the door is only shut now.
        doors[df, dy, dx] = D_CLOSED
        door_hp[df, dy, dx] = min(door_hp[df, dy, dx], params[Param.DOOR_BREAK_S])
    _move(i, out // (H * W), (out // W) % H, out % W, floor, row, col, occupancy, tile_head, agent_next, H, W)
    budget[i] = -params[Param.OPEN_TIME_S] * walk_speed[i]  # the door pulled shut behind them on the way
    return d


@nb.njit(cache=True, _nrt=False)
def _try_lure(i, t, params, tiles, doors, door_hp, room_of, room_door_ptr, room_doors, room, state, intent, floor, row,
              col, walk_speed, budget, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev, courage, group, door_watch,
              sac_room, sac_since, out_ptr, out_to, care_weight, cell_zombies, cell_next, rng):  # fmt: skip
    """Hidden person i, in a group, may slip out of their besieged refuge by another door to draw the zombies off."""
    _, H, W = tiles.shape
    dt = params[Param.TICK_S]
    d = _attacked_door(room, t, 2.0 * dt, doors, room_door_ptr, room_doors, door_watch, H, W)
    if d < 0:
        return
    # What they risk themselves for: the mean tie to the members of their group hidden with them.
    f = floor[i]
    members = 0
    tie = 0.0
    for j in range(state.shape[0]):
        if (
            j != i
            and group[j] == group[i]
            and (state[j] == HEALTHY or state[j] == BITTEN)
            and floor[j] == f
            and room_of[f, row[j], col[j]] == room
        ):
            members += 1
            for e in range(out_ptr[i], out_ptr[i + 1]):
                if out_to[e] == j:
                    tie += care_weight[e]
    if members == 0 or tie <= 0.0:
        return
    for j in range(state.shape[0]):
        if intent[j] == LURE and sac_room[j] == room and (state[j] == HEALTHY or state[j] == BITTEN):
            return  # one decoy at a time: a second would only die beside the first
    way = _way_out(room, (d // W) % H, d % W, True, t, params, tiles, doors, room_of, room_door_ptr, room_doors,
                   door_watch, occupancy, state, floor, row, col, cell_zombies, cell_next, H, W)  # fmt: skip
    if way < 0:
        return
    if _uniform(rng) < params[Param.LURE_CHANCE_PER_S] * courage[i] * (tie / members) * dt:
        door = _slip_out(i, way, params, tiles, doors, door_hp, floor, row, col, walk_speed, budget, occupancy,
                         tile_head, agent_next, H, W)  # fmt: skip
        intent[i] = LURE
        sac_room[i] = room
        sac_since[i] = t
        _log(ev_t, ev_i, n_ev, t, EV_LURE, i, -1, door // (H * W), (door // W) % H, door % W)


@nb.njit(cache=True, _nrt=False)
def _stop_lure(i, t, intent, row, col, seen_at, seen_y, seen_x):
    # Done (or spent): now they run for their own life, from where they are, toward any refuge.
    intent[i] = FLEE
    seen_at[i] = t
    seen_y[i] = row[i]
    seen_x[i] = col[i]


@nb.njit(cache=True, _nrt=False)
def _try_go_back(i, t, params, tiles, doors, door_hp, room_of, room_door_ptr, room_doors, room, state, intent, floor,
                 row, col, walk_speed, budget, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev, courage, door_watch,
                 sac_other, sac_room, sac_since, out_ptr, out_to, care_weight, seen_at, cell_zombies, cell_next,
                 rng):  # fmt: skip
    """Hidden person i may go back out for the person they are most strongly tied to, if that one is in danger nearby."""
    _, H, W = tiles.shape
    f = floor[i]
    reach = params[Param.FOLLOW_TILES]
    best = -1
    best_w = 0.0
    for e in range(out_ptr[i], out_ptr[i + 1]):
        j = out_to[e]
        w = care_weight[e]
        if w < params[Param.GO_BACK_TIES] or w <= best_w or state[j] != HEALTHY or floor[j] != f:
            continue
        if intent[j] == GOTO or intent[j] == FETCH or intent[j] == HIDE or intent[j] == HOLD or intent[j] == LURE:
            continue  # on their way somewhere, already being fetched, hidden themselves, or luring by choice
        if max(abs(row[j] - row[i]), abs(col[j] - col[i])) > reach or room_of[f, row[j], col[j]] == room:
            continue
        # In danger: running from what they saw or heard, or a zombie on the prowl close to them.
        if t - seen_at[j] >= params[Param.FLEE_MEMORY_S] and _prowler_near(
            j, _DANGER_TILES, floor, row, col, intent, cell_zombies, cell_next
        ) < 0:
            continue
        best = j
        best_w = w
    if best < 0:
        return
    way = _way_out(room, row[best], col[best], False, t, params, tiles, doors, room_of, room_door_ptr, room_doors,
                   door_watch, occupancy, state, floor, row, col, cell_zombies, cell_next, H, W)  # fmt: skip
    if way < 0:
        return
    if _uniform(rng) < params[Param.GO_BACK_CHANCE_PER_S] * courage[i] * best_w * params[Param.TICK_S]:
        door = _slip_out(i, way, params, tiles, doors, door_hp, floor, row, col, walk_speed, budget, occupancy,
                         tile_head, agent_next, H, W)  # fmt: skip
        intent[i] = FETCH
        sac_other[i] = best
        sac_room[i] = room
        sac_since[i] = t
        _log(ev_t, ev_i, n_ev, t, EV_GO_BACK, i, best, door // (H * W), (door // W) % H, door % W)


@nb.njit(cache=True, _nrt=False)
def _fetch_act(i, t, params, tiles, doors, room_of, room_door_ptr, room_doors, room_zombies, stair_ptr, stair_to, lure,
               room_lure, state, intent, floor, row, col, walk_speed, sprint_speed, stamina, stamina_max, budget,
               seen_at, seen_y, seen_x, hidden_since, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev, sac_other,
               sac_room, sac_since):  # fmt: skip
    """One tick of a rescue: the rescuer runs to the one they went back for, then both head back to the refuge.

    The rescuer (sac_since >= 0) decides: it gives up when the other is bitten or gone or time runs
    out, and once both are inside the refuge it logs SAVED and both hide again. The one fetched only
    walks back to the refuge (and waits inside) while its rescuer is still at it.
    """
    _, H, W = tiles.shape
    f = floor[i]
    j = sac_other[i]
    room = sac_room[i]
    here_room = room_of[f, row[i], col[i]]
    h = room_lure[room]
    if sac_since[i] < 0.0:  # being fetched
        if j < 0 or intent[j] != FETCH or sac_other[j] != i or state[j] != HEALTHY:
            sac_other[i] = -1
            _stop_lure(i, t, intent, row, col, seen_at, seen_y, seen_x)  # on their own again: run
        elif here_room != room:
            _walk(i, t, 1, h, 0, 0, params, tiles, doors, lure, stair_ptr, stair_to, floor, row, col, walk_speed,
                  sprint_speed, stamina, stamina_max, budget, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev)  # fmt: skip
        return
    met = intent[j] == FETCH and sac_other[j] == i and sac_since[j] < 0.0
    if (
        state[j] != HEALTHY
        or t - sac_since[i] > params[Param.GO_BACK_S]
        or (not met and floor[j] != f)
        or room_zombies[room] > 0
    ):
        # Too late, too long, or the refuge fell: whoever is left runs for it.
        sac_other[i] = -1
        sac_since[i] = -1.0
        _stop_lure(i, t, intent, row, col, seen_at, seen_y, seen_x)
        if met:
            sac_other[j] = -1
            _stop_lure(j, t, intent, row, col, seen_at, seen_y, seen_x)
        return
    if not met:
        if floor[j] == f and max(abs(row[j] - row[i]), abs(col[j] - col[i])) <= 1:
            sac_other[j] = i  # reached them: "come with me"
            sac_room[j] = room
            sac_since[j] = -1.0
            intent[j] = FETCH
        else:
            _walk(i, t, 0, -1, row[j], col[j], params, tiles, doors, lure, stair_ptr, stair_to, floor, row, col,
                  walk_speed, sprint_speed, stamina, stamina_max, budget, occupancy, tile_head, agent_next, ev_t, ev_i,
                  n_ev)  # fmt: skip
        return
    if here_room != room:
        _walk(i, t, 1, h, 0, 0, params, tiles, doors, lure, stair_ptr, stair_to, floor, row, col, walk_speed,
              sprint_speed, stamina, stamina_max, budget, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev)  # fmt: skip
        return
    if room_of[floor[j], row[j], col[j]] == room:
        _log(ev_t, ev_i, n_ev, t, EV_SAVED, i, j, f, row[i], col[i])
        _close_room(i, t, room, doors, room_door_ptr, room_doors, occupancy, H, W, ev_t, ev_i, n_ev)
        for p in (i, j):
            intent[p] = HIDE
            sac_other[p] = -1
            sac_since[p] = -1.0
        hidden_since[i] = t  # and the desks go back against the door
        hidden_since[j] = -1.0
    # else: inside, holding the door open for them


@nb.njit(cache=True, _nrt=False)
def _walk(i, t, mode, h, ty, tx, params, tiles, doors, lure, stair_ptr, stair_to, floor, row, col, walk_speed,
          sprint_speed, stamina, stamina_max, budget, occupancy, tile_head, agent_next, ev_t, ev_i, n_ev):  # fmt: skip
    """Person i runs (while stamina lasts): mode 0 toward (ty, tx) on their floor, 1 up lure row h (to its
    room), 2 down it (away from the room). Shut doors are opened on the way; locked or barricaded ones block."""
    _, H, W = tiles.shape
    dt = params[Param.TICK_S]
    tile_m = params[Param.TILE_M]
    if stamina[i] > 0.0:
        speed = sprint_speed[i]
        stamina[i] -= dt
    else:
        speed = walk_speed[i]
        stamina[i] = min(stamina_max[i], stamina[i] + 0.5 * dt)
    budget[i] = min(budget[i] + speed * dt, 2.0 * speed * dt + 2.0 * tile_m)
    for _ in range(32):
        if budget[i] < tile_m:
            break
        f = floor[i]
        y0 = row[i]
        x0 = col[i]
        cur = (f * H + y0) * W + x0
        if mode == 0:
            best = float((y0 - ty) ** 2 + (x0 - tx) ** 2)
        elif mode == 1:
            best = -float(lure[h, cur])
        else:
            best = float(lure[h, cur])
        bf = -1
        by = -1
        bx = -1
        for k in range(8):
            yy = y0 + _DY[k]
            xx = x0 + _DX[k]
            if yy < 0 or yy >= H or xx < 0 or xx >= W or _impassable(tiles[f, yy, xx]):
                continue
            if tiles[f, yy, xx] == T_DOOR and (doors[f, yy, xx] == D_LOCKED or doors[f, yy, xx] == D_BARRICADED):
                continue
            if k >= 4 and _squeezes_past_corner(tiles, f, y0, x0, yy, xx):
                continue
            nt = (f * H + yy) * W + xx
            if occupancy[nt] >= params[Param.MAX_PER_TILE]:
                continue
            if mode == 0:
                score = float((yy - ty) ** 2 + (xx - tx) ** 2)
            elif mode == 1:
                score = -float(lure[h, nt])
            else:
                score = float(lure[h, nt])
            if score < best - 1e-6:
                best = score
                bf = f
                by = yy
                bx = xx
        if mode != 0:
            for e in range(stair_ptr[cur], stair_ptr[cur + 1]):
                dest = stair_to[e]
                if occupancy[dest] >= params[Param.MAX_PER_TILE]:
                    continue
                score = -float(lure[h, dest]) if mode == 1 else float(lure[h, dest])
                if score < best - 1e-6:
                    best = score
                    bf = dest // (H * W)
                    by = (dest // W) % H
                    bx = dest % W
        if bf < 0:
            break
        if bf != f:
            step = params[Param.STAIRS_COST_M]
        else:
            step = tile_m * (_SQRT2 if (by != y0 and bx != x0) else 1.0)
        if tiles[bf, by, bx] == T_DOOR and doors[bf, by, bx] == D_CLOSED:
            doors[bf, by, bx] = D_OPEN
            step += params[Param.OPEN_TIME_S] * speed
            _log(ev_t, ev_i, n_ev, t, EV_OPEN, i, -1, bf, by, bx)
        budget[i] -= step
        _move(i, bf, by, bx, floor, row, col, occupancy, tile_head, agent_next, H, W)


@nb.njit(cache=True, _nrt=False)
def _flee_score(field_value, y, x, zy, zx, fleeing, tile_m) -> float:
    # Fleeing trades progress toward safety against distance from the danger: within ~10 m of it,
    # getting away matters more than the shortest way.
    if not fleeing:
        return field_value
    d = math.sqrt(float((y - zy) ** 2 + (x - zx) ** 2)) * tile_m
    return field_value - 2.0 * min(d, 10.0)


@nb.njit(cache=True, _nrt=False)
def _prowler_near(i, reach, floor, row, col, intent, cell_zombies, cell_next) -> int:
    """A zombie that is not idle within `reach` tiles of person i on its floor (walls do not matter); -1 if none."""
    _, CH, CW = cell_zombies.shape
    f = floor[i]
    cy0 = row[i] // CELL
    cx0 = col[i] // CELL
    for cy in range(max(0, cy0 - 1), min(CH, cy0 + 2)):
        for cx in range(max(0, cx0 - 1), min(CW, cx0 + 2)):
            z = cell_zombies[f, cy, cx]
            while z >= 0:
                if (
                    intent[z] != IDLE
                    and floor[z] == f
                    and abs(row[z] - row[i]) <= reach
                    and abs(col[z] - col[i]) <= reach
                ):
                    return z
                z = cell_next[z]
    return -1


@nb.njit(cache=True, _nrt=False)
def _member_outside(i, g, room, reach, group, state, floor, row, col, room_of) -> int:
    """A member of group g, alive, on i's floor within `reach` tiles but outside `room`; -1 if none."""
    f = floor[i]
    for j in range(group.shape[0]):
        if group[j] != g or j == i or (state[j] != HEALTHY and state[j] != BITTEN) or floor[j] != f:
            continue
        if max(abs(row[j] - row[i]), abs(col[j] - col[i])) <= reach and room_of[f, row[j], col[j]] != room:
            return j
    return -1


@nb.njit(cache=True, _nrt=False)
def _attacked_door(room, t, within, doors, room_door_ptr, room_doors, door_watch, H, W) -> int:
    """Flat index of a shut door of `room` that zombies pushed in the last `within` seconds; -1 if none."""
    if room < 0:
        return -1
    for e in range(room_door_ptr[room], room_door_ptr[room + 1]):
        d = room_doors[e]
        df = d // (H * W)
        dy = (d // W) % H
        dx = d % W
        if doors[df, dy, dx] != D_OPEN and doors[df, dy, dx] != D_BROKEN and door_watch[0, df, dy, dx] >= t - within:
            return d
    return -1


@nb.njit(cache=True, _nrt=False)
def _step_toward(i, ty, tx, room, tiles, room_of, max_per_tile, floor, row, col, occupancy, tile_head, agent_next,
                 H, W):  # fmt: skip
    """One step of person i toward (ty, tx) without leaving `room`."""
    f = floor[i]
    best = (row[i] - ty) ** 2 + (col[i] - tx) ** 2
    by = -1
    bx = -1
    for k in range(8):
        yy = row[i] + _DY[k]
        xx = col[i] + _DX[k]
        if yy < 0 or yy >= H or xx < 0 or xx >= W or room_of[f, yy, xx] != room or _impassable(tiles[f, yy, xx]):
            continue
        if tiles[f, yy, xx] == T_DOOR or occupancy[(f * H + yy) * W + xx] >= max_per_tile:
            continue
        d = (yy - ty) ** 2 + (xx - tx) ** 2
        if d < best:
            best = d
            by = yy
            bx = xx
    if by >= 0:
        _move(i, f, by, bx, floor, row, col, occupancy, tile_head, agent_next, H, W)


@nb.njit(cache=True, _nrt=False)
def _close_room(i, t, room, doors, room_door_ptr, room_doors, occupancy, H, W, ev_t, ev_i, n_ev):
    for e in range(room_door_ptr[room], room_door_ptr[room + 1]):
        d = room_doors[e]
        df = d // (H * W)
        dy = (d // W) % H
        dx = d % W
        if doors[df, dy, dx] == D_OPEN and occupancy[d] == 0:
            doors[df, dy, dx] = D_CLOSED
            _log(ev_t, ev_i, n_ev, t, EV_CLOSE, i, -1, df, dy, dx)


@nb.njit(cache=True, _nrt=False)
def _barricade_room(i, t, room, doors, door_hp, strength, room_door_ptr, room_doors, H, W, ev_t, ev_i, n_ev):
    if room < 0:
        return
    for e in range(room_door_ptr[room], room_door_ptr[room + 1]):
        d = room_doors[e]
        df = d // (H * W)
        dy = (d // W) % H
        dx = d % W
        if doors[df, dy, dx] == D_CLOSED:
            doors[df, dy, dx] = D_BARRICADED
            door_hp[df, dy, dx] += strength
            _log(ev_t, ev_i, n_ev, t, EV_BARRICADE, i, -1, df, dy, dx)


# --- minds ------------------------------------------------------------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _minds_act(t, dt_m, params, tiles, doors, light, room_of, state, intent, floor, row, col, seen_at, seen_y, seen_x,
               strength, sprint_speed, turn_at, will_be_hambie, ever_bitten, minds, tile_head, agent_next, rng,
               rng_infect, ev_t, ev_i, n_ev, social):  # fmt: skip
    """Stress and grief of the living; hunger, discovery and fate of hambies. Runs every MIND_EVERY ticks.

    `minds` = (stress, hunger, hambie_status, screamed_at, last_state, in_ptr, in_from, in_weight, out_ptr,
    out_to, out_weight, screams_in_terror): ties in both directions as CSR (row v of `in_*` lists who is tied *to*
    v, so who grieves v; row i of `out_*` lists whom i is tied to). Weights lie in [0, 1].
    `screams_in_terror`: each person's screams since their stress last sat at or below `scream_above`.
    """
    (stress, hunger, hambie_status, screamed_at, last_state, in_ptr, in_from, in_weight, out_ptr, out_to,
     out_weight, screams_in_terror) = minds  # fmt: skip
    _, H, W = tiles.shape
    n = state.shape[0]
    # Losses since the last look. A turn is grieved by everyone tied to the person (word travels by
    # phone); a bite only by those near enough to see it.
    for v in range(n):
        s = state[v]
        was = last_state[v]
        if s == was:
            continue
        last_state[v] = s
        if s == HAMBIE:  # LORE: stronger and faster than before, and fed for now
            strength[v] *= params[Param.HAMBIE_STRENGTH_GAIN]
            sprint_speed[v] *= params[Param.HAMBIE_SPEED_GAIN]
            hunger[v] = 0.0
            continue
        # Bitten, or turned (and perhaps stopped at once) since the last look.
        if not ((was == HEALTHY or was == BITTEN) and (s == BITTEN or s == ZOMBIE or s == DEAD)):
            continue
        for e in range(in_ptr[v], in_ptr[v + 1]):
            j = in_from[e]
            if state[j] != HEALTHY and state[j] != BITTEN and state[j] != HAMBIE:
                continue
            if s == BITTEN and (
                floor[j] != floor[v]
                or abs(row[j] - row[v]) > _GRIEF_SIGHT_TILES
                or abs(col[j] - col[v]) > _GRIEF_SIGHT_TILES
            ):
                continue
            stress[j] = min(1.0, stress[j] + params[Param.GRIEF] * in_weight[e])
            _log(ev_t, ev_i, n_ev, t, EV_GRIEF, j, v, floor[j], row[j], col[j])

    for i in range(n):
        s = state[i]
        if s == HAMBIE:
            _hambie_act(i, t, dt_m, params, tiles, doors, room_of, state, intent, floor, row, col, seen_at, seen_y,
                        seen_x, turn_at, will_be_hambie, ever_bitten, stress, hunger, hambie_status, out_ptr, out_to,
                        out_weight, tile_head, agent_next, rng, rng_infect, ev_t, ev_i, n_ev, H, W)  # fmt: skip
            continue
        if s != HEALTHY and s != BITTEN:
            continue
        f = floor[i]
        _set_stress(i, _stress_after(i, t, dt_m, params, light, state, intent, floor, row, col, seen_at, stress,
                                     out_ptr, out_to, out_weight), params, stress, screams_in_terror)  # fmt: skip
        if _may_scream(i, stress[i], t, params, screamed_at, screams_in_terror) and _uniform(rng) < params[Param.SCREAM_CHANCE_PER_S] * dt_m:
            screamed_at[i] = t
            screams_in_terror[i] += 1
            _log(ev_t, ev_i, n_ev, t, EV_SCREAM, i, -1, f, row[i], col[i])
        if _may_bolt(i, stress[i], params, intent) and _uniform(rng) < params[Param.PANIC_CHANCE_PER_S] * dt_m:
            intent[i] = FLEE  # bolts, from nothing in particular: away from where they hid
            seen_at[i] = t
            seen_y[i] = row[i]
            seen_x[i] = col[i]
            _log(ev_t, ev_i, n_ev, t, EV_PANIC, i, -1, f, row[i], col[i])
        if _may_split(i, stress[i], params, social[0], social[2]) and _uniform(rng) < params[Param.SPLIT_CHANCE_PER_S] * dt_m:
            g = social[0][i]
            leader = social[1][g]
            social[0][i] = -1
            if leader == i:
                social[1][g] = -1  # the others are on their own now
            _log(ev_t, ev_i, n_ev, t, EV_ABANDON, i, leader, f, row[i], col[i])


@nb.njit(cache=True, _nrt=False)
def _stress_after(i, t, dt_m, params, light, state, intent, floor, row, col, seen_at, stress, out_ptr, out_to,
                  out_weight) -> float:  # fmt: skip
    """Person i's stress one minds step on: danger, darkness and siege raise it; safety eases it, faster among friends."""
    f = floor[i]
    danger = t - seen_at[i] < params[Param.FLEE_MEMORY_S]
    rise = 0.0
    if danger:
        rise += params[Param.STRESS_DANGER_PER_S]
    if not light[f, row[i], col[i]]:
        rise += params[Param.STRESS_DARK_PER_S]
    if intent[i] == HIDE and t >= params[Param.SIEGE_AFTER_S]:
        rise += params[Param.STRESS_SIEGE_PER_S]
    fall = 0.0
    if not danger:
        # Comfort: the people one is close to, within a few steps.
        comfort = 0.0
        for e in range(out_ptr[i], out_ptr[i + 1]):
            j = out_to[e]
            if (
                (state[j] == HEALTHY or state[j] == BITTEN or state[j] == HAMBIE)
                and floor[j] == f
                and abs(row[j] - row[i]) <= 3
                and abs(col[j] - col[i]) <= 3
            ):
                comfort += out_weight[e]
        fall = params[Param.STRESS_RELIEF_PER_S] * (1.0 + min(comfort, 2.0))
        if not light[f, row[i], col[i]]:
            fall /= 3.0  # fear fades slowly in the dark: alone there, it holds; among friends, it eases
    return min(1.0, max(0.0, stress[i] + dt_m * (rise - fall)))


@nb.njit(cache=True, _nrt=False)
def _hambie_act(h, t, dt_m, params, tiles, doors, room_of, state, intent, floor, row, col, seen_at, seen_y, seen_x,
                turn_at, will_be_hambie, ever_bitten, stress, hunger, hambie_status, out_ptr, out_to, out_weight,
                tile_head, agent_next, rng, rng_infect, ev_t, ev_i, n_ev, H, W):  # fmt: skip
    """One hambie: hunger grows (faster near the living); the starving bite unless restrained; the signs give it away."""
    f = floor[h]
    hunger[h] = min(1.0, hunger[h] + dt_m * _hunger_rate(h, params, state, floor, row, col, tile_head, agent_next, H, W))
    next_to = -1  # a living person on a neighbouring tile, nothing in between
    for dy in range(-1, 2):
        for dx in range(-1, 2):
            yy = row[h] + dy
            xx = col[h] + dx
            if next_to >= 0 or yy < 0 or yy >= H or xx < 0 or xx >= W:
                continue
            if _blocked_between(tiles, doors, f, row[h], col[h], yy, xx):
                continue
            p = tile_head[(f * H + yy) * W + xx]
            while p >= 0 and next_to < 0:
                if state[p] == HEALTHY:
                    next_to = p
                p = agent_next[p]
    if next_to < 0:
        return
    bites = (
        hunger[h] >= 1.0
        and hambie_status[h] != RESTRAINED
        and _uniform(rng) < params[Param.HAMBIE_BITE_CHANCE_PER_S] * dt_m
    )
    if bites:
        state[next_to] = BITTEN
        ever_bitten[0] += 1
        turn_at[next_to] = t + _turn_delay(rng_infect, params[Param.TURN_MEDIAN_S], params[Param.TURN_SIGMA])
        will_be_hambie[next_to] = _uniform(rng_infect) < params[Param.HAMBIE_FRACTION]
        seen_at[next_to] = t
        seen_y[next_to] = row[h]
        seen_x[next_to] = col[h]
        _log(ev_t, ev_i, n_ev, t, EV_BITE, next_to, h, f, row[next_to], col[next_to])
        hunger[h] = 0.2  # fed, for a while
    found_out = hambie_status[h] == SECRET and (bites or hunger[h] > params[Param.REVEAL_HUNGER])
    if found_out or (hambie_status[h] == KEPT and bites):  # a kept hambie that bites is judged again
        _log(ev_t, ev_i, n_ev, t, EV_FOUND, h, next_to, f, row[h], col[h])
        _hambie_vote(h, next_to, t, room_of, state, intent, floor, row, col, seen_at, seen_y, seen_x, stress,
                     hambie_status, out_ptr, out_to, out_weight, ev_t, ev_i, n_ev)  # fmt: skip


@nb.njit(cache=True, _nrt=False)
def _hunger_rate(h, params, state, floor, row, col, tile_head, agent_next, H, W) -> float:
    """How fast hambie h grows hungry: faster with a healthy person within two steps (the smell of blood)."""
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            yy = row[h] + dy
            xx = col[h] + dx
            if yy < 0 or yy >= H or xx < 0 or xx >= W:
                continue
            p = tile_head[(floor[h] * H + yy) * W + xx]
            while p >= 0:
                if state[p] == HEALTHY:
                    return params[Param.HUNGER_PER_S] + params[Param.BLOOD_HUNGER_PER_S]
                p = agent_next[p]
    return params[Param.HUNGER_PER_S] + 0.0


@nb.njit(cache=True, _nrt=False)
def _hambie_vote(h, finder, t, room_of, state, intent, floor, row, col, seen_at, seen_y, seen_x, stress,
                 hambie_status, out_ptr, out_to, out_weight, ev_t, ev_i, n_ev):  # fmt: skip
    """The people with the finder decide: keep the hambie, restrain it, or drive it out.

    Every living person in the finder's room (or within 4 tiles outside rooms) votes with three weights:
    their tie to the hambie for keeping it, their stress beyond that tie for driving it out, and an even
    0.5 for the middle way of restraining it. The heaviest option wins; ties go to the gentler one.
    """
    f = floor[finder]
    room = room_of[f, row[finder], col[finder]]
    keep = 0.0
    expel = 0.0
    restrain = 0.0
    for v in range(state.shape[0]):
        if (state[v] != HEALTHY and state[v] != BITTEN) or floor[v] != f:
            continue
        if room >= 0:
            if room_of[f, row[v], col[v]] != room:
                continue
        elif abs(row[v] - row[finder]) > 4 or abs(col[v] - col[finder]) > 4:
            continue
        tie = 0.0
        for e in range(out_ptr[v], out_ptr[v + 1]):
            if out_to[e] == h:
                tie = max(tie, out_weight[e])
        keep += tie
        expel += max(0.0, stress[v] - tie)
        restrain += 0.5
    if keep >= restrain and keep >= expel:
        hambie_status[h] = KEPT
        kind = EV_KEPT
    elif restrain >= expel:
        hambie_status[h] = RESTRAINED
        intent[h] = HIDE  # tied up where it stands
        kind = EV_RESTRAINED
    else:
        hambie_status[h] = EXPELLED
        intent[h] = FLEE  # away from the people who drove it out
        seen_at[h] = t
        seen_y[h] = row[finder]
        seen_x[h] = col[finder]
        kind = EV_EXPELLED
    _log(ev_t, ev_i, n_ev, t, kind, h, finder, floor[h], row[h], col[h])


# --- senses ----------------------------------------------------------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _nearest_visible(i, sight_lit, sight_dark, tile_m, flat_tiles, flat_doors, light, sight_rects, walled_pairs, floor, row, col, cell_head,
                     cell_rows, cell_next, intent, skip_idle) -> int:  # fmt: skip
    """Nearest agent of the cell lists `cell_head` (zombies, or people zombies hunt) that agent i sees; -1 if none.

    Only the sensing cells within the lit sight range are visited (no per-agent field of view), and of
    those only the ones `cell_rows` marks as holding anyone (bit cx of row cy; bit 63 stands for every
    cell from 63 on); a target standing in the dark is seen only within the dark range; line of sight
    is tested only for a candidate nearer than the best so far, and not at all for one in the
    observer's open rectangle (`senses.open_rectangles`); lines of sight read the building's tiles and doors
    as flat views (`flat_tiles`, `flat_doors`, made once per tick by the caller). With `skip_idle`, idle agents are not seen
    (the bitten take no fright at zombies that stand and pay them no heed: zombies pass the bitten by).
    """
    _, CH, CW = cell_head.shape
    f = floor[i]
    y0 = row[i]
    x0 = col[i]
    rect = sight_rects[f, y0, x0]
    cy0 = y0 // CELL
    cx0 = x0 // CELL
    rings = _sight_rings(sight_lit, tile_m)
    # Most looks late in a run find nobody near at all: one test of the whole square of cells first.
    window = _bits_from(min(max(0, cx0 - rings), 63)) & _bits_upto(min(CW - 1, cx0 + rings, 63))
    for cy in range(max(0, cy0 - rings), min(CH, cy0 + rings + 1)):
        if cell_rows[f, cy] & window != 0:
            break
    else:
        return -1
    sight_max2 = max(sight_lit, sight_dark) ** 2
    best = -1
    best_d2 = 1e18
    # Rings of cells outward from the agent's own: once a ring lies wholly beyond the best found,
    # nothing farther can beat it (what makes a crowded corridor cheap).
    for ring in range(rings + 1):
        if ring >= 2 and best_d2 <= ((ring - 1) * CELL * tile_m) ** 2:
            break
        lo = max(0, cx0 - ring)
        hi = min(CW - 1, cx0 + ring)
        for cy in range(max(0, cy0 - ring), min(CH, cy0 + ring + 1)):
            marked = cell_rows[f, cy]
            if marked == 0:
                continue  # (most rows, late in a run)
            if cy == cy0 - ring or cy == cy0 + ring:  # the ring's top or bottom row: all of it, in order
                bits = marked & _bits_from(lo) & _bits_upto(min(hi, 63))
                while bits != 0:
                    low = bits & -bits
                    bits ^= low
                    cx = _BIT_INDEX[(np.uint64(low) * _DE_BRUIJN) >> np.uint64(58)]
                    for c in range(cx, hi + 1 if cx == 63 else cx + 1):
                        best, best_d2 = _look_in_cell(i, f, cy, c, y0, x0, rect, best, best_d2, sight_lit, sight_dark,
                                                      sight_max2, tile_m, flat_tiles, flat_doors, light, sight_rects,
                                                      walled_pairs, floor, row, col, cell_head, cell_next, intent,
                                                      skip_idle)  # fmt: skip
            else:  # a row in between: only the ring's two ends
                for c in (cx0 - ring, cx0 + ring):
                    if 0 <= c < CW and marked & (np.int64(1) << min(c, 63)) != 0:
                        best, best_d2 = _look_in_cell(i, f, cy, c, y0, x0, rect, best, best_d2, sight_lit, sight_dark,
                                                      sight_max2, tile_m, flat_tiles, flat_doors, light, sight_rects,
                                                      walled_pairs, floor, row, col, cell_head, cell_next, intent,
                                                      skip_idle)  # fmt: skip
    return best


# By event kind: those that open, shut or break a door (slipping out shuts one: it is logged as going
# back or luring, which `noises.OPENS_WAYS` holds, as it holds barricades and breaches).
_MOVES_A_DOOR = noises.OPENS_WAYS.copy()
_MOVES_A_DOOR[[EV_OPEN, EV_CLOSE]] = True


@nb.njit(cache=True, _nrt=False, inline="always")
def _count_door_changes(ev_i, n_ev, sight_clock):
    """Count, in `sight_clock[1]`, the events since the last count that opened, shut or broke a door."""
    for k in range(sight_clock[0], n_ev[0]):
        if _MOVES_A_DOOR[ev_i[k, 0]]:
            sight_clock[1] += 1
    sight_clock[0] = n_ev[0]


@nb.njit(cache=True, _nrt=False, inline="always")
def _sight_rings(sight_lit, tile_m) -> int:
    """How many rings of sensing cells around its own a look visits (`_nearest_visible`)."""
    return int(sight_lit / tile_m) // CELL + 1


@nb.njit(cache=True, _nrt=False, inline="always")
def _prey_moved(tile, tick, prey_changed, H, W):
    f, cy, cx = _cell_of(tile, H, W)
    prey_changed[f, cy, cx] = tick


@nb.njit(cache=True, _nrt=False, inline="always")
def _prey_still(prey_changed, f, y, x, rings, since) -> bool:
    """No prey came, left or moved since tick `since` in the cells within `rings` of (y, x) on floor f."""
    _, CH, CW = prey_changed.shape
    cy0 = y // CELL
    cx0 = x // CELL
    for cy in range(max(0, cy0 - rings), min(CH, cy0 + rings + 1)):
        for cx in range(max(0, cx0 - rings), min(CW, cx0 + rings + 1)):
            if prey_changed[f, cy, cx] > since:
                return False
    return True


# Which bit a one-bit mask holds, by de Bruijn multiplication (bit 63 included): no log2 per marked cell.
_DE_BRUIJN = np.uint64(0x07EDD5E59A4E28C2)
_BIT_INDEX = np.zeros(64, dtype=np.int64)
_BIT_INDEX[[((1 << k) * 0x07EDD5E59A4E28C2 % (1 << 64)) >> 58 for k in range(64)]] = np.arange(64)


@nb.njit(cache=True, _nrt=False, inline="always")
def _bits_from(lo):
    return ~((np.int64(1) << lo) - 1)  # bits lo..63


@nb.njit(cache=True, _nrt=False, inline="always")
def _bits_upto(hi):
    return np.int64(-1) if hi >= 63 else (np.int64(1) << (hi + 1)) - 1  # bits 0..hi


@nb.njit(cache=True, _nrt=False, inline="always")
def _look_in_cell(i, f, cy, cx, y0, x0, rect, best, best_d2, sight_lit, sight_dark, sight_max2, tile_m, flat_tiles,
                  flat_doors, light, sight_rects, walled_pairs, floor, row, col, cell_head, cell_next, intent,
                  skip_idle):  # fmt: skip
    """The nearest seen so far after the agents of one cell, as (agent, squared distance); `rect`: the observer's.

    `flat_tiles`, `flat_doors`: the building's tiles and doors as flat views; `sight_max2` the longer
    sight range squared (most candidates are beyond it: they are let go before their tile's light is read).
    """
    _, H, W = light.shape
    p = cell_head[f, cy, cx]
    while p >= 0:
        if p != i and floor[p] == f and not (skip_idle and intent[p] == IDLE):
            yy = row[p]
            xx = col[p]
            d2 = ((yy - y0) ** 2 + (xx - x0) ** 2) * tile_m * tile_m
            if d2 >= best_d2 or d2 > sight_max2:
                p = cell_next[p]
                continue
            reach_m = sight_lit if light[f, yy, xx] else sight_dark
            if (
                d2 <= reach_m * reach_m
                and (
                    (rect >= 0 and sight_rects[f, yy, xx] == rect)
                    or _sees_across(flat_tiles, flat_doors, walled_pairs, f, H, W, y0, x0, yy, xx)
                )
            ):
                best = p
                best_d2 = d2
        p = cell_next[p]
    return best, best_d2


@nb.njit(cache=True, _nrt=False)
def _sees_across(flat_tiles, flat_doors, walled_pairs, f, H, W, y0, x0, y1, x1) -> bool:
    """Line of sight between two tiles of floor f, remembering the pairs a wall parts for good.

    A line that a wall (or void) blocks both ways (behind a shut door too: lines are followed past
    doors) stays blocked whatever the doors do, and in a crowd the same pairs are tested tick after
    tick: `walled_pairs` (`walled_table`: a hash table of such pairs, two to a bucket, the last
    stored first) answers those without tracing. It only ever holds pairs that are blocked for good,
    so it changes the time a look takes, never what is seen.
    """
    base = f * H * W
    per_floor = H * W
    a = y0 * W + x0
    b = y1 * W + x1
    key = 1 + f * per_floor * per_floor + (a * per_floor + b if a < b else b * per_floor + a)  # 0: an empty place
    slot = (np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - _WALLED_BITS)
    if walled_pairs[slot, 0] == key or walled_pairs[slot, 1] == key:
        return False
    # Either line will do (Bresenham's tie-breaks depend on direction), as in `senses._line_of_sight`.
    there = _trace(flat_tiles, flat_doors, base, W, y0, x0, y1, x1, True)
    if there == LINE_CLEAR:
        return True
    back = _trace(flat_tiles, flat_doors, base, W, y1, x1, y0, x0, True)
    if back == LINE_CLEAR:
        return True
    if there == LINE_WALLED and back == LINE_WALLED:
        walled_pairs[slot, 1] = walled_pairs[slot, 0]
        walled_pairs[slot, 0] = key
    return False


def walled_table(shape: tuple[int, int, int]) -> np.ndarray:
    """An empty table of pairs a wall parts for good (`_sees_across`) for a building of this (F, H, W) shape.

    Keys of 4 bytes where every pair's key fits (the default school's do: 512 KB, which stays in a
    core's cache far more than the 2 MB of 8-byte keys did), else of 8.
    """
    floors, rows, cols = shape
    fits = floors * (rows * cols) ** 2 < 2**32 - 1
    return np.zeros((WALLED_PAIRS, 2), dtype=np.uint32 if fits else np.int64)


# --- the tile index, moves, and small helpers ------------------------------------------------------


@nb.njit(cache=True, _nrt=False)
def _index_tiles(state, floor, row, col, H, W, occupancy, tile_head, agent_next):
    """File everyone not yet gone in the tile index, which the last call left empty (`_empty_tile_index`)."""
    for i in range(state.shape[0]):
        s = state[i]
        if s == DEAD or s == ESCAPED or s == RESCUED:
            continue
        tile = (floor[i] * H + row[i]) * W + col[i]
        occupancy[tile] += 1
        agent_next[i] = tile_head[tile]
        tile_head[tile] = i


@nb.njit(cache=True, _nrt=False)
def _empty_tile_index(state, floor, row, col, H, W, occupancy, tile_head):
    """Empty the tile index at the end of a call, by the tiles of those filed in it.

    The index is current at every return (moves, exits and deaths keep it so), so this empties it
    all: cheaper than clearing every tile of the building at each of thousands of calls per run.
    """
    for i in range(state.shape[0]):
        s = state[i]
        if s == DEAD or s == ESCAPED or s == RESCUED:
            continue
        tile = (floor[i] * H + row[i]) * W + col[i]
        occupancy[tile] = 0
        tile_head[tile] = -1


@nb.njit(cache=True, _nrt=False)
def _index_cells(state, floor, row, col, cell_zombies, cell_prey, cell_next, prey_on_floor, zombie_rows, prey_rows):
    """Sensing cells: one linked list of zombies and one of the people zombies hunt, per cell, and per row
    of cells a bit mask of the cells that hold any (see `_nearest_visible`)."""
    _clear_cells(cell_zombies, cell_prey, zombie_rows, prey_rows, prey_on_floor)
    for i in range(state.shape[0]):
        s = state[i]
        if s == ZOMBIE:
            heads = cell_zombies
            rows = zombie_rows
        elif s == HEALTHY:
            heads = cell_prey
            rows = prey_rows
            prey_on_floor[floor[i]] += 1
        else:
            continue
        _file_in_cell(i, floor[i], row[i] // CELL, col[i] // CELL, heads, rows, cell_next)


@nb.njit(cache=True, _nrt=False, inline="always")
def _clear_cells(cell_zombies, cell_prey, zombie_rows, prey_rows, prey_on_floor):
    cell_zombies[:] = -1
    cell_prey[:] = -1
    zombie_rows[:] = 0
    prey_rows[:] = 0
    prey_on_floor[:] = 0


@nb.njit(cache=True, _nrt=False, inline="always")
def _file_in_cell(i, f, cy, cx, cell_head, cell_rows, cell_next):
    """Agent i at the head of its sensing cell's list; the cell marked in its row's mask (bit 63: any from 63 on)."""
    cell_next[i] = cell_head[f, cy, cx]
    cell_head[f, cy, cx] = i
    cell_rows[f, cy] |= np.int64(1) << min(cx, 63)


@nb.njit(cache=True, _nrt=False, inline="always")
def _cell_of(tile, H, W):
    """(floor, cell row, cell column) of the sensing cell holding flat `tile`."""
    f = tile // (H * W)
    rest = tile - f * H * W
    y = rest // W
    return f, y // CELL, (rest - y * W) // CELL


@nb.njit(cache=True, _nrt=False)
def _file_zombie(i, tile, H, W, room_flat, room_zombies, cell_zombies, zombie_rows, cell_next):
    """Zombie i filed in the sensing cell of flat `tile` and counted in its room (see `_advance`).

    The cell's list stays in descending index order, the order `_index_cells` gives (who is seen
    first among equals depends on it).
    """
    f, cy, cx = _cell_of(tile, H, W)
    p = cell_zombies[f, cy, cx]
    if p < i:
        cell_next[i] = p
        cell_zombies[f, cy, cx] = i
    else:
        while cell_next[p] > i:
            p = cell_next[p]
        cell_next[i] = cell_next[p]
        cell_next[p] = i
    zombie_rows[f, cy] |= np.int64(1) << min(cx, 63)
    r = room_flat[tile]
    if r >= 0:
        room_zombies[r] += 1


@nb.njit(cache=True, _nrt=False)
def _unfile_zombie(i, tile, H, W, room_flat, room_zombies, cell_zombies, zombie_rows, cell_next):
    """Undo `_file_zombie(i, tile, ...)`; a cell left empty is unmarked in its row's mask."""
    f, cy, cx = _cell_of(tile, H, W)
    p = cell_zombies[f, cy, cx]
    if p == i:
        cell_zombies[f, cy, cx] = cell_next[i]
    else:
        while cell_next[p] != i:
            p = cell_next[p]
        cell_next[p] = cell_next[i]
    if cell_zombies[f, cy, cx] < 0:
        empty = True
        if cx >= 63:  # bit 63 stands for every cell from 63 on
            for c in range(63, cell_zombies.shape[2]):
                empty &= cell_zombies[f, cy, c] < 0
        if empty:
            zombie_rows[f, cy] &= ~(np.int64(1) << min(cx, 63))
    r = room_flat[tile]
    if r >= 0:
        room_zombies[r] -= 1


@nb.njit(cache=True, _nrt=False)
def _first_at_or_after(agents, count, start) -> int:
    """Position in the sorted list `agents[:count]` of the first agent >= start (0 if none: the order wraps)."""
    lo = 0
    hi = count
    while lo < hi:
        mid = (lo + hi) // 2
        if agents[mid] < start:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < count else 0


@nb.njit(cache=True, _nrt=False)
def _move(i, nf, ny, nx, floor, row, col, occupancy, tile_head, agent_next, H, W):
    """Move agent i and keep the tile index current.

    Each tile's list stays in descending index order, the order `_index_tiles` builds it in: who is
    met first on a shared tile must not depend on where Python cut the run into kernel calls (a
    debug run, one tick per call, would part ways with a normal one at the first such meeting).
    """
    old = (floor[i] * H + row[i]) * W + col[i]
    new = (nf * H + ny) * W + nx
    occupancy[old] -= 1
    _unlink(i, old, tile_head, agent_next)
    occupancy[new] += 1
    p = tile_head[new]
    if p < i:
        agent_next[i] = p
        tile_head[new] = i
    else:
        while agent_next[p] > i:
            p = agent_next[p]
        agent_next[i] = agent_next[p]
        agent_next[p] = i
    floor[i] = nf
    row[i] = ny
    col[i] = nx


@nb.njit(cache=True, _nrt=False)
def _unlink(i, tile, tile_head, agent_next):
    p = tile_head[tile]
    prev = -1
    while p >= 0:
        if p == i:
            if prev < 0:
                tile_head[tile] = agent_next[p]
            else:
                agent_next[prev] = agent_next[p]
            return
        prev = p
        p = agent_next[p]


@nb.njit(cache=True, _nrt=False, inline="always")
def _impassable(tile) -> bool:
    return tile == T_WALL or tile == T_VOID or tile == T_WINDOW


@nb.njit(cache=True, _nrt=False)
def _blocked_between(tiles, doors, f, y0, x0, y1, x1) -> bool:
    """Can two neighbours on a floor not touch? Walls, shut doors, or a diagonal past a corner."""
    t1 = tiles[f, y1, x1]
    if _impassable(t1):
        return True
    if t1 == T_DOOR and doors[f, y1, x1] != D_OPEN and doors[f, y1, x1] != D_BROKEN:
        return True
    return y0 != y1 and x0 != x1 and _squeezes_past_corner(tiles, f, y0, x0, y1, x1)


@nb.njit(cache=True, _nrt=False)
def _squeezes_past_corner(tiles, f, y0, x0, y1, x1) -> bool:
    """A diagonal step is refused if either tile it cuts past is a wall, window, void or door frame."""
    return _solid(tiles[f, y0, x1]) or _solid(tiles[f, y1, x0])


@nb.njit(cache=True, _nrt=False, inline="always")
def _solid(tile) -> bool:
    return tile == T_WALL or tile == T_VOID or tile == T_WINDOW or tile == T_DOOR


@nb.njit(cache=True, _nrt=False)
def _log(ev_t, ev_i, n_ev, t, kind, a, b, f, y, x):
    k = n_ev[0]
    if k < ev_t.shape[0]:
        ev_t[k] = t
        ev_i[k, 0] = kind
        ev_i[k, 1] = a
        ev_i[k, 2] = b
        ev_i[k, 3] = f
        ev_i[k, 4] = y
        ev_i[k, 5] = x
        n_ev[0] = k + 1


@nb.njit(cache=True, _nrt=False)
def record_counts(counts, r, t_rec, state, floor):
    counts[r, 0] = t_rec
    counts[r, 1:] = 0
    for i in range(state.shape[0]):
        s = state[i]
        counts[r, 1 + s] += 1
        if s != ESCAPED and s != RESCUED:
            counts[r, 1 + N_STATES * (1 + floor[i]) + s] += 1


@nb.njit(cache=True, _nrt=False)
def _record_frame(t, state, floor, row, col, last, tr_t, tr_i, n_tr):
    """Store only agents whose tile or state changed since their last stored row (the replay fills forward)."""
    for i in range(state.shape[0]):
        if floor[i] != last[i, 0] or row[i] != last[i, 1] or col[i] != last[i, 2] or state[i] != last[i, 3]:
            j = n_tr[0]
            tr_t[j] = t
            tr_i[j, 0] = i
            tr_i[j, 1] = floor[i]
            tr_i[j, 2] = row[i]
            tr_i[j, 3] = col[i]
            tr_i[j, 4] = state[i]
            n_tr[0] = j + 1
            last[i, 0] = floor[i]
            last[i, 1] = row[i]
            last[i, 2] = col[i]
            last[i, 3] = state[i]


# --- random numbers --------------------------------------------------------------------------------------


@nb.njit(cache=True, _nrt=False, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(cache=True, _nrt=False)
def _uniform(s) -> float:
    """Next float in [0, 1) from a xoshiro256** state, updated in place."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return float(result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True, _nrt=False)
def _normal(s) -> float:
    u1 = _uniform(s)
    u2 = _uniform(s)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@nb.njit(cache=True, _nrt=False)
def _turn_delay(s, median, sigma) -> float:
    if sigma > 0.0:
        return median * math.exp(sigma * _normal(s))
    if sigma < 0.0:  # exponential with that median
        return -median / math.log(2.0) * math.log(1.0 - _uniform(s))
    return median
