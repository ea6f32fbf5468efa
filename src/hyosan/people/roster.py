"""The roster of a run: who is in the school (the show's characters, a user's people, generated ones) and their ties.

Named people come from the show's characters shipped with hyosan (``people.characters = true``) and
from a user's roster file (``people.roster``: CSV or TOML), with ties from the TOML roster or a ties
CSV (``people.ties``). Generated people fill each role up to the scenario's counts, with Korean or
numbered names, classes that balance the classrooms, and (``people.generated_ties = true``) a few
plausible ties of their own. Everything random is drawn from the generator handed to `build_roster`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hyosan.errors import UserInputError
from hyosan.people.names import korean_names, numbered_names
from hyosan.world import MAX_ROSTER_BYTES, ROLES

if TYPE_CHECKING:
    from hyosan.building.model import Building
    from hyosan.scenario import Scenario

__all__ = [
    "SYMMETRIC_KINDS",
    "TIE_KINDS",
    "TRAITS",
    "NamedPeople",
    "PersonSpec",
    "Roster",
    "TieSpec",
    "build_roster",
    "classrooms_of",
    "read_named_people",
    "role_counts",
    "seat_people",
]

TIE_KINDS = ("friend", "best_friend", "crush", "rival", "bully", "sibling", "parent", "teacher")
SYMMETRIC_KINDS = frozenset({"friend", "best_friend", "rival", "sibling"})
# Trait overrides a roster may give, with their allowed range.
TRAITS = {"courage": (0.0, 1.0), "strength": (0.0, 10.0), "leadership": (0.0, 1.0), "speed_factor": (0.1, 3.0)}
# Weight of a tie whose file gives none.
DEFAULT_WEIGHT = {
    "friend": 0.7,
    "best_friend": 1.0,
    "crush": 0.8,
    "rival": 0.6,
    "bully": 0.8,
    "sibling": 0.9,
    "parent": 1.0,
    "teacher": 0.5,
}
CHARACTERS_FILE = "hyosan-high.toml"
_PERSON_KEYS = ("name", "role", "class", "room", *TRAITS)
_TIE_KEYS = ("from", "to", "kind", "weight")
_TIE_COLUMNS = ("person", "other", "kind", "weight")
_CLASSROOM = re.compile(r"(?i)^classroom\s+(\S.*)$")

# Generated ties (people.generated_ties): shares and weights, plausible for a Korean high school.
_FRIENDS_EXTRA = (3, 0.5)  # each student has 1 + Binomial(3, 0.5) friends among classmates...
_FRIEND_WEIGHT = (0.3, 0.9)  # ...of this weight
_BEST_FRIEND = (0.3, 0.7, 1.0)  # share of students with a best friend in class, weight range
_CRUSH = (0.1, 0.5, 1.0)  # share with a crush on a classmate, weight range
_RIVAL = (0.05, 0.3, 0.8)
_BULLY = (0.03, 0.5, 1.0)  # share of students who bully 1-3 others of their year
_HOMEROOM_WEIGHT = 0.5
_POOL = 30  # without classrooms, generated students make friends in pools of this size


@dataclass(frozen=True)
class PersonSpec:
    """One named person as a roster file gives them."""

    name: str
    role: str
    class_name: str = ""
    room: str = ""  # where they are at the start ("" = as their role and class say)
    traits: dict[str, float] = field(default_factory=dict)
    file: Path | None = None
    line: int | None = None
    builtin: bool = False  # one of the show's characters shipped with hyosan


@dataclass(frozen=True)
class TieSpec:
    """One tie between named people (or from a teacher to a class) as a file gives it."""

    person: str
    other: str
    kind: str
    weight: float
    file: Path | None = None
    person_at: tuple[int | None, int | None] = (None, None)  # line and column of the names in the file
    other_at: tuple[int | None, int | None] = (None, None)


@dataclass
class NamedPeople:
    """The named people of a scenario and the ties between them, read and checked."""

    people: list[PersonSpec]
    ties: list[TieSpec]


@dataclass
class Roster:
    """Everyone in a run, as arrays in the order the simulation uses (by role in `ROLES` order, named first).

    Trait arrays hold NaN where the person's trait is drawn as usual. `ties` is directed: person ->
    other, kind in `TIE_KINDS`, weight in [0, 1]; symmetric kinds are stored both ways.
    """

    name: np.ndarray
    role: np.ndarray
    class_name: np.ndarray
    named: np.ndarray
    room: np.ndarray
    courage: np.ndarray
    strength: np.ndarray
    leadership: np.ndarray
    speed_factor: np.ndarray
    ties: pd.DataFrame

    def __len__(self) -> int:
        return len(self.name)

    def ties_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ties as compressed rows for kernels: (offsets int64[n+1], other int64[m], kind int8[m], weight float32[m]).

        Person i's ties are entries offsets[i]:offsets[i+1]; kind codes index `TIE_KINDS`.
        """
        n = len(self)
        person = self.ties["person"].to_numpy(dtype=np.int64)
        order = np.argsort(person, kind="stable")
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(person, minlength=n), out=offsets[1:])
        kind = self.ties["kind"].map({k: i for i, k in enumerate(TIE_KINDS)}).to_numpy(dtype=np.int8)
        return (
            offsets,
            self.ties["other"].to_numpy(dtype=np.int64)[order],
            kind[order],
            self.ties["weight"].to_numpy(dtype=np.float32)[order],
        )

    def index_of(self, name: str) -> int:
        """Id of the person called `name` (KeyError if nobody is)."""
        hits = np.flatnonzero(self.name == name)
        if hits.size == 0:
            raise KeyError(name)
        return int(hits[0])


