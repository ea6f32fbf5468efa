"""Scenarios: the TOML files that describe a world, validated into a `Scenario` with clear errors.

A scenario has six parts: ``[run]`` (clock and seed), ``[world]`` (floor plans, rooms, doors),
``[people]``, ``[zombie]``, ``[infection]`` and ``[[events]]`` (the schedule of world events).
Every value has a default and a unit (see `hyosan.units`); unknown keys are errors with a
"did you mean" hint. A scenario can start from another with ``extends = "hyosan-high"`` and
override a few values: tables merge key by key, arrays (floors, doors, events) replace the parent's.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from hyosan.errors import UserInputError
from hyosan.units import CANONICAL_UNIT, Duration, Length, Level, Speed

__all__ = [
    "MAX_PEOPLE",
    "DoorSetting",
    "Doors",
    "Event",
    "Floor",
    "Infection",
    "People",
    "RoomSetting",
    "Run",
    "Scenario",
    "TurnDelay",
    "World",
    "Zombie",
    "builtin_scenarios",
    "load_scenario",
]

MAX_PEOPLE = 1_000_000  # a school-scale agent model; cities and countries need a compartment model
MAX_SCENARIO_BYTES = 2_000_000
Probability = typing.Annotated[float, Field(ge=0.0, le=1.0)]


def _headcount(n: int) -> int:
    if n > MAX_PEOPLE:
        raise ValueError(
            f"{n:,} people is more than the {MAX_PEOPLE:,} a school-scale agent model takes; "
            "a city or a country needs a compartment model, not one agent per person"
        )
    return n


Headcount = typing.Annotated[int, Field(ge=0), AfterValidator(_headcount)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Run(_Section):
    """Clock and randomness of a run."""

    seed: int = Field(1, ge=0, le=2**63 - 1, description="Seed of the run's random streams.")
    tick: Duration = Field(1.0, gt=0, le=60, description="Simulated time per tick (s).")
    duration: Duration = Field(
        72 * 3600.0,
        gt=0,
        le=365 * 86400,
        description="How long to simulate (s); LORE: several days.",
    )
    record_every: Duration = Field(60.0, gt=0, description="Time between rows of the time series (s).")
    start_clock: str = Field("08:30", description="Wall-clock time of day at the start, HH:MM, for reports.")
    trajectory_every: Duration = Field(
        10.0,
        gt=0,
        description="Time between position snapshots for the replay (s); only changes are stored.",
    )

    @field_validator("start_clock")
    @classmethod
    def _clock(cls, v: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"expected a time of day HH:MM such as 08:30; got {v!r}")
        return v


class RoomSetting(_Section):
    """What a room label on a floor plan means."""

    name: str = Field(min_length=1, description="Name of the room, unique in the building.")
    light: bool = Field(True, description="Lights on at the start.")


class Floor(_Section):
    """One floor of the building; floors are listed bottom to top."""

    name: str = Field(min_length=1, description="Short name of the floor, e.g. 1F.")
    map: Path = Field(description="Floor-plan file: plain text, or Tiled JSON (.tmj); relative to the scenario file.")
    layer: str | None = Field(None, description="Tiled maps: name of the tile layer to read (default: the first).")
    rooms: dict[str, RoomSetting] = Field(default_factory=dict, description="Room labels on this floor's map.")

    @field_validator("rooms")
    @classmethod
    def _labels(cls, v: dict[str, RoomSetting]) -> dict[str, RoomSetting]:
        for label in v:
            if len(label) != 1 or not (label.isascii() and label.isalpha()):
                raise ValueError(f"room labels are single letters a-z or A-Z; got {label!r}")
        return v


class DoorSetting(_Section):
    """The starting state of one door, at its position on a floor plan."""

    floor: str = Field(description="Name of the floor.")
    row: int = Field(ge=1, description="Map row of the door tile (1-based, as an editor shows it).")
    col: int = Field(ge=1, description="Map column of the door tile (1-based).")
    state: Literal["open", "closed", "locked", "barricaded"] = Field(description="Starting state.")
    barricade_strength: Duration | None = Field(
        None,
        ge=0,
        description="Barricades: time one zombie needs to break it (s); several add force.",
    )


class World(_Section):
    """The building."""

    tile_m: Length = Field(1.0, gt=0, le=10, description="Size of one map tile (m).")
    max_density: float = Field(
        2.0,
        gt=0,
        le=6,
        description="People per square metre when counting the building's capacity.",
    )
    corridor_light: bool = Field(True, description="Lights on at the start in unlabelled corridors.")
    floors: list[Floor] = Field(min_length=1, max_length=200, description="Floors, bottom to top.")
    doors: list[DoorSetting] = Field(
        default_factory=list,
        description="Doors that start in another state than their map symbol says.",
    )


class People(_Section):
    """Who is in the building and how they move and sense."""

    students: Headcount = Field(
        0, description="Number of students in all, named ones included (ignored with a roster unless `fill`)."
    )
    teachers: Headcount = Field(0, description="Number of teachers.")
    staff: Headcount = Field(0, description="Number of other staff.")
    soldiers: Headcount = Field(0, description="Number of soldiers.")
    roster: Path | None = Field(
        None,
        description="Named people: a CSV file (columns name, role, class, room, traits) or a TOML file "
        "([[person]] and [[tie]] entries); relative to the scenario file.",
    )
    ties: Path | None = Field(
        None,
        description="CSV file of ties between named people (columns person, other, kind, weight); "
        "relative to the scenario file.",
    )
    characters: bool = Field(
        False, description="Put the show's named characters in the school, with their classes and ties (LORE.md)."
    )
    fill: bool = Field(
        False,
        description="With a roster: generated people fill each role up to the counts (the roster's people count "
        "toward them); without, the roster is the whole population.",
    )
    names: Literal["numbered", "korean"] = Field(
        "numbered", description='Names of generated people: "numbered" (Student 12) or "korean" (drawn per seed).'
    )
    generated_ties: bool = Field(
        False,
        description="Give generated people plausible ties: classmates as friends, a few best friends, crushes, "
        "rivals and bullies, and homeroom teachers.",
    )
    walk_speed: Speed = Field(1.4, gt=0, le=15, description="Walking speed (m/s).")
    sprint_speed: Speed = Field(5.5, gt=0, le=15, description="Sprinting speed of a fit student (m/s).")
    sprint_stamina: Duration = Field(40.0, gt=0, description="How long a person can sprint before slowing (s).")
    sight_range_lit: Length = Field(30.0, gt=0, description="How far a person sees in a lit room (m).")
    sight_range_dark: Length = Field(4.0, ge=0, description="How far a person sees in the dark (m).")
    hearing_threshold: Level = Field(
        45.0, description="Quietest sound that alarms a person: a scream or a bang, not distant talk (dB)."
    )
    chatter_level: Level = Field(
        50.0,
        description="Level of one calm person talking, at 1 m (dB); voices in a room add up, and zombies hear them.",
    )

    @property
    def total(self) -> int:
        return self.students + self.teachers + self.staff + self.soldiers

    @model_validator(mode="after")
    def _total(self) -> People:
        _headcount(self.total)
        return self


class Zombie(_Section):
    """How the infected hunt (LORE: fast, relentless, immune to pain, drawn by sound, poor sight in the dark)."""

    walk_speed: Speed = Field(1.0, gt=0, le=15, description="Speed when wandering with no target (m/s).")
    sprint_speed: Speed = Field(7.0, gt=0, le=15, description="Speed when chasing (m/s); faster than a student.")
    sight_range_lit: Length = Field(25.0, gt=0, description="How far a zombie sees in the light (m).")
    sight_range_dark: Length = Field(2.0, ge=0, description="How far a zombie sees in the dark (m).")
    hearing_threshold: Level = Field(20.0, description="Quietest sound a zombie turns toward (dB).")
    bite_chance: Probability = Field(0.6, description="Chance that a zombie in contact bites in one second.")
    stop_chance_per_blow: Probability = Field(
        0.03,
        description="Chance that one second of blows from an average person stops a zombie for good; injury never slows it.",
    )
    door_break_time: Duration = Field(90.0, gt=0, description="Time one zombie needs to break a closed door (s).")


class Doors(_Section):
    """How people use doors and how long barricades hold."""

    close_time: Duration = Field(3.0, ge=0, description="Time for a person to close a door (s).")
    open_time: Duration = Field(2.0, ge=0, description="Time for a person to open a closed door and pass (s).")
    barricade_time: Duration = Field(
        60.0,
        ge=0,
        description="Time for people hiding in a room to barricade its closed doors (s).",
    )
    barricade_strength: Duration = Field(
        600.0,
        ge=0,
        description="Strength of a barricade: time one zombie needs to break it (s); several zombies add force.",
    )


class TurnDelay(_Section):
    """Time from a bite to turning, drawn per person. Lognormal by default: most turn in minutes, a few in hours."""

    distribution: Literal["lognormal", "exponential", "fixed"] = Field(
        "lognormal", description="Shape of the distribution."
    )
    median: Duration = Field(180.0, gt=0, description="Median time to turn (s).")
    p90: Duration = Field(3600.0, gt=0, description="90th percentile (s), lognormal only: 10% take longer than this.")

    @model_validator(mode="after")
    def _order(self) -> TurnDelay:
        if self.distribution == "lognormal" and self.p90 <= self.median:
            raise ValueError(f"p90 ({self.p90:g} s) must be longer than the median ({self.median:g} s)")
        return self


class Infection(_Section):
    """What a bite does."""

    turn_delay: TurnDelay = Field(default_factory=TurnDelay, description="Delay from bite to turning.")
    hambie_fraction: Probability = Field(0.02, description="Share of the bitten who never fully turn (hambies).")


class Stress(_Section):
    """How fear builds and fades (LORE: teenagers under siege; stress decides who screams, panics or holds on).

    Stress runs from 0 (calm) to 1 (terror). Rates are given as the time a cause needs to take a calm
    person to terror on its own; causes add up.
    """

    danger_fill: Duration = Field(60.0, gt=0, description="Zombies in sight: time from calm to terror (s).")
    dark_fill: Duration = Field(1800.0, gt=0, description="In the dark: time from calm to terror (s).")
    siege_after: Duration = Field(
        6 * 3600.0, ge=0, description="Hunger and thirst start to tell on the hidden after this long (s)."
    )
    siege_fill: Duration = Field(
        12 * 3600.0, gt=0, description="Hunger and thirst in a long siege: time from calm to terror (s)."
    )
    calm_down: Duration = Field(
        600.0,
        gt=0,
        description="Safe, alone and in the light: time from terror back to calm (s); close people nearby shorten "
        "it (up to 3 times), darkness lengthens it (3 times).",
    )
    grief: Probability = Field(
        0.5,
        description="Stress added when someone with a tie of weight 1 is bitten or turns (scaled by the tie's weight).",
    )
    scream_above: Probability = Field(0.8, description="Stress above which a person may scream.")
    scream_chance: Probability = Field(
        0.01,
        description="Chance per second that a person above `scream_above` screams (a loud, alarming sound); "
        "at most one scream per `scream_gap` each.",
    )
    scream_gap: Duration = Field(
        600.0, gt=0, description="Shortest time between two screams of one person, at first (s)."
    )
    scream_gap_growth: float = Field(
        2.0,
        ge=1.0,
        description="Terror mostly silences: each scream multiplies the person's gap before the next by this, for as "
        "long as their stress stays above `scream_above` (10 min, 20 min, 40 min, ...); it falls back to `scream_gap` "
        "once their stress does. 1 = a scream every `scream_gap` for as long as the terror lasts.",
    )
    panic_above: Probability = Field(0.95, description="Stress above which a hidden person may bolt from the room.")
    panic_chance: Probability = Field(0.01, description="Chance per second that a person above `panic_above` bolts.")
    freeze_above: Probability = Field(
        0.95, description="Stress above which a person fleeing a zombie in sight may freeze (fight, flight or freeze)."
    )
    freeze_chance: Probability = Field(
        0.0,
        description="Chance per second that a person above `freeze_above`, fleeing with a zombie in sight, freezes: "
        "stands still, neither hiding nor fighting back (0 = nobody freezes, the default).",
    )
    freeze_time: Duration = Field(
        60.0,
        gt=0,
        description="Mean length of a freeze (s); it also ends once no zombie has been in sight for 30 s.",
    )


class Hambies(_Section):
    """The bitten who never fully turn (LORE: mind and memories kept, stronger, ignored by zombies, hungry)."""

    hunger_fill: Duration = Field(
        12 * 3600.0, gt=0, description="Time for a hambie's hunger to go from fed to starving (s)."
    )
    blood_fill: Duration = Field(
        1200.0, gt=0, description="Next to a living person, the smell of blood: time from fed to starving (s)."
    )
    bite_chance: Probability = Field(
        0.02, description="Chance per second that a starving, unrestrained hambie bites a person next to it."
    )
    reveal_hunger: Probability = Field(
        0.6, description="Hunger above which the signs show (eyes, growls): people next to it find it out; 1 = never."
    )
    strength_gain: float = Field(2.0, ge=1.0, le=10.0, description="Strength of a hambie relative to its human self.")
    speed_gain: float = Field(1.3, ge=1.0, le=3.0, description="Sprint speed of a hambie relative to its human self.")


class Groups(_Section):
    """Who sticks together (LORE: friends, crushes and classmates flee, hide and fight as one; bullies do not)."""

    tie_threshold: Probability = Field(
        0.5, description="Weakest tie (friend, best friend, crush, sibling) that binds two people into a group."
    )
    max_size: int = Field(8, ge=2, le=100, description="Largest group; a bigger circle of friends splits.")
    wait: Duration = Field(20.0, ge=0, description="Longest a leader waits at a refuge for members still outside (s).")
    follow_range: Length = Field(
        15.0, ge=0, description="Members farther than this from their leader go their own way (m)."
    )
    split_above: Probability = Field(0.85, description="Stress above which a member may abandon the group.")
    split_chance: Probability = Field(
        0.003, description="Chance per second of abandoning the group above `split_above` (once in ~6 min)."
    )
    bully_margin: Probability = Field(
        0.3, description="Bullies abandon their group at a stress this much lower than everyone else."
    )
    hold_chance: Probability = Field(
        0.05,
        description="Chance per second (times courage) that a hidden person with a group steps up to hold a door zombies push.",
    )
    hold_strength: float = Field(
        2.0,
        ge=0,
        le=100,
        description="How hard an average person holds a door: the zombies' push is divided by 1 + this.",
    )
    go_back_chance: Probability = Field(
        0.1,
        description="Chance per second (times courage and tie weight) that a hidden person goes back out for someone close in danger nearby; 0 = never.",
    )
    go_back_ties: Probability = Field(
        0.75,
        description="Weakest tie one goes back for (best friends, crushes, siblings, parents; rivals and bullies never count).",
    )
    go_back_time: Duration = Field(
        60.0, ge=0, description="Longest a rescuer stays out; then both run for their lives (s)."
    )
    lure_chance: Probability = Field(
        0.02,
        description="Chance per second (times courage and mean tie to the group) that a hidden person slips out of a besieged refuge by another door to lure the zombies away; 0 = never.",
    )
    lure_time: Duration = Field(60.0, ge=0, description="How long a lurer runs and shouts before fleeing for good (s).")
    shout_level: Level = Field(
        90.0, description="Level of a lurer's shout at 1 m (dB); it draws zombies and alarms nobody."
    )
    shout_every: Duration = Field(5.0, ge=0, description="Time between a lurer's shouts (s); each rings this long.")


EventKind = Literal[
    "patient_zero",
    "seal",
    "power_cut",
    "power_on",
    "rescue",
    "announcement",
    "phone_call",
    "open_exits",
    "close_exits",
]
_NEEDS_ROOM = {"patient_zero", "rescue", "announcement", "phone_call"}
_NOISY = {"announcement": 90.0, "phone_call": 70.0}
# Keys beyond `at`, `kind` and `note` that each kind of event reads; any other key set is an error.
_KEYS_OF_KIND = {
    "patient_zero": {"room", "taken_to", "turn_after", "count"},
    "rescue": {"room", "lasts"},
    "announcement": {"room", "loudness", "lasts", "alarm"},
    "phone_call": {"room", "loudness", "lasts", "alarm"},
}


class Event(_Section):
    """A scheduled world event."""

    at: Duration = Field(ge=0, description="Time since the start (s, or HH:MM).")
    kind: EventKind = Field(description="What happens.")
    room: str | None = Field(None, description="Where: a room name (patient zero, rescue, noises).")
    taken_to: str | None = Field(None, description="patient_zero: the room where they are taken and turn.")
    turn_after: Duration | None = Field(None, gt=0, description="patient_zero: time until they turn (s).")
    count: int = Field(1, ge=1, le=MAX_PEOPLE, description="patient_zero: how many are bitten.")
    loudness: Level | None = Field(None, description="Noises: sound level at the source (dB).")
    lasts: Duration | None = Field(None, gt=0, description="How long it lasts (s): a rescue waits, a noise sounds.")
    alarm: bool = Field(
        False, description="Noises: does it alarm the people who hear it (they hide), or only draw zombies?"
    )
    note: str = Field("", description="Free text shown in reports.")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Event:
        if self.kind in _NEEDS_ROOM and self.room is None:
            raise ValueError(f"a {self.kind} event needs a room")
        allowed = _KEYS_OF_KIND.get(self.kind, set())
        unused = sorted(k for k in self.model_fields_set - {"at", "kind", "note"} if k not in allowed)
        if unused:
            what = ", ".join(sorted(allowed)) or "nothing beyond at, kind and note"
            raise ValueError(f"a {self.kind} event does not use {', '.join(unused)} (it reads {what})")
        if self.kind in _NOISY and self.loudness is None:
            object.__setattr__(self, "loudness", _NOISY[self.kind])
        return self


class Scenario(_Section):
    """A whole world, validated. Build one with `load_scenario`."""

    name: str = Field(min_length=1, description="Short name, used for results folders.")
    description: str = Field("", description="One line shown by `hyosan scenarios`.")
    extends: str | None = Field(None, description="Built-in scenario name or file this one starts from.")
    run: Run = Field(default_factory=Run)
    world: World
    people: People = Field(default_factory=People)
    zombie: Zombie = Field(default_factory=Zombie)
    doors: Doors = Field(default_factory=Doors)
    infection: Infection = Field(default_factory=Infection)
    stress: Stress = Field(default_factory=Stress)
    hambies: Hambies = Field(default_factory=Hambies)
    groups: Groups = Field(default_factory=Groups)
    events: list[Event] = Field(default_factory=list)

    _sources: list[tuple[Path, str]] = PrivateAttr(default_factory=list)

    @property
    def source(self) -> Path | None:
        """The file this scenario was loaded from (the child, when it extends another)."""
        return self._sources[0][0] if self._sources else None

    def content_hash(self) -> str:
        """SHA-256 of the validated content and of the map and roster files it names.

        Files enter by content, not by path, so the same scenario hashes the same on every machine.
        """
        data = self.model_dump(mode="json", exclude={"extends"})
        for floor in data["world"]["floors"]:
            floor["map"] = _file_digest(Path(floor["map"]))
        for key in ("roster", "ties"):
            if data["people"][key] is not None:
                data["people"][key] = _file_digest(Path(data["people"][key]))
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def locate(self, *loc: str | int) -> tuple[Path | None, int | None, int | None]:
        """File, line and column where the value at `loc` (e.g. "events", 2, "room") was written."""
        for path, text in self._sources:
            found = _locate(text, loc, exact=True)
            if found:
                return path, *found
        if self._sources:
            path, text = self._sources[0]
            found = _locate(text, loc, exact=False)
            return (path, *found) if found else (path, None, None)
        return None, None, None

    def error(self, message: str, *loc: str | int) -> UserInputError:
        """A user error pointing at the value at `loc` in the scenario file."""
        path, line, col = self.locate(*loc)
        return UserInputError(message, path, line, col)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return f"missing:{path.name}"


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario names and their files."""
    folder = resources.files("hyosan") / "data" / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def load_scenario(source: str | Path | None = None) -> Scenario:
    """Load and validate a scenario: a built-in name (default ``hyosan-high``) or a TOML file."""
    path = _resolve_source("hyosan-high" if source is None else source, None)
    chain: list[tuple[Path, str]] = []
    data = _load_chain(path, chain)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, chain) from None
    scenario._sources = chain
    return scenario


