"""Codes shared by the school kernels and Python: agent states, intents, event kinds, parameter slots."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["EventKind", "HambieStatus", "Intent", "Param", "State"]


class State(IntEnum):
    """What a person is now. Legal changes only: healthy -> bitten -> zombie or hambie; zombie -> dead."""

    HEALTHY = 0
    BITTEN = 1
    ZOMBIE = 2
    HAMBIE = 3
    DEAD = 4  # a zombie stopped for good
    ESCAPED = 5  # left the building through an exit before the army sealed it
    RESCUED = 6  # taken away by a rescue


class Intent(IntEnum):
    """What an agent is trying to do this tick."""

    CALM = 0  # stays where they are (in class, in the staff room)
    FLEE = 1  # runs from a zombie it saw, toward safety
    HIDE = 2  # in a room with the doors shut, quiet
    GOTO = 3  # walks to a place: patient zero to the infirmary, everyone to the rescue
    CHASE = 4  # zombie: runs at a person it saw, or where it last saw one
    HUNT = 5  # zombie: walks toward a sound it heard
    WANDER = 6  # zombie: nothing seen or heard
    IDLE = 7  # zombie: nothing for a while; stands still and only looks and listens now and then
    HOLD = 8  # holds the attacked door of the room they hide in, from the inside
    FETCH = 9  # went back out for someone close in danger, or is being brought back by them
    LURE = 10  # slipped out of a besieged refuge and runs off shouting, to draw the zombies away
    FREEZE = 11  # frozen in terror: neither runs, hides nor fights back, until no zombie has been in sight a while


class EventKind(IntEnum):
    """Kinds of events the kernel logs; world events are logged by Python with kinds >= 100."""

    BITE = 1
    TURN = 2
    HAMBIE = 3
    KILL = 4  # a person stops a zombie
    DOOR_OPEN = 5
    DOOR_CLOSE = 6
    BARRICADE = 7
    BREACH = 8  # zombies break a closed or barricaded door
    ESCAPE = 9
    RESCUE = 10
    SCREAM = 11  # stress boiled over: a loud, alarming sound
    PANIC = 12  # a hidden person bolts from the room
    GRIEF = 13  # someone close (other) was bitten or turned
    HAMBIE_FOUND = 14  # a person (other) finds out that a hambie (person) is one
    HAMBIE_KEPT = 15  # the vote that follows: the group keeps the hambie among them...
    HAMBIE_RESTRAINED = 16  # ...ties it up...
    HAMBIE_EXPELLED = 17  # ...or drives it out
    HOLD_DOOR = 18  # a person holds the attacked door of their refuge so the others have time
    ABANDON = 19  # a person leaves their group (other: its leader)
    WAIT = 20  # a group's leader waits at a refuge for a member still outside (other)
    GO_BACK = 21  # a hidden person (person) leaves their refuge to fetch someone close in danger (other)
    SAVED = 22  # ...and is back inside with them (person: the rescuer, other: the one fetched)
    LURE = 23  # a hidden person slips out of their besieged refuge to draw the zombies away (place: the door)
    SHOUT = 24  # a luring person shouts: a loud sound that draws zombies and alarms nobody
    FREEZE = 25  # a person in terror, fleeing, freezes where they stand
    PATIENT_ZERO = 100
    SEAL = 101
    POWER_CUT = 102
    POWER_ON = 103
    RESCUE_ARRIVES = 104
    RESCUE_LEAVES = 105
    ANNOUNCEMENT = 106
    PHONE_CALL = 107
    OPEN_EXITS = 108
    CLOSE_EXITS = 109
    UNBARRICADE = 110  # people called out by a rescue pull down their room's barricades


class Param(IntEnum):
    """Slots of the float64 parameter vector handed to the kernel (all SI units)."""

    TICK_S = 0
    TILE_M = 1
    STAIRS_COST_M = 2
    PERSON_SIGHT_LIT = 3
    PERSON_SIGHT_DARK = 4
    ZOMBIE_SIGHT_LIT = 5
    ZOMBIE_SIGHT_DARK = 6
    ZOMBIE_WALK = 7
    ZOMBIE_SPRINT = 8
    ZOMBIE_HEARING_DB = 9
    BITE_CHANCE_PER_S = 10
    STOP_CHANCE_PER_BLOW = 11
    DOOR_BREAK_S = 12
    CLOSE_TIME_S = 13
    OPEN_TIME_S = 14
    BARRICADE_TIME_S = 15
    BARRICADE_STRENGTH_S = 16
    HAMBIE_FRACTION = 17
    TURN_MEDIAN_S = 18
    TURN_SIGMA = 19  # lognormal shape; 0 = fixed; -1 = exponential
    RECORD_EVERY_S = 20
    TRAJECTORY_EVERY_S = 21
    EXITS_OPEN = 22  # 1.0 while people may leave through exits
    MAX_PER_TILE = 23
    FLEE_MEMORY_S = 24
    SCREAM_DB = 25
    RESCUE_ROOM = 26  # room index while a rescue waits, else -1
    CHATTER_DB = 27  # one calm person talking, at 1 m
    PERSON_HEARING_DB = 28
    IDLE_AFTER_S = 29  # a wandering zombie with nothing to chase goes idle after this long
    STRESS_DANGER_PER_S = 30
    STRESS_DARK_PER_S = 31
    SIEGE_AFTER_S = 32
    STRESS_SIEGE_PER_S = 33
    STRESS_RELIEF_PER_S = 34
    GRIEF = 35
    SCREAM_ABOVE = 36
    SCREAM_CHANCE_PER_S = 37
    PANIC_ABOVE = 38
    PANIC_CHANCE_PER_S = 39
    HUNGER_PER_S = 40
    BLOOD_HUNGER_PER_S = 41
    HAMBIE_BITE_CHANCE_PER_S = 42
    REVEAL_HUNGER = 43
    HAMBIE_STRENGTH_GAIN = 44
    HAMBIE_SPEED_GAIN = 45
    WAIT_S = 46  # longest a leader waits at a refuge for members outside
    FOLLOW_TILES = 47  # members farther from their leader than this go their own way
    SPLIT_ABOVE = 48
    SPLIT_CHANCE_PER_S = 49
    BULLY_MARGIN = 50
    HOLD_CHANCE_PER_S = 51
    HOLD_STRENGTH = 52
    GO_BACK_CHANCE_PER_S = 53
    GO_BACK_TIES = 54  # weakest tie one goes back for
    GO_BACK_S = 55  # longest a rescuer stays out
    LURE_CHANCE_PER_S = 56
    LURE_S = 57  # how long a lurer keeps luring
    SHOUT_EVERY_S = 58
    FREEZE_ABOVE = 59
    FREEZE_CHANCE_PER_S = 60
    THAW_PER_S = 61  # 1 / the mean length of a freeze
    STOP_WHEN_DIED_OUT = 62  # 1.0 once patient zero came and no other is to come: no one infectious, the run ends
    SCREAM_GAP_S = 63  # a person's first wait between screams
    SCREAM_GAP_GROWTH = 64  # each scream multiplies the wait before the next, while the fear lasts
    N = 65


class HambieStatus(IntEnum):
    """What the people around a hambie know and decided about it."""

    SECRET = 0  # nobody knows yet
    KEPT = 1  # found out; the group keeps it among them
    RESTRAINED = 2  # found out; tied up, it cannot bite
    EXPELLED = 3  # found out; driven away, it keeps away from them
