"""Parameters and interventions of the country model: a pydantic schema, TOML files and ``--set`` overrides.

A country configuration is a TOML file with a ``[model]`` table (the rates of `CountryParameters`)
and arrays of tables for the interventions: ``[[cordon]]``, ``[[evacuation]]`` and ``[[bombing]]``.
Every value has a default and a unit; unknown keys are errors with a did-you-mean, and errors in
a file name the file, line and column. ``--set key=value`` overrides one value (``bite_rate=4`` is
``model.bite_rate``; ``cordon.0.leak=0.01`` reaches into the first cordon).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hyosan.errors import UserInputError
from hyosan.units import Duration, Length

__all__ = [
    "DAY_S",
    "Area",
    "Bombing",
    "Cordon",
    "CountryConfig",
    "CountryParameters",
    "Evacuation",
    "builtin_configs",
    "load_config",
]

DAY_S = 86400.0
MILE_KM = 1.609344


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class CountryParameters(_Section):
    """Rates of the spatial outbreak; time in days, lengths in km unless a unit is written.

    Defaults follow Alemi et al. (2015)'s continental-US simulation where it gives a number (kill
    ratio, walking time) and the show (LORE.md) for the rest (turning delay, hambies); the bite rate
    is set so that cities fall within about a week, as Alemi et al. report (see docs/country.md).
    """

    bite_rate: float = Field(
        10.0,
        gt=0,
        le=1e4,
        description="β: bites per zombie per day among humans (per day). Calibrated: cities fall within a week.",
    )
    kill_ratio: float = Field(
        0.8,
        ge=0,
        le=100,
        description="α = κ/β: zombies destroyed per bite (Alemi et al.: 0.8, zombies win below 1).",
    )
    walk_time_per_km: Duration = Field(
        11 * 3600 / MILE_KM**2,
        gt=0,
        description=(
            "Time for a zombie to wander one km (s; accepts '4.25 h'). Zombies random-walk: wandering L km "
            "takes this times L² (diffusion D = 1 km² / (4·this)). Alemi et al.'s 11 h per mile = 4.25 h per km."
        ),
    )
    half_saturation_density: float = Field(
        100.0,
        ge=0,
        description=(
            "People per km² at which a zombie meets half the people it could bite (people/km²): "
            "bites are frequency-dependent in towns, density-dependent in the countryside. 0 = Alemi's pure 1/N."
        ),
    )
    turn_median: Duration = Field(180.0, gt=0, description="Median time from bite to turning (s); LORE: minutes.")
    turn_p90: Duration = Field(
        3600.0, gt=0, description="90th percentile of the time to turn (s); LORE: one in ten hides a bite for hours."
    )
    hambie_fraction: float = Field(
        0.02, ge=0, le=1, description="Share of the bitten who never fully turn (hambies); LORE: a few."
    )
    hambie_bite_ratio: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Bites by a hambie relative to a zombie's; LORE: they fight the hunger and rarely bite.",
    )
    trip_rate: float = Field(
        1.0,
        ge=0,
        le=100,
        description="Trips per person per day to another cell (per day); the bitten keep travelling until they turn.",
    )
    trip_distance_exponent: float = Field(
        2.5, ge=0, le=10, description="Gravity model: trips to a place fall off as distance^-γ (γ)."
    )
    trip_resolution: Length = Field(
        25_000.0,
        gt=0,
        description="Size of the blocks over which the gravity model is evaluated (m; accepts '25 km').",
    )
    tau_epsilon: float = Field(
        0.03, gt=0, lt=1, description="Tau-leaping: Cao–Gillespie–Petzold bound on relative propensity change."
    )
    tau_max_hop: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Tau-leaping: most a zombie may expect to move per movement step (sets the step).",
    )

    @model_validator(mode="after")
    def _order(self) -> CountryParameters:
        if self.turn_p90 <= self.turn_median:
            raise ValueError(f"turn_p90 ({self.turn_p90:g} s) must be longer than turn_median ({self.turn_median:g} s)")
        return self

    @property
    def walk_days_per_km(self) -> float:
        return self.walk_time_per_km / DAY_S

    @property
    def diffusion_km2_per_day(self) -> float:
        """Zombies' diffusion coefficient D (km²/day)."""
        return 1.0 / (4.0 * self.walk_days_per_km)

    def hop_rate(self, cell_km: float) -> float:
        """Rate at which one zombie leaves its cell (per day), to one of 4 neighbours: 4D/h²."""
        return 4.0 * self.diffusion_km2_per_day / cell_km**2

    def turn_phases(self) -> tuple[list[float], list[float]]:
        """The lognormal delay as three exponential phases: (shares, mean delays in days).

        One phase per band of the lognormal (below the median, median to p90, above p90) with the
        band's share and conditional mean: the mixture keeps the lognormal's mean and its slow tail.
        """
        mu = math.log(self.turn_median)
        sigma = math.log(self.turn_p90 / self.turn_median) / _Z90
        mean = math.exp(mu + sigma * sigma / 2.0)
        edges = [0.0, 0.5, 0.9, 1.0]
        shares, means = [], []
        for lo, hi in itertools.pairwise(edges):
            a = -math.inf if lo == 0.0 else _probit(lo)
            b = math.inf if hi == 1.0 else _probit(hi)
            partial = mean * (_phi(b - sigma) - _phi(a - sigma))  # E[T; band]
            shares.append(hi - lo)
            means.append(partial / (hi - lo) / DAY_S)
        return shares, means