# --- loading -----------------------------------------------------------------------------------


def _resolve_source(source: str | Path, relative_to: Path | None) -> Path:
    text = str(source)
    builtins = builtin_scenarios()
    looks_like_name = not text.endswith(".toml") and "/" not in text and "\\" not in text
    if looks_like_name and text in builtins:
        return builtins[text]
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to.parent / path
    if path.is_file():
        return path
    if looks_like_name:
        hint = difflib.get_close_matches(text, builtins, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise UserInputError(
            f"no built-in scenario or file named {text!r}{did}. Built-ins: {', '.join(sorted(builtins))}"
        )
    raise UserInputError(f"scenario file not found: {path}", path)


def _load_chain(path: Path, chain: list[tuple[Path, str]]) -> dict[str, Any]:
    if any(p.resolve() == path.resolve() for p, _ in chain):
        names = " -> ".join(str(p) for p, _ in chain)
        raise UserInputError(f"scenarios extend each other in a loop: {names} -> {path}", path)
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise UserInputError(f"scenario file is {size:,} bytes; a scenario is a few kB of settings", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"scenario is not UTF-8 text (byte {exc.start})", path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
        raise UserInputError(f"not valid TOML: {msg}", path, line, col) from None
    chain.append((path, text))
    _make_paths_absolute(data, path)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        line_col = _locate(text, ("extends",), exact=True) or (None, None)
        raise UserInputError("extends must be a scenario name or a file path (a string)", path, *line_col)
    try:
        parent_path = _resolve_source(parent, path)
    except UserInputError as exc:
        line_col = _locate(text, ("extends",), exact=True) or (None, None)
        raise UserInputError(exc.message, path, *line_col) from None
    return _merge(_load_chain(parent_path, chain), data)


def _make_paths_absolute(data: dict[str, Any], path: Path) -> None:
    """Paths in a file are relative to that file, so a child scenario can reuse its parent's maps."""
    base = path.parent
    world = data.get("world")
    if isinstance(world, dict) and isinstance(world.get("floors"), list):
        for floor in world["floors"]:
            if isinstance(floor, dict) and isinstance(floor.get("map"), str):
                floor["map"] = str((base / floor["map"]).resolve())
    people = data.get("people")
    for key in ("roster", "ties"):
        if isinstance(people, dict) and isinstance(people.get(key), str):
            people[key] = str((base / people[key]).resolve())


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- error messages ----------------------------------------------------------------------------


def _validation_error(exc: ValidationError, chain: list[tuple[Path, str]]) -> UserInputError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    message = _describe(first)
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} after this one)"
    for exact in (True, False):
        for path, text in chain:
            found = _locate(text, loc, exact=exact)
            if found:
                return UserInputError(message, path, *found)
    return UserInputError(message, chain[0][0])


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = _dotted(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = sorted(_fields_at(loc[:-1]))
        section = _dotted(loc[:-1]) or "the top level"
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if hint:
            return f"unknown key {key!r} in {section}; did you mean {hint[0]!r}?"
        return f"unknown key {key!r} in {section}; expected one of: {', '.join(allowed)}"
    if kind == "missing":
        return f"missing required key {where}"
    msg = error["msg"]
    msg = msg.removeprefix("Value error, ")
    got = error.get("input")
    unit = _unit_at(loc)
    if unit and kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        # Values arrive converted to the canonical unit: say which, for the bound and for the value.
        bound = re.sub(r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$", rf"\1 {unit}", msg)
        shown = f"{got:g} {unit}" if isinstance(got, int | float) else repr(got)
        return f"{where}: {bound[0].lower()}{bound[1:]}; got {shown}"
    if (
        kind in {"literal_error", "greater_than", "greater_than_equal", "less_than", "less_than_equal"}
        or kind.endswith("_type")
        or kind.endswith("_parsing")
    ):
        return f"{where}: {msg[0].lower()}{msg[1:]}; got {got!r}"
    return f"{where}: {msg}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(loc: tuple[Any, ...]) -> set[str]:
    """Names of the keys allowed at `loc` in the scenario schema."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            if isinstance(model, type) and issubclass(model, BaseModel):
                return set(model.model_fields)
            return set()
        model = _inner_model(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return set(model.model_fields)
    return set()


def _unit_at(loc: tuple[Any, ...]) -> str | None:
    """The canonical unit ("s", "m", "m/s", "dB") of the quantity at `loc`, or None if it is not one."""
    model: Any = Scenario
    field = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = _inner_model(field.annotation)
    if field is None:
        return None
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):  # Duration | None keeps its metadata inside the union
        metadata += list(getattr(arg, "__metadata__", ()))
    for item in metadata:
        dimension = getattr(getattr(item, "func", None), "dimension", None)
        if dimension is not None:
            return CANONICAL_UNIT[dimension]
    return None


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside list[X], dict[str, X] or X | None, else the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in reversed(typing.get_args(annotation)):
            inner = _inner_model(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", key)]


def _locate(text: str, loc: tuple[Any, ...], exact: bool) -> tuple[int, int] | None:
    """Line and column (1-based) of the key at `loc` in TOML `text`.

    tomllib does not keep positions, so we re-read the text: table headers set the current path
    (arrays of tables count their items), and ``key =`` lines extend it. With `exact` False, the
    deepest written prefix of `loc` is returned (e.g. the table of a missing key).
    """
    want = tuple(str(p) for p in loc)
    best: tuple[int, tuple[int, int]] | None = None
    current: list[str] = []
    array_counts: dict[tuple[str, ...], int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            parts = _split_key(header.group(2))
            if header.group(1) == "[[":
                key = tuple(parts)
                array_counts[key] = array_counts.get(key, -1) + 1
                current = [*parts, str(array_counts[key])]
                # nested arrays of tables restart when their parent item changes
                for other in list(array_counts):
                    if len(other) > len(key) and other[: len(key)] == key:
                        del array_counts[other]
            else:
                current = _expand_indices(parts, array_counts)
            path, col = tuple(current), line.index(header.group(2)) + 1
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = (*current, *_split_key(key.group(1)))
            col = len(line) - len(line.lstrip()) + 1
            # Inline tables: look for deeper keys of `loc` on the same line.
            if want[: len(path)] == path and len(want) > len(path):
                rest = line[key.end() :]
                depth = len(path)
                offset = key.end()
                for part in want[len(path) :]:
                    m = re.search(rf"(?<![A-Za-z0-9_-]){re.escape(part)}\s*=", rest)
                    if not m:
                        break
                    col = offset + m.start() + 1
                    offset += m.end()
                    rest = rest[m.end() :]
                    depth += 1
                path = want[:depth]
        if path == want:
            return n, col
        if not exact and want[: len(path)] == path and (best is None or len(path) > best[0]):
            best = (len(path), (n, col))
    return best[1] if best else None


def _expand_indices(parts: list[str], array_counts: dict[tuple[str, ...], int]) -> list[str]:
    """Insert the current item index after each array-of-tables prefix of a [table.header]."""
    out: list[str] = []
    for i, part in enumerate(parts):
        out.append(part)
        prefix = tuple(parts[: i + 1])
        if prefix in array_counts:
            out.append(str(array_counts[prefix]))
    return out
