"""Scenario overrides by dotted key (``zombie.sprint_speed``), validated by the scenario's own pydantic models.

This is an adapter over `hyosan.scenario`: the scenario is dumped to data, the keys are set, and the
data is validated again as a new `Scenario`, so every value passes the same checks (units, bounds,
cross-field rules) as in a TOML file, and `Scenario.content_hash` reflects the change.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hyosan.errors import UserInputError
from hyosan.scenario import Scenario

__all__ = ["KeyPath", "override_scenario", "parse_key", "scenario_value"]

KeyPath = tuple[str | int, ...]
# The seed of each run comes from the master seed and the run's key; a scenario's own seed would be ignored.
_NOT_SWEEPABLE = {("run", "seed"): "each run's seed comes from --seed (the master seed) and the run's key"}
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_key(key: str, scenario: Scenario, option: str = "--set") -> tuple[KeyPath, Any]:
    """Check a dotted key against the scenario's schema; return its path and the annotation of the value there.

    Items of lists are written ``events[0].at`` (or ``events.0.at``); room labels ``world.floors[1].rooms.i.light``.
    An unknown key gets a "did you mean" hint, as in a scenario file.
    """
    parts = _split(key, option)
    data = scenario.model_dump(mode="python")
    model: Any = Scenario
    node: Any = data
    done: list[str | int] = []
    for part in parts:
        where = _dotted(done) or "the scenario"
        if isinstance(model, type) and issubclass(model, BaseModel):
            fields = list(model.model_fields)
            if not isinstance(part, str) or part not in model.model_fields:
                raise UserInputError(f"{option} {key}: {_unknown(str(part), fields, where)}")
            model = _unwrap(model.model_fields[part].annotation)
            node = node.get(part) if isinstance(node, dict) else None
        elif typing.get_origin(model) is list:
            length = len(node) if isinstance(node, list) else 0
            if not isinstance(part, int) or not 0 <= part < length:
                raise UserInputError(
                    f"{option} {key}: {where} is a list of {length} item{'s' if length != 1 else ''}; "
                    f"index it as {where}[0]" + (f" to {where}[{length - 1}]" if length > 1 else "")
                )
            model = _unwrap(typing.get_args(model)[0])
            node = node[part]
        elif typing.get_origin(model) is dict:
            names = sorted(node) if isinstance(node, dict) else []
            if str(part) not in names:
                raise UserInputError(f"{option} {key}: {_unknown(str(part), names, where)}")
            part = str(part)
            model = _unwrap(typing.get_args(model)[1])
            node = node[part]
        else:
            raise UserInputError(f"{option} {key}: {where} is a single value; it has no key {part!r}")
        done.append(part)
    path = tuple(done)
    if path in _NOT_SWEEPABLE:
        raise UserInputError(f"{option} {key}: cannot be set here: {_NOT_SWEEPABLE[path]}")
    if path == ("extends",):
        raise UserInputError(f"{option} {key}: choose the scenario itself instead of what it extends")
    if (isinstance(model, type) and issubclass(model, BaseModel)) or typing.get_origin(model) in (list, dict):
        hint = ""
        if isinstance(model, type) and issubclass(model, BaseModel):
            hint = f"; set one of its keys: {', '.join(model.model_fields)}"
        raise UserInputError(f"{option} {key}: {_dotted(path)} is a table, not a single value{hint}")
    return path, model


def override_scenario(scenario: Scenario, changes: Mapping[str, Any], option: str = "--set") -> Scenario:
    """A new scenario with the values at `changes`' dotted keys replaced, validated as a whole."""
    data = scenario.model_dump(mode="json", exclude_unset=True)
    for key, value in changes.items():
        path, _ = parse_key(key, scenario, option)
        _assign(data, path, value)
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as exc:
        what = ", ".join(f"{k}={v}" for k, v in changes.items())
        error = exc.errors(include_url=False)[0]
        where = _dotted(tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        shown = not isinstance(error.get("input"), dict | list) and "got" not in message
        got = f"; got {_shown(error['input'])}" if shown else ""
        raise UserInputError(f"{option} {what}: {where}: {message[:1].lower()}{message[1:]}{got}") from None
    # Keep where the values were written, so errors raised while setting up a run still point at the file.
    changed._sources = list(scenario._sources)
    return changed


def scenario_value(scenario: Scenario, path: KeyPath) -> Any:
    """The validated value at `path` (numbers in the canonical unit: seconds, metres, m/s, dB)."""
    node: Any = scenario
    for part in path:
        node = getattr(node, str(part)) if isinstance(node, BaseModel) else node[part]
    return str(node) if isinstance(node, Path) else node


# --- helpers -----------------------------------------------------------------------------------


def _split(key: str, option: str) -> list[str | int]:
    text = key.strip()
    pos = 0
    parts: list[str | int] = []
    while pos < len(text):
        if text[pos] == "." and parts:
            pos += 1
        match = _SEGMENT.match(text, pos)
        if not match:
            raise UserInputError(f"{option} {key}: expected a dotted key such as zombie.sprint_speed or events[0].at")
        name, index = match.groups()
        parts.append(int(index) if index is not None else (int(name) if name.isdigit() else name))
        pos = match.end()
    if not parts:
        raise UserInputError(f"{option}: empty key; expected e.g. zombie.sprint_speed")
    return parts


def _unwrap(annotation: Any) -> Any:
    """X for X | None; the annotation itself otherwise."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def _unknown(part: str, allowed: list[str], where: str) -> str:
    hint = difflib.get_close_matches(part, allowed, n=1, cutoff=0.6)
    if hint:
        return f"unknown key {part!r} in {where}; did you mean {hint[0]!r}?"
    return f"unknown key {part!r} in {where}; expected one of: {', '.join(allowed) or 'nothing'}"


def _assign(data: dict[str, Any], path: KeyPath, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        # Sections left at their defaults are absent from the dump: an empty table takes the defaults again.
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[path[-1]] = value


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
