"""The story of a run: a readable account in Markdown, told from its events with fixed templates.

No language model and no network: every sentence comes from a template filled with the facts of
events (who, when, where), and carries the rows of ``events.jsonl`` it rests on in an HTML comment,
``<!-- ev:12,40-43 -->`` (rows counted from 0; ``p:`` lists rows of ``people.csv`` for facts that
only the people table holds). Phrasings vary with a hash of the event row, so the same run always
reads the same.
"""

from __future__ import annotations

import difflib
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan.errors import UserInputError
from hyosan.results import Results, atomic_write

__all__ = ["CITATION", "parse_citations", "person_story", "story_markdown", "strip_citations", "write_story"]

CITATION = re.compile(r"<!--\s*ev:([0-9,\-]*)(?:\s+p:([0-9,\-]*))?\s*-->")
_GENERATED_NAME = re.compile(r"^(Student|Teacher|Staff|Soldier) \d+$")
_ROLE_WORDS = {"student": "a student", "teacher": "a teacher", "staff": "a member of staff", "soldier": "a soldier"}
_WORLD_KINDS = {
    "announcement",
    "phone_call",
    "seal",
    "power_cut",
    "power_on",
    "open_exits",
    "close_exits",
    "rescue_arrives",
    "rescue_leaves",
    "unbarricade",
}
_KNOWN_KINDS = _WORLD_KINDS | {
    "patient_zero",
    "bite",
    "turn",
    "hambie",
    "kill",
    "door_open",
    "door_close",
    "barricade",
    "breach",
    "escape",
    "rescue",
    "scream",
    "panic",
    "freeze",
    "grief",
    "hambie_found",
    "hambie_discovered",
    "hambie_vote",
    "hold_door",
    "abandon",
    "wait",
    "sacrifice",
    "go_back",
    "saved",
    "lure",
    "shout",
    "group_split",
}
# Which tie to mention when a person is introduced: the closest first.
_TIE_ORDER = ("best_friend", "crush", "sibling", "parent", "friend", "teacher", "rival", "bully")
_SYMMETRIC = {"friend", "best_friend", "rival", "sibling"}
_OUTGOING = {
    "friend": "friend of {other}",
    "best_friend": "best friend of {other}",
    "rival": "rival of {other}",
    "sibling": "sibling of {other}",
    "crush": "has a crush on {other}",
    "bully": "bullies {other}",
    "parent": "parent of {other}",
    "teacher": "teacher of {other}",
}
_INCOMING = {
    "crush": "{other} has a crush on {me}",
    "bully": "bullied by {other}",
    "parent": "child of {other}",
    "teacher": "taught by {other}",
}
_AGAIN = {
    "scream": "screamed",
    "panic": "panicked",
    "freeze": "froze",
    "abandon": "left a group",
    "hold_door": "held a door",
}
_SIEGE_ROOMS = 8  # rooms told one by one; the others are counted
_PER_PERSON = 3  # named people's screams, holds... told one by one before they are counted


def story_markdown(results: Results) -> str:
    """The whole story of a run as Markdown: chapters, each named character's fate, who saved whom."""
    return _Teller(results).story()


def write_story(results: Results, path: str | Path) -> Path:
    """Write `story_markdown(results)` to `path` (atomically)."""
    path = Path(path)
    text = story_markdown(results)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def person_story(results: Results, name: str) -> str:
    """One person's path through the run, as Markdown; an unknown name raises `UserInputError` with a hint."""
    return _Teller(results).person(name)


def parse_citations(text: str) -> list[tuple[str, list[int], list[int]]]:
    """Each cited sentence of a story: (text, event rows, people rows), in order."""
    out = []
    start = 0
    for m in CITATION.finditer(text):
        before = text[start : m.start()]
        line_start = before.rfind("\n") + 1
        sentence = before[line_start:].strip()
        sentence = re.sub(r"^(?:[-*]\s+|#+\s+)", "", sentence)
        out.append((sentence, _expand(m.group(1)), _expand(m.group(2) or "")))
        start = m.end()
    return out


def strip_citations(text: str) -> str:
    """The story without its citation comments (for reading on a terminal)."""
    return re.sub(r"[ \t]*" + CITATION.pattern, "", text)


# --- sentences ---------------------------------------------------------------------------------------


@dataclass
class _Line:
    """One sentence and the rows it rests on."""

    text: str
    ev: list[int]
    people: list[int] = field(default_factory=list)
    time: float = 0.0  # for ordering lines within a chapter

    def render(self) -> str:
        cite = f"ev:{_ranges(self.ev)}"
        if self.people:
            cite += f" p:{_ranges(self.people)}"
        return f"{self.text} <!-- {cite} -->"


def _paragraph(lines: Sequence[_Line]) -> str:
    return " ".join(line.render() for line in lines)


def _ranges(rows: Iterable[int]) -> str:
    values = sorted({int(r) for r in rows})
    parts = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        parts.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ",".join(parts)