def build_roster(scenario: Scenario, rng: np.random.Generator, classrooms: dict[str, str] | None = None) -> Roster:
    """Everyone in the scenario's school: its named people, then generated ones up to the counts.

    `classrooms` maps class names to room names ("2-5" -> "Classroom 2-5"); by default the rooms of
    the scenario called "Classroom <class>". Names, classes and generated ties each draw from their
    own child of `rng`, so a change in one does not reshuffle the others.
    """
    p = scenario.people
    named = read_named_people(scenario)
    totals = role_counts(scenario, named)
    classrooms = classrooms_of(scenario) if classrooms is None else classrooms
    labelled = _labelled_rooms(scenario)
    names_rng, classes_rng, ties_rng = rng.spawn(3)

    # Named people first within each role, then the generated ones (arrays: a roster may be large).
    order = [person for role in ROLES for person in named.people if person.role == role]
    starts = np.cumsum([0] + [totals[role] for role in ROLES])
    n = int(starts[-1])
    role = np.repeat(np.array(ROLES, dtype=object), [totals[r] for r in ROLES])
    generated = np.ones(n, dtype=bool)
    name = np.full(n, "", dtype=object)
    class_name = np.full(n, "", dtype=object)
    room = np.full(n, "", dtype=object)
    traits = {t: np.full(n, np.nan) for t in TRAITS}
    slot = {r: int(starts[k]) for k, r in enumerate(ROLES)}
    for person in order:
        i = slot[person.role]
        slot[person.role] += 1
        generated[i] = False
        name[i], class_name[i] = person.name, person.class_name
        # A character whose room is not in this school starts wherever their role puts them.
        room[i] = person.room if (not person.builtin or person.room in labelled) else ""
        for trait, value in person.traits.items():
            traits[trait][i] = value
    name[generated] = _generated_names(p.names, list(role[generated]), list(name[~generated]), names_rng)
    students = role == "student"
    class_name[generated & students] = _balanced_classes(
        class_name[~generated & students], int((generated & students).sum()), list(classrooms), classes_rng
    )
    if p.generated_ties:
        _assign_homerooms(class_name, role, generated, list(classrooms))
    ties = [_named_ties(named.ties, name, role, class_name)]
    if p.generated_ties:
        ties.append(_generated_ties(class_name, role, generated, ties_rng))
        homeroom = np.flatnonzero(generated & (role == "teacher") & (class_name != ""))
        ties.append(_class_edges(homeroom, class_name, role, _HOMEROOM_WEIGHT))
    return Roster(
        name=name,
        role=role,
        class_name=class_name,
        named=~generated,
        room=room,
        ties=_tidy_ties(pd.concat(ties, ignore_index=True), n),
        **traits,
    )