class Area(_Section):
    """Where an intervention acts: a radius around a place or a point, a polygon, or a region of the lattice."""

    around: str | None = Field(None, description="Centre: a place name ('Seoul'; 'Hyosan' is the fictional city).")
    at: tuple[float, float] | None = Field(None, description="Centre as [latitude, longitude] (degrees).")
    radius: Length | None = Field(None, gt=0, description="Radius around the centre (m; accepts '20 km').")
    polygon: list[tuple[float, float]] | None = Field(
        None, description="Corners as [[lat, lon], ...] (at least 3), in order around the area."
    )
    region: str | None = Field(None, description="A region of the lattice (US state code, KR province code...).")
    cells: list[tuple[int, int]] | None = Field(
        None, description="Cells as [[row, col], ...] (lattices without geography)."
    )
    cell_radius: float | None = Field(
        None, ge=0, description="With `cells`: grow each cell into a disc of this many cells."
    )

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        if v is not None and len(v) < 3:
            raise ValueError(f"a polygon needs at least 3 corners, got {len(v)}")
        return v

    @model_validator(mode="after")
    def _one_way(self) -> Area:
        ways = [
            self.around is not None or self.at is not None,
            self.polygon is not None,
            self.region is not None,
            self.cells is not None,
        ]
        if sum(ways) != 1:
            raise ValueError("give exactly one of: around/at with radius, polygon, region, or cells")
        if (self.around is not None or self.at is not None) and self.radius is None:
            raise ValueError("around/at needs a radius (e.g. radius = '20 km')")
        if self.around is not None and self.at is not None:
            raise ValueError("give either around (a place) or at (coordinates), not both")
        if self.radius is not None and self.around is None and self.at is None:
            raise ValueError("radius needs a centre: around = 'place' or at = [lat, lon]")
        return self

    def describe(self) -> str:
        if self.around is not None:
            return f"{self.radius / 1000:g} km around {self.around}"
        if self.at is not None:
            return f"{self.radius / 1000:g} km around {self.at[0]:.4f}, {self.at[1]:.4f}"
        if self.polygon is not None:
            return f"polygon of {len(self.polygon)} corners"
        if self.region is not None:
            return f"region {self.region}"
        return f"{len(self.cells or [])} cell(s)"


class Cordon(Area):
    """A quarantine cordon (LORE: the government seals Hyosan) and the army inside it (martial law)."""

    from_day: float = Field(0.0, ge=0, description="Day the cordon closes (days since the start).")
    leak: float = Field(0.0, ge=0, le=1, description="Chance that one attempt to cross the border gets through.")
    army_factor: float = Field(
        1.0, ge=0, le=1e3, description="Kill rate inside the cordon x this once the army is in (k)."
    )
    army_from_day: float | None = Field(
        None, ge=0, description="Day the army goes in (default: when the cordon closes)."
    )

    @property
    def army_day(self) -> float:
        return self.from_day if self.army_from_day is None else self.army_from_day


class Evacuation(Area):
    """Move people out of an area on a day: out of the country, or to a place."""

    day: float = Field(ge=0, description="Day of the evacuation.")
    share: float = Field(0.9, ge=0, le=1, description="Share of the area's people who leave.")
    bitten_hide: bool = Field(
        True, description="The bitten and hambies leave with them, hiding it (LORE: people hide bites for hours)."
    )
    to: str | None = Field(None, description="Destination place (default: out of the country, safe).")


class Bombing(Area):
    """Bomb an area on a day (LORE: the army finally bombs Hyosan): everyone there dies with a chance."""

    day: float = Field(ge=0, description="Day of the bombing.")
    lethality: float = Field(1.0, ge=0, le=1, description="Chance that a person or zombie in the area dies.")


class CountryConfig(_Section):
    """A whole configuration: the model's rates and the interventions."""

    model: CountryParameters = Field(default_factory=CountryParameters, description="Rates of the outbreak.")
    cordon: list[Cordon] = Field(default_factory=list, description="Quarantine cordons.")
    evacuation: list[Evacuation] = Field(default_factory=list, description="Evacuations.")
    bombing: list[Bombing] = Field(default_factory=list, description="Bombings.")
    hyosan_at: str = Field(
        "Cheonan",
        description="The real Korean place where the fictional city of Hyosan is put (see docs/country.md).",
    )


def builtin_configs() -> dict[str, Path]:
    """Built-in configurations (``src/hyosan/data/country/*.toml``) by name."""
    folder = resources.files("hyosan") / "data" / "country"
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return {Path(str(p)).stem: Path(str(p)) for p in entries if str(p).endswith(".toml")}


