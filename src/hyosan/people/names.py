"""Names for generated people: plausible Korean names, or numbered placeholders such as "Student 12"."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["NAME_STYLES", "korean_names", "numbered_names"]

NAME_STYLES = ("numbered", "korean")
_ROUNDS = 20  # redraws for names already taken before falling back to a numbered suffix


def korean_names(n: int, rng: np.random.Generator, taken: Iterable[str] = ()) -> list[str]:
    """`n` distinct names written like the show's characters ("Nam On-jo"), none of them in `taken`.

    The surname is drawn by its share of the Korean population; the given name joins two syllables
    from the lists shipped with hyosan. The same generator state gives the same names. Past about a
    hundred thousand names the combinations run short, and a few names get a suffix ("Kim Min-jun 2").
    """
    surnames, first, second = _syllables()
    used = set(taken)
    out: list[str | None] = [None] * n
    todo = np.arange(n)
    for _ in range(_ROUNDS):
        if todo.size == 0:
            break
        drawn = _draw(todo.size, rng, surnames, first, second)
        still = []
        for slot, name in zip(todo, drawn, strict=True):
            if name in used:
                still.append(slot)
            else:
                used.add(name)
                out[slot] = name
        todo = np.array(still, dtype=np.int64)
    suffix: dict[str, int] = {}
    bases = _draw(todo.size, rng, surnames, first, second) if todo.size else []
    for slot, base in zip(todo, bases, strict=True):  # combinations run short: number the repeats
        k = suffix.get(base, 2)
        while f"{base} {k}" in used:
            k += 1
        suffix[base] = k + 1
        used.add(f"{base} {k}")
        out[slot] = f"{base} {k}"
    return [name for name in out if name is not None]


def numbered_names(roles: Sequence[str], taken: Iterable[str] = ()) -> list[str]:
    """Placeholders numbered per role in order ("Student 1", "Student 2", "Teacher 1", ...), skipping `taken`."""
    used = set(taken)
    counters: dict[str, int] = {}
    names = []
    for role in roles:
        while True:
            counters[role] = counters.get(role, 0) + 1
            name = f"{role.capitalize()} {counters[role]}"
            if name not in used:
                break
        names.append(name)
    return names


# --- helpers -----------------------------------------------------------------------------------


def _draw(
    n: int,
    rng: np.random.Generator,
    surnames: tuple[np.ndarray, np.ndarray],
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
) -> list[str]:
    family = rng.choice(surnames[0], size=n, p=surnames[1])
    a = rng.choice(first[0], size=n, p=first[1])
    b = rng.choice(second[0], size=n, p=second[1])
    # A syllable twice ("Min-min") is rare in real names: take the next one on the second list instead.
    same = np.char.lower(a.astype(str)) == np.char.lower(b.astype(str))
    if same.any():
        position = {s: i for i, s in enumerate(second[0])}
        b[same] = [second[0][(position[s] + 1) % len(second[0])] for s in b[same]]
    return [f"{s} {x}-{y.lower()}" for s, x, y in zip(family, a, b, strict=True)]


@cache
def _syllables() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    folder = resources.files("hyosan") / "data" / "people"
    with (folder / "surnames.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    surnames = _weighted([r["surname"] for r in rows], [float(r["share"]) for r in rows])
    with (folder / "given_syllables.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first = _weighted([r["syllable"] for r in rows], [float(r["first"]) for r in rows])
    second = _weighted([r["syllable"] for r in rows], [float(r["second"]) for r in rows])
    return surnames, first, second


def _weighted(items: list[str], weights: list[float]) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    return np.array(items, dtype=object)[keep], w[keep] / w[keep].sum()