def read_named_people(scenario: Scenario) -> NamedPeople:
    """The scenario's named people and their ties, from the show's characters and the user's files, checked.

    A user's person with the name of a character replaces the character. Mistakes raise
    `UserInputError` naming the file, line and column.
    """
    p = scenario.people
    people: list[PersonSpec] = []
    ties: list[TieSpec] = []
    if p.characters:
        folder = resources.files("hyosan") / "data" / "people"
        path = Path(str(folder / CHARACTERS_FILE))
        chars = _read_toml_roster(path, builtin=True)
        people, ties = chars.people, chars.ties
    if p.roster is not None:
        path = Path(p.roster)
        if not path.is_file():
            raise scenario.error(f"roster file not found: {path}", "people", "roster")
        mine = _read_toml_roster(path) if path.suffix.lower() == ".toml" else _read_csv_roster(path)
        replaced = {person.name for person in mine.people}
        people = [c for c in people if c.name not in replaced] + mine.people
        ties += mine.ties
    if p.ties is not None:
        path = Path(p.ties)
        if not path.is_file():
            raise scenario.error(f"ties file not found: {path}", "people", "ties")
        ties += _read_csv_ties(path)
    _check_ties(ties, people, classrooms_of(scenario))
    rooms = _labelled_rooms(scenario)
    for person in people:
        if person.room and not person.builtin and rooms and person.room not in rooms and "corridor" not in person.room:
            raise UserInputError(
                f"no room named {person.room!r}{_did_you_mean(person.room, rooms)}", person.file, person.line
            )
    return NamedPeople(people, ties)


def role_counts(scenario: Scenario, named: NamedPeople | None = None) -> Counter[str]:
    """People by role in a run: the scenario's counts, raised to fit its named people.

    A roster given without ``people.fill`` is the whole population (with the characters, if on).
    """
    from hyosan.scenario import MAX_PEOPLE

    p = scenario.people
    named = read_named_people(scenario) if named is None else named
    have = Counter(person.role for person in named.people)
    counts = {"student": p.students, "teacher": p.teachers, "staff": p.staff, "soldier": p.soldiers}
    if p.roster is not None and not p.fill:
        counts = dict.fromkeys(counts, 0)
    out = Counter({role: max(counts[role], have[role]) for role in ROLES})
    if sum(out.values()) > MAX_PEOPLE:
        raise scenario.error(f"more than {MAX_PEOPLE:,} people in all", "people")
    return +out


def classrooms_of(scenario: Scenario) -> dict[str, str]:
    """Classes of the scenario's school: class name -> room, from rooms called "Classroom <class>"."""
    out = {}
    for room in _labelled_rooms(scenario):
        m = _CLASSROOM.match(room)
        if m:
            out[m.group(1).strip()] = room
    return dict(sorted(out.items(), key=lambda kv: _natural(kv[0])))


