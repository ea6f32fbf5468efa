"""The chase model of `benchmarks/bench_chase.py`, written idiomatically in Mesa 3 (peer benchmark).

Run with an interpreter that has Mesa >= 3.4 (Python >= 3.12), e.g.::

    /tmp/mesa-venv/bin/python benchmarks/peers/mesa_chase.py --steps 1000

It prints one JSON line: setup and run times, steps/s, agent-steps/s and zombie counts.

Rules (the same as the hyosan version): a 100 x 100 grid, no walls, not toroidal. Each step every agent
acts once, in a fresh random order (`shuffle_do`). A person random-walks: one of the 9 moves (8
neighbours or stay) uniformly, clamped at the edges. A zombie looks for the nearest person within a
Euclidean sight radius of 10 cells whose line of sight (Bresenham, tested against the wall set, which is
empty) is clear, and steps one cell toward them; if none, it random-walks like a person. Then it bites
every person on its cell or the 8 neighbouring cells with probability 0.5 each; a bitten person becomes
a zombie at once (a new agent, which acts from the next step on). With no person left, a zombie neither
looks nor bites (both versions skip the search then).

The radius-10 and radius-1 neighbourhoods of every cell are built (and cached by Mesa) before the timed
run and timed separately as setup, so Mesa is not charged for filling its caches.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import mesa
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

SIGHT = 10
BITE_CHANCE = 0.5
OUTBREAK_STEPS = 20  # the first steps, timed apart: the chase phase, while people are left
CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100)  # steps at which the zombie count is reported
MOVES = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _sign(v: int) -> int:
    return (v > 0) - (v < 0)


class Walker(CellAgent):
    """What people and zombies share: a cell to stand on and a clamped random walk."""

    def __init__(self, model: mesa.Model, cell) -> None:
        super().__init__(model)
        self.cell = cell

    def random_walk(self) -> None:
        x, y = self.cell.coordinate
        dx, dy = self.random.choice(MOVES)
        width, height = self.model.grid.dimensions
        self.cell = self.model.grid[(min(max(x + dx, 0), width - 1), min(max(y + dy, 0), height - 1))]


class Person(Walker):
    def step(self) -> None:
        self.random_walk()

    def turn(self) -> None:
        """Bitten: replaced by a zombie on the same cell."""
        cell = self.cell
        self.remove()
        Zombie(self.model, cell)


class Zombie(Walker):
    def step(self) -> None:
        if not self.model.agents_by_type.get(Person):  # nobody left to see or bite
            self.random_walk()
            return
        target = self.nearest_visible_person()
        if target is None:
            self.random_walk()
        else:
            x, y = self.cell.coordinate
            tx, ty = target.cell.coordinate
            self.cell = self.model.grid[(x + _sign(tx - x), y + _sign(ty - y))]
        self.bite()

    def nearest_visible_person(self) -> Person | None:
        x, y = self.cell.coordinate
        best = None
        best_d2 = SIGHT * SIGHT + 1
        for agent in self.cell.get_neighborhood(radius=SIGHT).agents:
            if not isinstance(agent, Person):
                continue
            ax, ay = agent.cell.coordinate
            d2 = (ax - x) ** 2 + (ay - y) ** 2
            if d2 < best_d2 and self.model.line_of_sight(x, y, ax, ay):
                best = agent
                best_d2 = d2
        return best

    def bite(self) -> None:
        near = [a for a in self.cell.get_neighborhood(include_center=True).agents if isinstance(a, Person)]
        for person in near:
            if self.random.random() < BITE_CHANCE:
                person.turn()


class ChaseModel(mesa.Model):
    def __init__(self, width: int = 100, height: int = 100, people: int = 1800, zombies: int = 200, seed: int = 1):
        super().__init__(rng=seed)
        self.grid = OrthogonalMooreGrid((width, height), torus=False, capacity=None, random=self.random)
        self.walls: set[tuple[int, int]] = set()  # an open field; the sight test still walks every line
        cells = self.grid.all_cells
        Person.create_agents(self, people, [cells.select_random_cell() for _ in range(people)])
        Zombie.create_agents(self, zombies, [cells.select_random_cell() for _ in range(zombies)])

    def step(self) -> None:
        self.agents.shuffle_do("step")

    def line_of_sight(self, x0: int, y0: int, x1: int, y1: int) -> bool:
        """Bresenham: is every cell strictly between the two ends free of walls?"""
        walls = self.walls
        dx = abs(x1 - x0)
        dy = abs(y1 - y0)
        sx = 1 if x1 > x0 else -1
        sy = 1 if y1 > y0 else -1
        err = dx - dy
        x, y = x0, y0
        while (x, y) != (x1, y1):
            e2 = 2 * err
            if e2 > -dy:
                err -= dy
                x += sx
            if e2 < dx:
                err += dx
                y += sy
            if (x, y) != (x1, y1) and (x, y) in walls:
                return False
        return True

    def zombie_count(self) -> int:
        return len(self.agents_by_type.get(Zombie, ()))


def run(steps: int, width: int, height: int, people: int, zombies: int, seed: int) -> dict:
    t0 = time.perf_counter()
    model = ChaseModel(width, height, people, zombies, seed)
    for cell in model.grid.all_cells:  # fill Mesa's neighbourhood caches outside the timed run
        cell.get_neighborhood(radius=SIGHT)
        cell.get_neighborhood(include_center=True)
    setup_s = time.perf_counter() - t0
    zombies_at = {}
    outbreak_steps = min(OUTBREAK_STEPS, steps)
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        model.step()
        if k == outbreak_steps:
            outbreak_s = time.perf_counter() - t0
        if k in CHECKPOINTS or k == steps:
            zombies_at[k] = model.zombie_count()
    run_s = time.perf_counter() - t0
    n = people + zombies
    return {
        "impl": "mesa",
        "mesa": mesa.__version__,
        "python": platform.python_version(),
        "steps": steps,
        "agents": n,
        "grid": [width, height],
        "setup_s": setup_s,
        "run_s": run_s,
        "steps_per_s": steps / run_s,
        "agent_steps_per_s": steps * n / run_s,
        "outbreak_steps": outbreak_steps,
        "outbreak_s": outbreak_s,
        "zombies_at": zombies_at,
        "final_zombies": model.zombie_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--height", type=int, default=100)
    parser.add_argument("--people", type=int, default=1800)
    parser.add_argument("--zombies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(args.steps, args.width, args.height, args.people, args.zombies, args.seed)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