def _expand(text: str) -> list[int]:
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def _pick(key: str, options: Sequence[str]) -> str:
    return options[zlib.crc32(key.encode()) % len(options)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _in(room: str) -> str:
    if not room:
        return ""
    return f" {'on' if 'roof' in room.lower() else 'in'} {_the(room)}"


def _the(room: str) -> str:
    bare = room.startswith(("Classroom", "Year")) or "'s " in room
    return room if bare else f"the {room}"


# --- the teller ------------------------------------------------------------------------------------


class _Teller:
    """Reads a run's tables once and tells its story (or one person's path)."""

    def __init__(self, results: Results) -> None:
        self.summary = results.summary
        self.timeseries = results.timeseries
        self.world = results.world or {}
        ev = results.events.reset_index(drop=True)
        for column, default in (("person", -1), ("other", -1), ("room", ""), ("note", ""), ("floor", "")):
            if column not in ev:
                ev[column] = default
        for column in ("room", "note", "floor"):
            ev[column] = ev[column].fillna("").astype(str)
        ev["person"] = ev["person"].fillna(-1).astype(np.int64)
        ev["other"] = ev["other"].fillna(-1).astype(np.int64)
        self.ev = ev
        people = results.people.reset_index(drop=True)
        self.people = people
        self.name = people["name"].astype(str).to_numpy(dtype=object)
        self.role = people["role"].astype(str).to_numpy(dtype=object) if "role" in people else self.name.copy()
        klass = people["class"] if "class" in people else pd.Series([""] * len(people))
        self.klass = klass.fillna("").astype(str).to_numpy(dtype=object)
        if "named" in people:
            self.named = people["named"].astype(str).str.lower().isin(["true", "1", "yes"]).to_numpy()
        else:
            self.named = ~pd.Series(self.name, dtype=str).str.match(_GENERATED_NAME.pattern).to_numpy()
        self.fate = people["fate"].astype(str).to_numpy() if "fate" in people else np.full(len(people), "")
        ties = results.relationships
        empty = pd.DataFrame(columns=["person", "other", "kind", "weight"])
        self.ties = ties if ties is not None and len(ties) else empty
        self.bitten_at = self._first_time("bite", "patient_zero")
        self.hambie_at = self._first_time("hambie")
        self._start = self._start_seconds()
        self._door_rooms_cache: dict[tuple[int, int, int], list[str]] | None = None

    # --- facts ---------------------------------------------------------------------------------------

    def _first_time(self, *kinds: str) -> np.ndarray:
        out = np.full(len(self.name), np.inf)
        frame = self.rows(*kinds)
        frame = frame[(frame["person"] >= 0) & (frame["person"] < len(self.name))]
        first = frame.groupby("person")["time_s"].min()
        out[first.index.to_numpy(dtype=np.int64)] = first.to_numpy(dtype=float)
        return out

    def _carrying(self, frame: pd.DataFrame) -> int:
        """How many of these events (escapes, rescues) were of people already bitten."""
        ids = frame["person"].to_numpy(dtype=np.int64)
        ok = (ids >= 0) & (ids < len(self.bitten_at))
        return int(np.count_nonzero(self.bitten_at[ids[ok]] <= frame["time_s"].to_numpy(dtype=float)[ok]))

    def _start_seconds(self) -> float:
        """Seconds since midnight of day 1 at time 0 (from the time series' clock column)."""
        ts = self.timeseries
        if len(ts) and "clock" in ts:
            m = re.match(r"day (\d+) (\d{2}):(\d{2}):(\d{2})", str(ts["clock"].iloc[0]))
            if m:
                d, h, mi, s = (int(g) for g in m.groups())
                return (d - 1) * 86400 + h * 3600 + mi * 60 + s - float(ts["time_s"].iloc[0])
        return 8.5 * 3600

    def when(self, t: float) -> str:
        """A time as the story writes it: "09:12" on day 1, "09:12 on day 2" later."""
        total = round(self._start + float(t))
        day, rest = divmod(total, 86400)
        hhmm = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
        return hhmm if day == 0 else f"{hhmm} on day {day + 1}"

    def is_named(self, pid: int) -> bool:
        return 0 <= pid < len(self.named) and bool(self.named[pid])

    def who(self, pid: int, named_only: bool = True, cap: bool = False) -> str:
        """A person as the story calls them: their name, or "a student of class 1-9" when not named."""
        pid = int(pid)
        if pid < 0 or pid >= len(self.name):
            text = "someone"
        elif self.named[pid] or not named_only:
            text = str(self.name[pid])
        else:
            text = _ROLE_WORDS.get(str(self.role[pid]), "someone")
            if self.klass[pid] and self.role[pid] == "student":
                text += f" of class {self.klass[pid]}"
        return _cap(text) if cap else text

    def attacker(self, pid: int, t: float, subject: int | None = None) -> str:
        """Who bit: a named person by name, else "a zombie" (or "a hambie")."""
        if self.is_named(pid) or (pid == subject and pid >= 0):
            return str(self.name[pid])
        if 0 <= pid < len(self.name) and self.hambie_at[pid] <= t:
            return "a hambie"
        return "a zombie"

    def introduce(self, pid: int, exclude: Iterable[int] = ()) -> str:
        """A named person with their closest tie to another named person: "Han Gyeong-su, Nam On-jo's friend,"."""
        name = self.who(pid)
        phrase = self.tie_phrase(pid, exclude) if self.is_named(pid) else ""
        return f"{name}, {phrase}," if phrase else name

    def tie_phrase(self, pid: int, exclude: Iterable[int] = ()) -> str:
        """The closest tie of `pid` to another named person, as words ("Nam On-jo's best friend")."""
        skip = {int(e) for e in exclude} | {pid}
        candidates = []
        for row in self.ties.itertuples(index=False):
            a, b, kind = int(row.person), int(row.other), str(row.kind)
            if pid not in (a, b) or kind not in _TIE_ORDER:
                continue
            j = b if a == pid else a
            if j in skip or not self.is_named(j):
                continue
            candidates.append((_TIE_ORDER.index(kind), -float(row.weight), str(self.name[j]), kind, a == pid))
        if not candidates:
            return ""
        _, _, other, kind, outgoing = min(candidates)
        symmetric = {"best_friend": "best friend", "friend": "friend", "sibling": "sibling", "rival": "rival"}
        if kind in symmetric:
            return f"{other}'s {symmetric[kind]}"
        return {
            ("crush", True): f"who loved {other}",
            ("crush", False): f"the one {other} loved",
            ("parent", True): f"{other}'s parent",
            ("parent", False): f"{other}'s child",
            ("teacher", True): f"{other}'s teacher",
            ("teacher", False): f"one of {other}'s students",
            ("bully", True): f"who had bullied {other}",
            ("bully", False): f"whom {other} had bullied",
        }[(kind, outgoing)]

    def door_rooms(self, row: int) -> list[str]:
        """Rooms on either side of the door an event happened at (from the maps in world.json)."""
        e = self.ev.iloc[row]
        if e["room"]:
            return [e["room"]]
        if self._door_rooms_cache is None:
            self._door_rooms_cache = _door_room_map(self.world)
        floors = list(self.world.get("floors", []))
        if e["floor"] not in floors:
            return []
        key = (floors.index(e["floor"]), int(e["row"]) - 1, int(e["col"]) - 1)
        return self._door_rooms_cache.get(key, [])

    def door_room(self, row: int) -> str:
        """The room a door belongs to: the one that is not a corridor, landing or yard."""
        rooms = self.door_rooms(row)
        inner = [r for r in rooms if not _is_passage(r)]
        return (inner or rooms or [""])[0]

    def rows(self, *kinds: str) -> pd.DataFrame:
        return self.ev[self.ev["kind"].isin(kinds)]

    def named_rows(self, frame: pd.DataFrame, column: str = "person") -> pd.DataFrame:
        ids = frame[column].to_numpy(dtype=np.int64)
        ok = (ids >= 0) & (ids < len(self.named))
        ok[ok] = self.named[ids[ok]]
        return frame[ok]

    def involving(self, pid: int) -> pd.DataFrame:
        return self.ev[(self.ev["person"] == pid) | (self.ev["other"] == pid)]

    # --- the whole story ---------------------------------------------------------------------------

    def story(self) -> str:
        s = self.summary
        parts = [f"# The story of {s.get('scenario', 'a run')}, seed {s.get('seed', '?')}", ""]
        overview = self.overview()
        if overview:
            parts += [_paragraph(overview), ""]
        for heading, blocks in self.chapters():
            if blocks:
                parts += [f"## {heading}", ""]
                for block in blocks:
                    parts += [block, ""]
        return "\n".join(parts).rstrip() + "\n"

    def chapters(self) -> list[tuple[str, list[str]]]:
        spread_end = self._spread_end()
        out = self.rows("escape", "rescue")
        return [
            ("The first bite", self.first_bite()),
            ("The spread", self.spread(spread_end)),
            ("The sieges", self.sieges(spread_end)),
            ("The losses", self.losses()),
            ("The hambies", self.hambies()),
            ("The escape" if len(out) else "The end", self.the_end()),
            ("The named characters", self.fates()),
            ("Who saved whom", self.saviours()),
            ("Other events", self.others()),
        ]

    def overview(self) -> list[_Line]:
        lines = []
        first = self.rows("patient_zero", "bite")
        if len(first):
            r = int(first.index[0])
            t, room = self.when(first["time_s"].iloc[0]), first["room"].iloc[0]
            lines.append(_Line(f"The outbreak began at {t}{_in(room)}.", [r]))
        escapes, rescues = self.rows("escape"), self.rows("rescue")
        healthy = np.flatnonzero(self.fate == "healthy")
        if len(escapes) or len(rescues):
            infected = self._carrying(escapes)
            text = f"Of the school's {len(self.name):,} people, {len(escapes):,} got out of the building"
            text += f" ({infected:,} of them already bitten)" if infected else ""
            text += f" and {len(rescues):,} {'was' if len(rescues) == 1 else 'were'} rescued." if len(rescues) else "."
            lines.append(_Line(text, list(escapes.index) + list(rescues.index)))
        if healthy.size and len(self.ev):
            lines.append(
                _Line(
                    f"{_plural(healthy.size, 'person', 'people')} never got bitten and were still inside at the end.",
                    [int(self.ev.index[-1])],
                    list(healthy),
                )
            )
        return lines

    # --- chapters ----------------------------------------------------------------------------------

    def first_bite(self) -> list[str]:
        pz = self.rows("patient_zero")
        if not len(pz):
            pz = self.rows("bite").head(1)
        blocks = []
        for row, e in pz.iterrows():
            p = int(e["person"])
            if p < 0:
                continue
            name = self.who(p, named_only=False)
            desc = "" if self.named[p] else f", {self.who(p)},"
            t, room = self.when(e["time_s"]), e["room"]
            lines = [
                _Line(
                    _pick(
                        f"pz{row}",
                        [
                            f"It began at {t}{_in(room)}, where {name}{desc} was bitten.",
                            f"At {t}{_in(room)}, {name}{desc} was bitten: the first case.",
                        ],
                    ),
                    [row],
                )
            ]
            if e["note"].strip():
                lines.append(_Line(f"“{e['note'].strip()}”", [row]))
            mine = self.involving(p)
            for r, x in mine[mine["kind"].isin(["turn", "hambie"]) & (mine["person"] == p)].head(1).iterrows():
                what = "turned" if x["kind"] == "turn" else "became a hambie"
                lines.append(_Line(f"{_cap(name)} {what} at {self.when(x['time_s'])}{_in(x['room'])}.", [r]))
            victims = mine[(mine["kind"] == "bite") & (mine["other"] == p)]
            if len(victims):
                r, v = next(victims.iterrows())
                q = int(v["person"])
                victim = self.who(q, named_only=False) + ("" if self.named[q] else f", {self.who(q)}")
                t, room = self.when(v["time_s"]), v["room"]
                text = _pick(
                    f"fv{r}",
                    [
                        f"The first {name} bit was {victim}, at {t}{_in(room)}.",
                        f"At {t}{_in(room)}, {name} bit {victim}.",
                    ],
                )
                lines.append(_Line(text, [r]))
                if len(victims) > 1:
                    bitten = _plural(len(victims), "person", "people")
                    lines.append(_Line(f"In all, {name} bit {bitten}.", list(victims.index)))
            for r, k in mine[(mine["kind"] == "kill") & (mine["other"] == p)].head(1).iterrows():
                killer = self.who(int(k["person"]), cap=True)
                lines.append(_Line(f"{killer} stopped {name} at {self.when(k['time_s'])}{_in(k['room'])}.", [r]))
            blocks.append(_paragraph(lines))
        return blocks

    def _spread_end(self) -> float:
        """When the spread gives way to the sieges: the school or the last floor fell (at least an hour in)."""
        falls = [t for t, _ in self._floor_falls().values()]
        return float(max([*falls, self.summary.get("school_fell_s") or 0.0, 3600.0]))

    def _floor_start(self, floor: str) -> int:
        ts = self.timeseries
        columns = [f"{floor}_{s}" for s in ("healthy", "bitten", "zombie", "hambie") if f"{floor}_{s}" in ts]
        return int(ts[columns].iloc[0].sum()) if len(ts) and columns else 0

    def _floor_falls(self) -> dict[str, tuple[float, int]]:
        """Per floor: (time, event row) of the bite that took half of the people who started there."""
        out: dict[str, tuple[float, int]] = {}
        bites = self.rows("bite", "patient_zero")
        for floor in self.world.get("floors", []):
            start = self._floor_start(floor)
            here = bites[bites["floor"] == floor]
            if start > 0 and len(here) >= (start + 1) // 2:
                k = (start + 1) // 2 - 1
                out[floor] = (float(here["time_s"].iloc[k]), int(here.index[k]))
        return out

    def spread(self, end: float) -> list[str]:
        lines: list[_Line] = []
        bites = self.rows("bite", "patient_zero")
        falls = self._floor_falls()
        for floor in self.world.get("floors", []):
            start = self._floor_start(floor)
            here = bites[bites["floor"] == floor]
            if floor in falls:
                t, row = falls[floor]
                when, room, half = self.when(t), self.ev.at[row, "room"], (start + 1) // 2
                text = _pick(
                    f"fall{row}",
                    [
                        f"{floor} fell at {when}: half of the {start:,} people who started there had been bitten, "
                        f"the last of them{_in(room)}.",
                        f"By {when}, {floor} was lost; half of its {start:,} people had been bitten, the last{_in(room)}.",
                        f"On {floor}, the halfway mark came at {when} with a bite{_in(room)}: "
                        f"{half:,} of its {start:,} people bitten.",
                    ],
                )
                lines.append(_Line(text, [row], time=t))
            elif len(here) and start > 0:
                text = f"{floor} held: {_plural(len(here), 'person', 'people')} were bitten there, of {start:,} who started on it."
                lines.append(_Line(text, list(here.index), time=float(here["time_s"].iloc[-1])))
            elif len(here):
                first = self.when(here["time_s"].iloc[0])
                text = f"{floor}, empty at the start, saw {_plural(len(here), 'bite')}, the first at {first}."
                lines.append(_Line(text, list(here.index), time=float(here["time_s"].iloc[0])))
        n = len(self.name)
        if self.summary.get("school_fell_s") is not None and n and len(bites) >= (n + 1) // 2:
            row = int(bites.index[(n + 1) // 2 - 1])
            t = float(self.ev.at[row, "time_s"])
            text = f"By {self.when(t)}, half of the school's {n:,} people had been bitten: the school had fallen."
            lines.append(_Line(text, [row], time=t))
        noises = ("announcement", "phone_call", "seal", "open_exits", "close_exits")
        lines += [self.world_line(row, e) for row, e in self.rows(*noises).iterrows() if e["time_s"] <= end]
        lines.sort(key=lambda line: line.time)
        if len(bites):
            last = self.when(bites["time_s"].iloc[-1])
            text = f"In all, {_plural(len(bites), 'person', 'people')} were bitten during the run, the last at {last}."
            lines.append(_Line(text, list(bites.index)))
        return [_paragraph(lines)] if lines else []

    def world_line(self, row: int, e: pd.Series) -> _Line:
        t, room, note = self.when(e["time_s"]), e["room"], e["note"].strip()
        quoted = f": “{note.rstrip('.')}”." if note else "."
        texts = {
            "announcement": _pick(
                f"w{row}",
                [
                    f"At {t} the speakers came on from {_the(room)}{quoted}",
                    f"At {t}, an announcement from {_the(room)}{quoted}",
                ],
            ),
            "phone_call": f"At {t} a phone rang{_in(room)}{quoted}",
            "seal": f"At {t} the army sealed the school{quoted}",
            "power_cut": f"At {t} the power went out{quoted}",
            "power_on": f"At {t} the power came back{quoted}",
            "open_exits": f"At {t} the exits opened{quoted}",
            "close_exits": f"At {t} the exits were shut{quoted}",
            "rescue_arrives": f"At {t} a rescue reached {_the(room)}{quoted}",
            "rescue_leaves": f"At {t} the rescue left{' ' + _the(room) if room else ''}{quoted}",
            "unbarricade": f"At {t} the people{_in(room)} pulled down their barricades to reach the rescue.",
        }
        return _Line(texts.get(e["kind"]) or self.generic(row, e), [row], time=float(e["time_s"]))

    def sieges(self, spread_end: float) -> list[str]:
        blocks: list[str] = []
        barricades, breaches, holds = self.rows("barricade"), self.rows("breach"), self.rows("hold_door")
        by_room: dict[str, dict[str, list[int]]] = {}
        for kind, frame in (("barricade", barricades), ("breach", breaches), ("hold", holds)):
            for row in frame.index:
                room = self.door_room(int(row))
                if room:
                    by_room.setdefault(room, {"barricade": [], "breach": [], "hold": []})[kind].append(int(row))
        mattering = {self.door_room(int(r)) for r in self.named_rows(holds).index}
        mattering |= {f"Classroom {c}" for c in self.klass[self.named] if c}
        barricaded = [room for room, rows in by_room.items() if rows["barricade"]]
        told = sorted(
            barricaded,
            key=lambda room: (
                room not in mattering,
                -len(by_room[room]["barricade"]) - len(by_room[room]["breach"]),
                room,
            ),
        )[:_SIEGE_ROOMS]
        for room in sorted(told, key=lambda room: self.ev.at[by_room[room]["barricade"][0], "time_s"]):
            blocks.append(_paragraph(self._siege(room, by_room[room])))
        lines: list[_Line] = []
        if len(barricaded) > len(told) or len(breaches):
            broken = sum(1 for room in barricaded if by_room[room]["breach"])
            text = (
                f"In all, people barricaded {_plural(len(barricaded), 'room')} and zombies broke into {broken:,} of them; "
                f"they broke {_plural(len(breaches), 'door')} in all."
            )
            lines.append(_Line(text, list(barricades.index) + list(breaches.index) or [int(self.ev.index[-1])]))
        if lines:
            blocks.append(_paragraph(lines))
        fear = self._named_moments(
            ("scream", "panic", "freeze", "abandon", "group_split", "hold_door"), skip_rooms=told
        )
        scared = self.rows("scream", "panic", "freeze")
        others = scared[~scared.index.isin(self.named_rows(scared).index)]
        if len(others):
            screams, panics = int((others["kind"] == "scream").sum()), int((others["kind"] == "panic").sum())
            freezes = int((others["kind"] == "freeze").sum())
            lead = "Among the others, fear" if fear else "Fear"
            text = f"{lead} showed in {_plural(screams, 'scream')} and {_plural(panics, 'panic')} that drove people out of hiding"
            text += f"; {_plural(freezes, 'time')} someone froze in terror." if freezes else "."
            fear.append(_Line(text, list(others.index), time=float(others["time_s"].iloc[-1])))
        if fear:
            blocks.append(_paragraph(fear))
        later = [
            self.world_line(row, e)
            for row, e in self.rows(
                "power_cut", "power_on", "announcement", "phone_call", "seal", "open_exits", "close_exits"
            ).iterrows()
            if e["kind"] in ("power_cut", "power_on") or e["time_s"] > spread_end
        ]
        if later:
            blocks.append(_paragraph(sorted(later, key=lambda line: line.time)))
        return blocks

    def _siege(self, room: str, rows: dict[str, list[int]]) -> list[_Line]:
        first = rows["barricade"][0]
        t0 = float(self.ev.at[first, "time_s"])
        when = self.when(t0)
        the_room = _cap(_the(room))
        lines = [
            _Line(
                _pick(
                    f"b{first}",
                    [
                        f"At {when} the people in {_the(room)} barricaded the door.",
                        f"{the_room} was barricaded at {when}.",
                        f"In {_the(room)}, desks went up against the door at {when}.",
                    ],
                ),
                [first],
            )
        ]
        for r in rows["hold"]:
            if self.is_named(int(self.ev.at[r, "person"])):
                holder = self.who(int(self.ev.at[r, "person"]))
                lines.append(
                    _Line(f"{holder} held the door of {_the(room)} at {self.when(self.ev.at[r, 'time_s'])}.", [r])
                )
                break
        after = [r for r in rows["breach"] if self.ev.at[r, "time_s"] >= t0]
        if after:
            r = after[0]
            when = self.when(self.ev.at[r, "time_s"])
            text = _pick(
                f"br{r}",
                [
                    f"Zombies broke into {_the(room)} at {when}.",
                    f"{the_room} held until {when}, when zombies broke through.",
                    f"At {when} the door of {_the(room)} gave way.",
                ],
            )
            lines.append(_Line(text, [r]))
        else:
            lines.append(_Line(f"The barricades of {_the(room)} held.", rows["barricade"]))
        return lines

    def _named_moments(self, kinds: Sequence[str], skip_rooms: Sequence[str] = ()) -> list[_Line]:
        """Named people's moments of these kinds, a few each, then counted."""
        lines: list[_Line] = []
        frame = self.named_rows(self.rows(*kinds))
        for (pid, kind), group in frame.groupby(["person", "kind"], sort=False):
            rows = [int(r) for r in group.index if not (kind == "hold_door" and self.door_room(int(r)) in skip_rooms)]
            for r in rows[:_PER_PERSON]:
                lines.append(_Line(self.event_sentence(r), [r], time=float(self.ev.at[r, "time_s"])))
            if len(rows) > _PER_PERSON:
                more = _plural(len(rows) - _PER_PERSON, "more time")
                verb = _AGAIN.get(str(kind), str(kind).replace("_", " "))
                text = f"{self.who(int(pid))} {verb} {more}."
                lines.append(_Line(text, rows[_PER_PERSON:], time=float(self.ev.at[rows[-1], "time_s"])))
        lines.sort(key=lambda line: line.time)
        return lines

    def losses(self) -> list[str]:
        blocks = []
        bitten = self.rows("bite", "patient_zero")
        named = self.named_rows(bitten)
        for row, e in named.iterrows():
            p, biter = int(e["person"]), int(e["other"])
            by = f" by {self.who(biter)}" if self.is_named(biter) and e["kind"] == "bite" else ""
            intro = self.introduce(p, exclude=[biter])
            t, room = self.when(e["time_s"]), e["room"]
            text = _pick(
                f"l{row}",
                [
                    f"{intro} was bitten{by} at {t}{_in(room)}.",
                    f"At {t}{_in(room)}, {intro} was bitten{by}.",
                    f"{intro} was caught{_in(room)} at {t} and bitten{by}.",
                ],
            )
            lines = [_Line(_cap(text.replace(",,", ",")), [int(row)])]
            later = self.involving(p)
            later = later[later["time_s"] >= e["time_s"]]
            for r, x in later[(later["kind"] == "turn") & (later["person"] == p)].head(1).iterrows():
                t, room = self.when(x["time_s"]), x["room"]
                text = _pick(
                    f"t{r}", [f"{self.who(p)} turned at {t}{_in(room)}.", f"At {t}, {self.who(p)} turned{_in(room)}."]
                )
                lines.append(_Line(text, [int(r)]))
            for r, x in later[(later["kind"] == "kill") & (later["other"] == p)].head(1).iterrows():
                killer = self.who(int(x["person"]), cap=True)
                t, room = self.when(x["time_s"]), x["room"]
                lines.append(_Line(f"{killer} stopped {self.who(p)} for good at {t}{_in(room)}.", [int(r)]))
            grief = self.named_rows(self.ev[(self.ev["kind"] == "grief") & (self.ev["other"] == p)])
            if len(grief):
                grievers = [self.who(int(g)) for g in dict.fromkeys(grief["person"])]
                who = _join(grievers)
                text = _pick(f"g{row}", [f"The loss struck {who}.", f"{who} felt the loss.", f"It hit {who} hard."])
                lines.append(_Line(text, list(grief.index)))
            blocks.append(_paragraph(lines))
        others = bitten[~bitten.index.isin(named.index) & bitten["person"].ge(0)]
        if len(others):
            roles = pd.Series(self.role[others["person"].to_numpy(dtype=np.int64)]).value_counts()
            words = {"staff": ("member of staff", "members of staff")}
            parts = [f"{n:,} {words.get(role, (role, role + 's'))[0 if n == 1 else 1]}" for role, n in roles.items()]
            lead = "Beyond the named, " if len(named) else ""
            verb = "was" if len(others) == 1 else "were"
            blocks.append(_paragraph([_Line(f"{_cap(lead + _join(parts))} {verb} bitten.", list(others.index))]))
        return blocks

    def hambies(self) -> list[str]:
        lines: list[_Line] = []
        turned = self.rows("hambie")
        named = self.named_rows(turned)
        for row, e in named.iterrows():
            p = int(e["person"])
            t, room, intro = self.when(e["time_s"]), e["room"], self.introduce(p)
            text = _pick(
                f"h{row}",
                [
                    f"{intro} was bitten but never fully turned: at {t}{_in(room)}, {self.who(p)} became a hambie.",
                    f"At {t}{_in(room)}, {intro} woke as a hambie: still themself, and hungry.",
                ],
            )
            lines.append(_Line(_cap(text.replace(",,", ",")), [int(row)], time=float(e["time_s"])))
        rest = turned[~turned.index.isin(named.index)]
        if len(rest):
            who = (
                _plural(len(rest), "other person", "other people")
                if len(named)
                else _plural(len(rest), "person", "people")
            )
            what = "a hambie" if len(rest) == 1 else "hambies"
            text = f"{_cap(who)} became {what}, the first at {self.when(rest['time_s'].iloc[0])}."
            lines.append(_Line(text, list(rest.index), time=np.inf))
        reveals = self.rows("hambie_found", "hambie_discovered", "hambie_vote")
        involved = reveals.index.isin(self.named_rows(reveals).index) | reveals.index.isin(
            self.named_rows(reveals, "other").index
        )
        told = reveals[involved | (np.cumsum(~involved) <= _PER_PERSON * 2)]
        for row, e in told.iterrows():
            lines.append(_Line(self.event_sentence(int(row)), [int(row)], time=float(e["time_s"])))
        rest = reveals[~reveals.index.isin(told.index)]
        if len(rest):
            found = int(rest["kind"].isin(["hambie_found", "hambie_discovered"]).sum())
            votes = rest[rest["kind"] == "hambie_vote"]["note"].value_counts()
            verdicts = _join([f"{n:,} to {v}" for v, n in votes.items()])
            text = f"Other hambies were found out {_plural(found, 'more time')}" + (
                f"; the votes went {verdicts}." if verdicts else "."
            )
            lines.append(_Line(text, list(rest.index), time=float(rest["time_s"].iloc[-1])))
        lines.sort(key=lambda line: line.time)
        return [_paragraph(lines)] if lines else []

    def the_end(self) -> list[str]:
        lines: list[_Line] = [
            self.world_line(int(r), e)
            for r, e in self.rows("rescue_arrives", "rescue_leaves", "unbarricade").iterrows()
        ]
        for kind, verb in (("escape", "got out"), ("rescue", "were rescued")):
            frame = self.rows(kind)
            named = self.named_rows(frame)
            lines += [
                _Line(self.event_sentence(int(r)), [int(r)], time=float(e["time_s"])) for r, e in named.iterrows()
            ]
            rest = frame[~frame.index.isin(named.index)]
            if len(rest):
                who = (
                    _plural(len(rest), "other person", "other people")
                    if len(named)
                    else _plural(len(rest), "person", "people")
                )
                verb = verb.replace("were", "was") if len(rest) == 1 else verb
                first, last = self.when(rest["time_s"].iloc[0]), self.when(rest["time_s"].iloc[-1])
                span = f"at {first}" if len(rest) == 1 else f"between {first} and {last}"
                infected = self._carrying(rest)
                bitten = f"; {infected:,} of them carried a bite out with them" if infected and len(rest) > 1 else ""
                bitten = ", carrying a bite" if infected and len(rest) == 1 else bitten
                text = f"{_cap(who)} {verb} {span}{bitten}."
                lines.append(_Line(text, list(rest.index), time=float(rest["time_s"].iloc[-1])))
        lines.sort(key=lambda line: line.time)
        healthy = np.flatnonzero(self.fate == "healthy")
        bites = self.rows("bite")
        if healthy.size and len(self.ev):
            text = f"When the run ended, {_plural(healthy.size, 'person', 'people')} had never been bitten and were still in the school."
            lines.append(_Line(text, [int(self.ev.index[-1])], list(healthy)))
        elif len(bites):
            last = int(bites.index[-1])
            t, room = self.when(self.ev.at[last, "time_s"]), self.ev.at[last, "room"]
            lines.append(_Line(f"The last person still unbitten in the school was bitten at {t}{_in(room)}.", [last]))
        zombies = np.flatnonzero(self.fate == "zombie")
        turned = self.rows("turn")
        if zombies.size and len(turned):
            lines.append(
                _Line(
                    f"{_plural(zombies.size, 'zombie')} still roamed the building.", list(turned.index), list(zombies)
                )
            )
        return [_paragraph(lines)] if lines else []

    def fates(self) -> list[str]:
        items = [self.fate_line(int(pid)) for pid in np.flatnonzero(self.named)]
        return ["\n".join(f"- {line.render()}" for line in items if line is not None)] if any(items) else []

    def fate_line(self, pid: int) -> _Line | None:
        """One person's fate: bitten, turned, stopped, escaped or still hiding, with times and places."""
        role = str(self.role[pid])
        what = f"{role}, class {self.klass[pid]}" if self.klass[pid] else role
        mine = self.involving(pid)
        clauses, rows = [], []

        def first(kinds: Sequence[str], column: str = "person") -> pd.DataFrame:
            return mine[mine["kind"].isin(kinds) & (mine[column] == pid)].head(1)

        for r, e in first(["bite", "patient_zero"]).iterrows():
            biter = int(e["other"])
            by = f" by {self.who(biter)}" if self.is_named(biter) and e["kind"] == "bite" else ""
            clauses.append(f"bitten{by} at {self.when(e['time_s'])}{_in(e['room'])}")
            rows.append(int(r))
        for r, e in first(["turn", "hambie"]).iterrows():
            verb = "turned" if e["kind"] == "turn" else "became a hambie"
            clauses.append(f"{verb} at {self.when(e['time_s'])}{_in(e['room'])}")
            rows.append(int(r))
        for r, e in first(["kill"], "other").iterrows():
            clauses.append(
                f"stopped for good by {self.who(int(e['person']))} at {self.when(e['time_s'])}{_in(e['room'])}"
            )
            rows.append(int(r))
        for r, e in first(["escape", "rescue"]).iterrows():
            verb = "got out of the building" if e["kind"] == "escape" else "was rescued"
            clauses.append(f"{verb} at {self.when(e['time_s'])}{_in(e['room'])}")
            rows.append(int(r))
        people_rows: list[int] = []
        if self.fate[pid] == "healthy":
            room = str(self.people.at[pid, "fate_room"]) if "fate_room" in self.people else ""
            clauses.append(
                f"never bitten; still{_in(room)} when the run ended" if room not in ("", "nan") else "never bitten"
            )
            people_rows.append(pid)
        elif self.fate[pid] == "bitten":
            clauses.append("had not turned when the run ended")
            people_rows.append(pid)
        if not rows and not people_rows:
            return None
        return _Line(f"**{self.name[pid]}** ({what}): " + "; ".join(clauses) + ".", rows, people_rows)

    def saviours(self) -> list[str]:
        lines: list[_Line] = []
        for row, e in self.rows("sacrifice", "go_back", "saved", "lure", "wait").iterrows():
            if self.is_named(int(e["person"])) or self.is_named(int(e["other"])):
                lines.append(_Line(self.event_sentence(int(row)), [int(row)], time=float(e["time_s"])))
        kills = self.rows("kill")
        by_named = self.named_rows(kills)
        for pid, group in by_named.groupby("person", sort=False):
            row = int(group.index[0])
            lines.append(_Line(self.event_sentence(row), [row], time=float(group["time_s"].iloc[0])))
            if len(group) > 1:
                text = f"{self.who(int(pid))} stopped {_plural(len(group), 'zombie')} in all."
                lines.append(_Line(text, list(group.index), time=float(group["time_s"].iloc[0])))
        lines.sort(key=lambda line: line.time)
        rest = kills[~kills.index.isin(by_named.index)]
        if len(rest):
            lead = "Other people" if len(by_named) else "People"
            lines.append(_Line(f"{lead} stopped {_plural(len(rest), 'zombie')} for good.", list(rest.index)))
        return [_paragraph(lines)] if lines else []

    def others(self) -> list[str]:
        unknown = self.ev[~self.ev["kind"].isin(_KNOWN_KINDS)]
        lines: list[_Line] = []
        for kind, group in unknown.groupby("kind", sort=False):
            told = group[group["person"].lt(0) | group.index.isin(self.named_rows(group).index)].head(_SIEGE_ROOMS)
            lines += [_Line(self.generic(int(r), e), [int(r)], time=float(e["time_s"])) for r, e in told.iterrows()]
            rest = group[~group.index.isin(told.index)]
            if len(rest):
                lines.append(
                    _Line(
                        f"{_plural(len(rest), 'more event')} of the kind “{kind}” involved other people.",
                        list(rest.index),
                    )
                )
        return [_paragraph(lines)] if lines else []

    # --- single events -----------------------------------------------------------------------------

    def event_sentence(self, row: int, subject: int | None = None) -> str:
        """One event as a sentence; `subject` is named even when generated (a person's own path)."""
        e = self.ev.iloc[row]
        kind, p, o = e["kind"], int(e["person"]), int(e["other"])
        t, room, at = self.when(e["time_s"]), e["room"], f"{self.when(e['time_s'])}{_in(e['room'])}"

        def name(pid: int, cap: bool = False) -> str:
            return self.who(pid, named_only=pid != subject, cap=cap)

        if kind == "patient_zero":
            return f"{name(p, True)} was bitten at {at}: the first case."
        if kind == "bite":
            biter = self.attacker(o, e["time_s"], subject)
            return _pick(
                f"e{row}", [f"{name(p, True)} was bitten by {biter} at {at}.", f"At {at}, {biter} bit {name(p)}."]
            )
        if kind in ("turn", "hambie"):
            return f"{name(p, True)} {'turned' if kind == 'turn' else 'became a hambie'} at {at}."
        if kind == "kill":
            zombie = (
                f"the zombie that had been {name(o)}" if self.is_named(o) or (o == subject and o >= 0) else "a zombie"
            )
            return _pick(
                f"e{row}", [f"{name(p, True)} stopped {zombie} at {at}.", f"At {at}, {name(p)} brought down {zombie}."]
            )
        if kind in ("door_open", "door_close", "barricade", "hold_door", "breach"):
            door = self.door_room(row)
            of = f" of {_the(door)}" if door else ""
            if kind == "breach":
                breaker = name(p, True) if p == subject else "Zombies"
                return f"{breaker} broke through the door{of} at {t}."
            verb = {"door_open": "opened", "door_close": "closed", "barricade": "barricaded", "hold_door": "held"}[kind]
            return f"{name(p, True)} {verb} the door{of} at {t}."
        if kind in ("escape", "rescue"):
            bitten = 0 <= p < len(self.bitten_at) and self.bitten_at[p] <= e["time_s"]
            carrying = ", carrying a bite" if bitten else ""
            if kind == "rescue":
                return f"{name(p, True)} was rescued at {at}{carrying}."
            return _pick(
                f"e{row}",
                [
                    f"{name(p, True)} got out at {at}{carrying}.",
                    f"At {t}, {name(p)} got out of the building{_in(room)}{carrying}.",
                ],
            )
        if kind == "scream":
            return _pick(
                f"e{row}", [f"{name(p, True)} screamed at {at}.", f"At {at}, {name(p)} could not hold back a scream."]
            )
        if kind == "panic":
            return f"{name(p, True)} panicked and bolted at {at}."
        if kind == "freeze":
            return f"{name(p, True)} froze in terror at {at}, a zombie in sight."
        if kind == "grief":
            return f"At {t}, {name(p)} learned what had happened to {name(o)}."
        if kind in ("hambie_found", "hambie_discovered"):
            finder = name(o) if self.is_named(o) or o == subject or self.is_named(p) or p == subject else "someone"
            return f"At {at}, {finder} found out that {name(p)} was a hambie."
        if kind == "hambie_vote":
            them = name(p) if self.is_named(p) or p == subject else "the hambie"
            verdict = {
                "keep": f"keep {them} among them",
                "restrain": f"tie {them} up",
                "isolate": f"shut {them} away",
                "expel": f"drive {them} out",
            }.get(e["note"].strip(), f"decide about {them} ({e['note'].strip() or 'no verdict'})")
            return f"At {at}, the group voted to {verdict}."
        if kind == "abandon":
            if o == p:
                return f"{name(p, True)}, who led the group, left the others to fend for themselves at {at}."
            group = f"{name(o)}'s group" if o >= 0 else "the group"
            return f"{name(p, True)} abandoned {group} at {at}."
        if kind == "wait":
            return f"{name(p, True)} waited{_in(room)} for {name(o)} at {t}."
        if kind == "sacrifice":
            return f"{name(p, True)} gave their life so that {name(o)} could get away, at {at}."
        if kind == "go_back":
            return f"{name(p, True)} went back for {name(o)} at {at}."
        if kind == "saved":
            return f"{name(p, True)} brought {name(o)} back to safety at {at}."
        if kind == "lure":
            return f"{name(p, True)} slipped out alone to draw the zombies away from the others at {at}."
        if kind == "shout":
            return f"{name(p, True)} shouted to draw the zombies at {at}."
        if kind == "group_split":
            return f"{name(p, True)}'s group split up at {at}."
        if kind in _WORLD_KINDS:
            return self.world_line(row, e).text
        return self.generic(row, e)

    def generic(self, row: int, e: pd.Series) -> str:
        """Any other kind of event, told plainly."""
        who = [self.who(int(x)) for x in (e["person"], e["other"]) if int(x) >= 0]
        people = f", involving {_join(who)}" if who else ""
        note = f" ({e['note'].strip()})" if e["note"].strip() else ""
        return f"At {self.when(e['time_s'])}{_in(e['room'])}: {str(e['kind']).replace('_', ' ')}{people}{note}."

    # --- one person ----------------------------------------------------------------------------------

    def person(self, name: str) -> str:
        pid = self._find(name)
        me = str(self.name[pid])
        role = str(self.role[pid])
        klass = f" of class {self.klass[pid]}" if self.klass[pid] else ""
        article = "an" if role[:1] in "aeiou" else "a"
        out = [f"# {me}", "", _Line(f"{me} was {article} {role}{klass}.", [], [pid]).render(), ""]
        ties = []
        seen = set()
        for row in self.ties.itertuples(index=False):
            a, b, kind = int(row.person), int(row.other), str(row.kind)
            if pid not in (a, b):
                continue
            j = b if a == pid else a
            if (j, kind, a == pid) in seen or not (0 <= j < len(self.name)):
                continue
            seen.add((j, kind, a == pid))
            if a != pid and kind in _SYMMETRIC:
                continue  # stored both ways: told once, from this side
            text = (_OUTGOING if a == pid else _INCOMING)[kind].format(other=self.name[j], me=me)
            ties.append(_Line(f"{text} (weight {float(row.weight):.2g})", [], [pid, j]))
        if ties:
            shown = sorted(ties, key=lambda line: (not self.is_named(line.people[-1]), line.text))[:30]
            out += ["## Ties", "", *[f"- {line.render()}" for line in shown]]
            if len(ties) > len(shown):
                out.append(f"- {_Line(f'and {len(ties) - len(shown):,} more', [], [pid]).render()}")
            out.append("")
        out += ["## Path", ""]
        mine = self.involving(pid)
        mine = mine[~((mine["kind"] == "grief") & (mine["other"] == pid))]  # others' grief is their story
        doors: list[int] = []
        path: list[str] = []

        def flush_doors() -> None:
            if doors:
                first, last = self.when(self.ev.at[doors[0], "time_s"]), self.when(self.ev.at[doors[-1], "time_s"])
                span = f"at {first}" if first == last else f"between {first} and {last}"
                line = _Line(f"{me} opened or closed doors {_plural(len(doors), 'time')} {span}.", list(doors))
                path.append(f"- {line.render()}")
                doors.clear()

        previous = ""
        rows: list[int] = []

        def flush_sentence() -> None:
            # The same sentence twice in a row (two bites in one second) is told once, citing both.
            if rows:
                path.append(f"- {_Line(previous, list(rows)).render()}")
                rows.clear()

        for row, e in mine.iterrows():
            if e["kind"] in ("door_open", "door_close") and e["person"] == pid:
                flush_sentence()
                doors.append(int(row))
                continue
            flush_doors()
            text = self.event_sentence(int(row), subject=pid)
            if text != previous:
                flush_sentence()
                previous = text
            rows.append(int(row))
        flush_sentence()
        flush_doors()
        out += path or [_Line(f"No event of the run involved {me}.", [], [pid]).render()]
        fate = self.fate_line(pid)
        if fate is not None:
            out += ["", "## Fate", "", fate.render()]
        return "\n".join(out).rstrip() + "\n"

    def _find(self, name: str) -> int:
        names = [str(n) for n in self.name]
        wanted = name.strip()
        if wanted in names:
            return names.index(wanted)
        lowered = [n.lower() for n in names]
        if wanted.lower() in lowered:
            return lowered.index(wanted.lower())
        named = [n for n, k in zip(names, self.named, strict=True) if k]
        hint = difflib.get_close_matches(wanted, named, n=1, cutoff=0.5) or difflib.get_close_matches(
            wanted, names, n=1
        )
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise UserInputError(f"--person: nobody called {name!r} in this run{did}")


# --- helpers ---------------------------------------------------------------------------------------


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _is_passage(room: str) -> bool:
    low = room.lower()
    return any(word in low for word in ("corridor", "landing", "yard", "hall", "stair", "grounds"))


def _door_room_map(world: dict[str, Any]) -> dict[tuple[int, int, int], list[str]]:
    """For each door tile of the maps in world.json: the rooms it opens onto (from their anchors)."""
    from scipy import ndimage

    out: dict[tuple[int, int, int], list[str]] = {}
    maps = world.get("maps", [])
    rooms = world.get("rooms", [])
    for f, rows in enumerate(maps):
        if not rows:
            continue
        width = max(len(r) for r in rows)
        grid = np.array([list(r.ljust(width)) for r in rows])
        inside = np.isin(grid, [".", ">"]) | np.char.isdigit(grid)
        label, _ = ndimage.label(inside)
        room_of_label = {}
        for room in rooms:
            if room.get("floor") == f and 0 <= room["row"] < grid.shape[0] and 0 <= room["col"] < width:
                room_of_label.setdefault(int(label[room["row"], room["col"]]), room["name"])
        for y, x in np.argwhere(np.isin(grid, ["/", "+", "&", "%"])):
            names = []
            for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                yy, xx = y + dy, x + dx
                if 0 <= yy < grid.shape[0] and 0 <= xx < width and label[yy, xx]:
                    name = room_of_label.get(int(label[yy, xx]))
                    if name and name not in names:
                        names.append(name)
            out[(f, int(y), int(x))] = names
    return out