def seat_people(
    roster: Roster,
    building: Building,
    position: tuple[np.ndarray, np.ndarray, np.ndarray],
    max_per_tile: int,
    rng: np.random.Generator,
) -> None:
    """Move people whose roster says where they start (a room, or a student's classroom) into that room.

    `position` is the (floor, row, col) arrays of everyone, changed in place. Nobody else moves, and no
    tile holds more than `max_per_tile` people; whoever does not fit stays where they were put.
    """
    from hyosan.building.model import Tile

    floor, row, col = position
    by_name = {r.name.lower(): i for i, r in enumerate(building.rooms)}
    want = np.full(len(roster), -1, dtype=np.int64)
    # Over plain lists: indexing numpy arrays one person at a time cost more than the rest of the seating.
    rooms, classes = roster.room.tolist(), roster.class_name.tolist()
    for i in np.flatnonzero((roster.room != "") | ((roster.role == "student") & (roster.class_name != ""))).tolist():
        wanted = rooms[i] or f"classroom {classes[i]}"
        want[i] = found = by_name.get(str(wanted).lower(), -1)
        if found < 0 and rooms[i]:
            raise UserInputError(f"{roster.name[i]}: no room named {roster.room[i]!r} in this school")
    here = building.room_of[floor, row, col]
    movers = np.flatnonzero((want >= 0) & (here != want))
    if movers.size == 0:
        return
    flat = np.ravel_multi_index((floor, row, col), building.shape)
    stay = np.ones(len(roster), dtype=bool)
    stay[movers] = False
    used = np.bincount(flat[stay], minlength=building.tiles.size)
    free_tiles = building.walkable.ravel() & (building.tiles.ravel() != Tile.EXIT)
    room_of = building.room_of.ravel()
    placed = np.zeros(len(roster), dtype=bool)
    for r in np.unique(want[movers]):
        who = movers[want[movers] == r]
        tiles = np.flatnonzero((room_of == r) & free_tiles)
        slots = np.repeat(tiles, np.maximum(max_per_tile - used[tiles], 0))
        take = min(who.size, slots.size)
        if take == 0:
            continue
        chosen = rng.choice(slots, size=take, replace=False)
        flat[who[:take]] = chosen
        np.add.at(used, chosen, 1)
        placed[who[:take]] = True
    for i in movers[~placed[movers]]:  # no room left in their room: back where they were, if still free
        if used[flat[i]] >= max_per_tile:
            flat[i] = np.flatnonzero(free_tiles & (used < max_per_tile))[0]
        used[flat[i]] += 1
    floor[:], row[:], col[:] = np.unravel_index(flat, building.shape)


# --- reading roster files ------------------------------------------------------------------------


def _read_toml_roster(path: Path, builtin: bool = False) -> NamedPeople:
    text = _read_text(path)
    # Parsed once per content: a sweep reads the show's characters in every run.
    key = (path, builtin, hashlib.blake2b(text.encode(), digest_size=20).digest())
    read = _TOML_ROSTERS.get(key)
    if read is None:
        read = _parse_toml_roster(text, path, builtin)
        if len(_TOML_ROSTERS) >= 4:
            _TOML_ROSTERS.clear()
        _TOML_ROSTERS[key] = read
    # Lists of their own: the caller may add to them (the specs themselves are frozen).
    return NamedPeople(list(read.people), list(read.ties))


_TOML_ROSTERS: dict[tuple[Path, bool, bytes], NamedPeople] = {}