def load_config(source: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> CountryConfig:
    """Load a configuration (a built-in name or a TOML file; None = defaults) and apply ``key=value`` overrides."""
    data: dict[str, Any] = {}
    path: Path | None = None
    text = ""
    if source is not None:
        path = _resolve(source)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UserInputError(f"not UTF-8 text (byte {exc.start})", path) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            msg = str(exc)
            m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
            line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
            msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
            raise UserInputError(f"not valid TOML: {msg}", path, line, col) from None
    set_keys: set[tuple[str, ...]] = set()
    for item in overrides:
        set_keys.add(_apply_override(data, item))
    try:
        return CountryConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, path, text, set_keys) from None


# --- helpers ---------------------------------------------------------------------------------------

_Z90 = 1.2815515655446004  # standard normal quantile of 0.9


def _phi(x: float) -> float:
    if x == math.inf:
        return 1.0
    if x == -math.inf:
        return 0.0
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _probit(p: float) -> float:
    if p == 0.5:
        return 0.0
    if p == 0.9:
        return _Z90
    raise ValueError(f"no quantile table entry for {p}")


def _resolve(source: str | Path) -> Path:
    text = str(source)
    builtins = builtin_configs()
    looks_like_name = not text.endswith(".toml") and "/" not in text and "\\" not in text
    if looks_like_name and text in builtins:
        return builtins[text]
    path = Path(text)
    if path.is_file():
        return path
    if looks_like_name:
        hint = difflib.get_close_matches(text, builtins, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        known = ", ".join(sorted(builtins)) or "none"
        raise UserInputError(f"no built-in country configuration or file named {text!r}{did}. Built-ins: {known}")
    raise UserInputError("configuration file not found", path)


def _apply_override(data: dict[str, Any], item: str) -> tuple[str, ...]:
    if "=" not in item:
        raise UserInputError(f"--set expects key=value, got {item!r}")
    key, raw = (part.strip() for part in item.split("=", 1))
    parts = [p for p in key.split(".") if p]
    if not parts:
        raise UserInputError(f"--set expects key=value, got {item!r}")
    if parts[0] not in CountryConfig.model_fields and (parts[0] in CountryParameters.model_fields or len(parts) == 1):
        parts = ["model", *parts]
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word: a string such as a place name
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise UserInputError(f"--set {key}: no item {part} in {'.'.join(parts[:i]) or 'the list'}")
            node = node[int(part)]
            continue
        if part not in node:
            if part in ("cordon", "evacuation", "bombing"):
                raise UserInputError(f"--set {key}: there is no {part} to change; add one in a --config file")
            node[part] = [] if nxt.isdigit() else {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise UserInputError(f"--set {key}: no item {last}")
        node[int(last)] = value
    else:
        node[last] = value
    return tuple(parts)


def _validation_error(
    exc: ValidationError, path: Path | None, text: str, set_keys: set[tuple[str, ...]]
) -> UserInputError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(str(p) for p in first["loc"])
    message = _describe(first)
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} after this one)"
    if any(loc[: len(k)] == k for k in set_keys) or path is None:
        return UserInputError(f"{message} (from --set)" if set_keys else message)
    found = _locate(text, loc)
    return UserInputError(message, path, *(found or (None, None)))


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        allowed = sorted(_fields_at(loc[:-1]))
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        section = ".".join(str(p) for p in loc[:-1]) or "the top level"
        if hint:
            return f"unknown key {key!r} in {section}; did you mean {hint[0]!r}?"
        return f"unknown key {key!r} in {section}; expected one of: {', '.join(allowed)}"
    if error["type"] == "missing":
        return f"missing required key {where}"
    msg = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    if isinstance(got, dict | list):
        return f"{where}: {msg}" if where else msg
    return f"{where}: {msg}; got {got!r}" if where else msg


def _fields_at(loc: tuple[Any, ...]) -> set[str]:
    model: Any = CountryConfig
    for part in loc:
        if isinstance(part, int) or str(part).isdigit():
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            break
        annotation = fields[part].annotation
        inner = getattr(annotation, "__args__", None)
        model = inner[0] if inner else annotation
    return set(getattr(model, "model_fields", {}))


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def _locate(text: str, loc: tuple[str, ...]) -> tuple[int, int] | None:
    """Line and column of the key at `loc` (or of its deepest written parent) in a TOML text."""
    best: tuple[int, tuple[int, int]] | None = None
    current: tuple[str, ...] = ()
    counts: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                current = (*name.split("."), str(counts[name]))
            else:
                current = tuple(name.split("."))
            path, col = current, line.index(name) + 1
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path, col = (*current, key.group(1)), line.index(key.group(1)) + 1
        if path == loc:
            return n, col
        if loc[: len(path)] == path and (best is None or len(path) > best[0]):
            best = (len(path), (n, col))
    return best[1] if best else None