def _parse_toml_roster(text: str, path: Path, builtin: bool) -> NamedPeople:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise UserInputError(f"not valid TOML: {msg}", path, line, col) from None
    where = _toml_positions(text)
    for key in data:
        if key not in ("person", "tie"):
            raise UserInputError(
                f"unknown table {key!r} in a roster; a roster has [[person]] and [[tie]] entries{_did_you_mean(key, ['person', 'tie'])}",
                path,
                *where.get((key, None, None), (None, None)),
            )
    for key in ("person", "tie"):
        if not isinstance(data.get(key, []), list):
            raise UserInputError(f"write each {key} as a [[{key}]] table", path, *where.get((key, None, None), (1, 1)))
    people = []
    for k, entry in enumerate(data.get("person", [])):
        at = where.get(("person", k, None), (None, None))

        def located(message: str, key: str | None = None, k: int = k, at: tuple = at) -> UserInputError:
            return UserInputError(message, path, *where.get(("person", k, key), at))

        _no_unknown_keys(entry, _PERSON_KEYS, "person", located)
        values = {}
        for key in ("name", "role", "class", "room"):
            value = entry.get(key, "")
            if not isinstance(value, str):
                raise located(f"person.{key} must be text (in quotes); got {value!r}", key)
            values[key] = value.strip()
        traits = {}
        for trait in TRAITS:
            if trait in entry:
                traits[trait] = _trait(trait, entry[trait], lambda m, t=trait: located(m, t))
        _check_person(values, lambda m, key: located(m, key))
        people.append(
            PersonSpec(
                values["name"], values["role"].lower(), values["class"], values["room"], traits, path, at[0], builtin
            )
        )
    _no_duplicates(people, path)
    ties = []
    for k, entry in enumerate(data.get("tie", [])):
        at = where.get(("tie", k, None), (None, None))

        def located(message: str, key: str | None = None, k: int = k, at: tuple = at) -> UserInputError:
            return UserInputError(message, path, *where.get(("tie", k, key), at))

        _no_unknown_keys(entry, _TIE_KEYS, "tie", located)
        for key in ("from", "to", "kind"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise located(f'a tie needs {key} = "..." (text)', key if key in entry else None)
        kind = _kind(entry["kind"], lambda m: located(m, "kind"))
        weight = _weight(entry.get("weight", DEFAULT_WEIGHT[kind]), lambda m: located(m, "weight"))
        ties.append(
            TieSpec(
                entry["from"].strip(),
                entry["to"].strip(),
                kind,
                weight,
                path,
                where.get(("tie", k, "from"), at),
                where.get(("tie", k, "to"), at),
            )
        )
    return NamedPeople(people, ties)


def _read_csv_roster(path: Path) -> NamedPeople:
    header, rows = _read_csv(path)
    missing = [c for c in ("name", "role") if c not in header]
    if missing:
        raise UserInputError(
            f"roster needs columns {', '.join(missing)}; found {', '.join(header) or 'none'}", path, 1, 1
        )
    known = set(_PERSON_KEYS)
    for j, column in enumerate(header):
        if column not in known:
            hint = difflib.get_close_matches(column, _PERSON_KEYS, n=1, cutoff=0.75)
            if hint:  # a typo of a column we read; other columns (e-mail, notes) are the user's own
                raise UserInputError(f"unknown column {column!r}; did you mean {hint[0]!r}?", path, 1, j + 1)
    people = []
    for line, cells in rows:
        values = {key: cells.get(key, "").strip() for key in ("name", "role", "class", "room")}

        def located(message: str, key: str | None, line: int = line) -> UserInputError:
            return UserInputError(message, path, line, header.index(key) + 1 if key in header else 1)

        _check_person(values, located)
        traits = {}
        for trait in TRAITS:
            text = cells.get(trait, "").strip()
            if text:
                traits[trait] = _trait(trait, text, lambda m, t=trait, line=line: located(m, t, line))
        people.append(
            PersonSpec(values["name"], values["role"].lower(), values["class"], values["room"], traits, path, line)
        )
    _no_duplicates(people, path)
    return NamedPeople(people, [])


def _read_csv_ties(path: Path) -> list[TieSpec]:
    header, rows = _read_csv(path)
    missing = [c for c in ("person", "other", "kind") if c not in header]
    if missing:
        raise UserInputError(
            f"ties file needs columns {', '.join(missing)} (and optionally weight); found {', '.join(header) or 'none'}",
            path,
            1,
            1,
        )
    ties = []
    for line, cells in rows:

        def located(message: str, key: str, line: int = line) -> UserInputError:
            return UserInputError(message, path, line, header.index(key) + 1)

        for key in ("person", "other"):
            if not cells.get(key, "").strip():
                raise located(f"empty {key}", key)
        kind = _kind(cells.get("kind", ""), lambda m: located(m, "kind"))
        text = cells.get("weight", "").strip()
        weight = _weight(text if text else DEFAULT_WEIGHT[kind], lambda m: located(m, "weight"))
        ties.append(
            TieSpec(
                cells["person"].strip(),
                cells["other"].strip(),
                kind,
                weight,
                path,
                (line, header.index("person") + 1),
                (line, header.index("other") + 1),
            )
        )
    return ties


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_ROSTER_BYTES:
        raise UserInputError(f"roster is {size:,} bytes; more than the {MAX_ROSTER_BYTES:,} hyosan reads", path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"roster is not UTF-8 text (byte {exc.start})", path) from None


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (lower-cased, stripped) and (line, cells) of each non-empty row."""
    text = _read_text(path)
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise UserInputError("empty file: expected a header row", path, 1, 1) from None
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise UserInputError(f"{len(cells)} cells but the header has {len(header)} columns", path, reader.line_num)
        rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
    return header, rows


def _toml_positions(text: str) -> dict[tuple[str, int | None, str | None], tuple[int, int]]:
    """Line and column of each [[person]]/[[tie]] header and of the keys inside it (tomllib keeps no positions)."""
    where: dict[tuple[str, int | None, str | None], tuple[int, int]] = {}
    counts: dict[str, int] = {}
    current: tuple[str, int] | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_-]+)\s*\]\]?", line)
        if header:
            table = header.group(1)
            counts[table] = counts.get(table, -1) + 1
            current = (table, counts[table])
            where.setdefault((table, None, None), (n, line.index(table) + 1))
            where[(table, counts[table], None)] = (n, 1)
            continue
        key = re.match(r"^\s*([A-Za-z0-9_-]+)\s*=", line)
        if key:
            col = line.index(key.group(1)) + 1
            if current is None:
                where.setdefault((key.group(1), None, None), (n, col))
            else:
                where[(current[0], current[1], key.group(1))] = (n, col)
    return where


# --- checking values ------------------------------------------------------------------------------


def _check_person(values: dict[str, str], located: Any) -> None:
    if not values["name"]:
        raise located("empty name", "name")
    role = values["role"].lower()
    if role not in ROLES:
        raise located(f"role {role!r} is not one of {', '.join(ROLES)}{_did_you_mean(role, ROLES)}", "role")


def _no_unknown_keys(entry: dict[str, Any], allowed: Iterable[str], what: str, located: Any) -> None:
    for key in entry:
        if key not in allowed:
            hint = _did_you_mean(key, allowed)
            raise located(f"unknown key {key!r} in a {what}{hint or '; expected one of: ' + ', '.join(allowed)}", key)


def _no_duplicates(people: list[PersonSpec], path: Path) -> None:
    seen: dict[str, int | None] = {}
    for person in people:
        if person.name in seen:
            raise UserInputError(
                f"{person.name!r} is already on line {seen[person.name]}; names must be unique", path, person.line
            )
        seen[person.name] = person.line


def _trait(trait: str, value: Any, located: Any) -> float:
    lo, hi = TRAITS[trait]
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not (lo <= number <= hi):
        raise located(f"{trait} must be a number from {lo:g} to {hi:g}; got {value!r}")
    return number


def _kind(text: Any, located: Any) -> str:
    kind = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    if kind not in TIE_KINDS:
        hint = _did_you_mean(kind, TIE_KINDS) or f"; expected one of: {', '.join(TIE_KINDS)}"
        raise located(f"unknown kind of tie {text!r}{hint}")
    return kind


def _weight(value: Any, located: Any) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        weight = float("nan")
    if isinstance(value, bool) or not (0.0 <= weight <= 1.0):
        raise located(f"weight must be a number from 0 to 1; got {value!r}")
    return weight


def _check_ties(ties: list[TieSpec], people: list[PersonSpec], classrooms: dict[str, str]) -> None:
    names = [person.name for person in people]
    known = set(names)
    classes = set(classrooms) | {person.class_name for person in people if person.role == "student"} - {""}
    for tie in ties:
        if tie.person not in known:
            raise UserInputError(
                f"no person named {tie.person!r} in the roster{_did_you_mean(tie.person, names)}",
                tie.file,
                *tie.person_at,
            )
        if tie.other in known:
            continue
        if tie.kind == "teacher" and tie.other in classes:
            continue
        what = "person or class" if tie.kind == "teacher" else "person"
        pool = names + sorted(classes) if tie.kind == "teacher" else names
        raise UserInputError(
            f"no {what} named {tie.other!r} in the roster{_did_you_mean(tie.other, pool)}", tie.file, *tie.other_at
        )


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    hint = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {hint[0]!r}?" if hint else ""


# --- generated people -----------------------------------------------------------------------------


def _generated_names(style: str, roles: list[str], taken: list[str], rng: np.random.Generator) -> list[str]:
    if style == "korean":
        return korean_names(len(roles), rng, taken)
    return numbered_names(roles, taken=taken)


def _balanced_classes(named: np.ndarray, n: int, classes: list[str], rng: np.random.Generator) -> np.ndarray:
    """Classes for `n` generated students so that class sizes (with the named students) are as even as can be."""
    if not classes or n == 0:
        return np.full(n, "", dtype=object)
    size = np.array([np.count_nonzero(named == c) for c in classes], dtype=np.int64)
    add = np.zeros(len(classes), dtype=np.int64)
    left = n
    # Water-filling: raise the smallest classes first, then share what is left one each in class order.
    while left > 0:
        total = size + add
        level = total.min()
        low = np.flatnonzero(total == level)
        higher = total[total > level]
        step = (higher.min() - level) if higher.size else left
        if step * low.size <= left:
            add[low] += step
            left -= step * low.size
        else:
            add[low] += left // low.size
            add[low[: left % low.size]] += 1
            left = 0
    return rng.permutation(np.repeat(np.array(classes, dtype=object), add))


def _assign_homerooms(class_name: np.ndarray, role: np.ndarray, generated: np.ndarray, classes: list[str]) -> None:
    """Generated teachers take the classes that no named teacher has, one each, in class order."""
    taken = set(class_name[(role == "teacher") & ~generated])
    free = [c for c in classes if c not in taken]
    teachers = np.flatnonzero(generated & (role == "teacher"))
    for t, c in zip(teachers, free, strict=False):
        class_name[t] = c


def _named_ties(ties: list[TieSpec], name: np.ndarray, role: np.ndarray, class_name: np.ndarray) -> pd.DataFrame:
    ids = {n: i for i, n in enumerate(name)}
    rows = []
    for tie in ties:
        a = ids[tie.person]
        if tie.other in ids:
            rows.append((a, ids[tie.other], tie.kind, tie.weight))
        else:  # a teacher -> class tie: to every student of the class
            rows += [
                (a, int(s), "teacher", tie.weight)
                for s in np.flatnonzero((role == "student") & (class_name == tie.other))
            ]
    return pd.DataFrame(rows, columns=list(_TIE_COLUMNS))


def _class_edges(teachers: np.ndarray, class_name: np.ndarray, role: np.ndarray, weight: float) -> pd.DataFrame:
    rows = []
    students = role == "student"
    for t in teachers:
        pupils = np.flatnonzero(students & (class_name == class_name[t]))
        rows.append(pd.DataFrame({"person": t, "other": pupils, "kind": "teacher", "weight": weight}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(_TIE_COLUMNS))


def _generated_ties(
    class_name: np.ndarray, role: np.ndarray, generated: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Friends, best friends, crushes and rivals among generated classmates; bullies within a year."""
    students = np.flatnonzero(generated & (role == "student"))
    edges: list[tuple[int, int, str, float]] = []
    if students.size < 2:
        return pd.DataFrame(edges, columns=list(_TIE_COLUMNS))
    if (class_name[students] == "").all():
        pools = [students[k : k + _POOL] for k in range(0, students.size, _POOL)]
        years = [students]
    else:
        pools = [students[class_name[students] == c] for c in _unique(class_name[students])]
        year = np.array([str(c).split("-")[0] for c in class_name[students]], dtype=object)
        years = [students[year == y] for y in _unique(year)]
    for pool in pools:
        if pool.size < 2:
            continue
        for i in pool:
            others = pool[pool != i]
            k = min(others.size, 1 + int(rng.binomial(*_FRIENDS_EXTRA)))
            for j in rng.choice(others, size=k, replace=False):
                edges.append((int(i), int(j), "friend", float(rng.uniform(*_FRIEND_WEIGHT))))
            for kind, (share, lo, hi) in (("best_friend", _BEST_FRIEND), ("crush", _CRUSH), ("rival", _RIVAL)):
                if rng.random() < share:
                    edges.append((int(i), int(rng.choice(others)), kind, float(rng.uniform(lo, hi))))
    share, lo, hi = _BULLY
    for pool in years:
        if pool.size < 2:
            continue
        for i in pool[rng.random(pool.size) < share]:
            others = pool[pool != i]
            for j in rng.choice(others, size=min(others.size, int(rng.integers(1, 4))), replace=False):
                edges.append((int(i), int(j), "bully", float(rng.uniform(lo, hi))))
    return pd.DataFrame(edges, columns=list(_TIE_COLUMNS))


def _tidy_ties(ties: pd.DataFrame, n: int) -> pd.DataFrame:
    """Symmetric kinds both ways, no self-ties, one edge per (person, other, kind) at its largest weight, sorted."""
    # In numpy rather than a pandas group-by: a run has a few dozen ties, and pandas' overhead was most
    # of the time of building a roster.
    person = ties["person"].to_numpy(dtype=np.int64)
    other = ties["other"].to_numpy(dtype=np.int64)
    kind = np.array([str(k) for k in ties["kind"]], dtype=object)
    weight = ties["weight"].to_numpy(dtype=np.float64)
    mirror = np.array([k in SYMMETRIC_KINDS for k in kind], dtype=bool)
    person, other = np.concatenate([person, other[mirror]]), np.concatenate([other, person[mirror]])
    kind = np.concatenate([kind, kind[mirror]])
    weight = np.concatenate([weight, weight[mirror]])
    keep = person != other
    person, other, kind, weight = person[keep], other[keep], kind[keep], weight[keep]
    names, code = np.unique(kind, return_inverse=True)  # kinds sorted, and each tie's among them
    order = np.lexsort((code, other, person))
    person, other, code, weight = person[order], other[order], code[order], weight[order]
    first = np.ones(person.size, dtype=bool)
    first[1:] = (np.diff(person) != 0) | (np.diff(other) != 0) | (np.diff(code) != 0)
    starts = np.flatnonzero(first)
    # fmax skips NaN as pandas' max does (a group of NaN only stays NaN).
    best = np.fmax.reduceat(weight, starts) if starts.size else np.zeros(0)
    return pd.DataFrame(
        {
            "person": person[starts],
            "other": other[starts],
            "kind": names[code[starts]],
            "weight": best,
        }
    )


# --- small helpers --------------------------------------------------------------------------------


def _labelled_rooms(scenario: Scenario) -> list[str]:
    return [room.name for floor in scenario.world.floors for room in floor.rooms.values()]


def _natural(text: str) -> list[Any]:
    """Sort key that puts 1-2 before 1-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _unique(values: np.ndarray) -> list[Any]:
    return sorted({str(v) for v in values}, key=_natural)
