"""Run every (combination, replicate) of an ensemble, locally or on a Dask cluster, into a resumable runs table.

Local workers are processes of a `concurrent.futures.ProcessPoolExecutor` (started with ``spawn``):
they cost nothing when idle, need no scheduler or network port, and stop at once on Ctrl-C. The
same tasks go to a Dask cluster with ``scheduler="tcp://host:8786"``. Each task returns finished
rows; the driver appends them to the table as they arrive, so an interrupted ensemble loses at most
the runs that were still going, and the next pass runs only the keys the table lacks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyosan.ensemble.grid import Design, run_seed, sweep_design
from hyosan.ensemble.runners import Runner
from hyosan.ensemble.table import open_table
from hyosan.errors import UserInputError

__all__ = ["EnsembleRun", "plan", "run_ensemble"]

FLUSH_SECONDS = 2.0  # finished runs wait at most this long (or until the next one finishes) before a part is written

Progress = Callable[[int, int], None]  # (runs finished in this pass, runs to do in this pass)


@dataclass
class EnsembleRun:
    """What a pass over an ensemble did: the whole table so far, and how many runs this pass executed."""

    folder: Path
    table: Any  # pandas.DataFrame, one row per finished (combination, replicate), sorted
    executed: int
    already_done: int
    design: Design
    combinations: list[dict[str, Any]]  # resolved values, per combination

    def runs(self, replicates: int | None = None) -> Any:
        """Rows of the first `replicates` replicates of every combination (all rows without it)."""
        if replicates is None or self.table.empty:
            return self.table
        return self.table[self.table["replicate"] < replicates].reset_index(drop=True)


def plan(runner: Runner, design: Design, option: str = "--set") -> list[dict[str, Any]]:
    """Validate every combination before anything runs; return their values in canonical units."""
    return [runner.resolve(combination, option) for combination in design.combinations]


def run_ensemble(
    runner: Runner,
    design: Design | Mapping[str, Sequence[Any]],
    replicates: int,
    out: str | Path,
    seed: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | Progress = False,
    option: str = "--set",
) -> EnsembleRun:
    """Run `replicates` runs of every combination of `design` with `runner`; rows go to the table in `out`.

    Seeds come from (`seed`, combination index, replicate) only, so the table's content does not
    depend on `workers`, on the scheduler, or on how many passes it took. Runs already in the table
    are skipped. `design` may be a mapping of parameter → values (every combination is run).
    `progress`: True for a Rich bar on stderr, or a callable ``(finished, to_do)``.
    """
    if not isinstance(design, Design):
        design = sweep_design([(key, list(values)) for key, values in design.items()])
    if replicates < 1:
        raise UserInputError(f"--replicates must be 1 or more, got {replicates}")
    if seed < 0:
        raise UserInputError(f"--seed must be 0 or more, got {seed}")
    if workers < 1:
        raise UserInputError(f"--workers must be 1 or more, got {workers}")
    combinations = plan(runner, design, option)
    from hyosan import __version__

    manifest = {
        "model": runner.describe(),
        "design": {"kind": design.kind, "parameters": list(design.parameters), "spec": design.spec},
        "combinations": combinations,
        "seed": int(seed),
        "hyosan_version": __version__,
    }
    with open_table(out, manifest) as table:
        done = table.keys()
        todo = [
            (c, r, run_seed(seed, c, r, runner.seed_bits), combinations[c])
            for c in range(len(combinations))
            for r in range(replicates)
            if (c, r) not in done
        ]
        size = max(1, int(runner.runs_per_task))
        tasks = [todo[i : i + size] for i in range(0, len(todo), size)]
        executed = 0
        buffer: list[dict[str, Any]] = []
        last_flush = -math.inf
        with _progress_reporter(progress, len(todo), len(done)) as advance:
            try:
                for rows in _finished(runner, tasks, workers, scheduler):
                    buffer.extend(rows)
                    executed += len(rows)
                    advance(executed)
                    if time.monotonic() - last_flush >= FLUSH_SECONDS:
                        table.append(buffer)
                        buffer, last_flush = [], time.monotonic()
            finally:
                # Also on Ctrl-C or a failed run: what finished is written before the error goes on.
                table.append(buffer)
        frame = table.compact()
    return EnsembleRun(Path(out), frame, executed, len(done), design, combinations)


# --- helpers -----------------------------------------------------------------------------------

Task = list[tuple[int, int, int, dict[str, Any]]]  # (combination, replicate, seed, resolved values) per run


def _run_task(runner: Runner, task: Task) -> list[dict[str, Any]]:
    """Runs of one task, in a worker: key, parameter values and seed first, then the runner's row."""
    rows = []
    for combination, replicate, seed, params in task:
        row = runner(params, seed)
        rows.append({"combination": combination, **params, "replicate": replicate, "seed": seed, **row})
    return rows


def _finished(runner: Runner, tasks: list[Task], workers: int, scheduler: str | None) -> Iterator[list[dict]]:
    if not tasks:
        return
    if scheduler is not None:
        yield from _on_dask(runner, tasks, scheduler)
    elif workers == 1 or len(tasks) == 1:
        for task in tasks:
            yield _run_task(runner, task)
    else:
        yield from _on_processes(runner, tasks, min(workers, len(tasks)))


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: only the driver handles it (it writes what finished).
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_processes(runner: Runner, tasks: list[Task], workers: int) -> Iterator[list[dict]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the driver may already run threads (the progress bar), which fork does not copy safely.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
    complete = False
    try:
        futures = [pool.submit(_run_task, runner, task) for task in tasks]
        for future in as_completed(futures):
            try:
                rows = future.result()
            except BrokenProcessPool:
                raise RuntimeError(
                    "a worker process died (killed, out of memory, or it could not start: a script that calls "
                    'run_ensemble with workers > 1 must do so under `if __name__ == "__main__":`)'
                ) from None
            yield rows
        complete = True
    finally:
        if not complete:
            # Runs still going are lost either way; do not wait minutes for them to end.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(runner: Runner, tasks: list[Task], scheduler: str) -> Iterator[list[dict]]:
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise UserInputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from None
    futures: list[Any] = []
    try:
        shared = client.scatter(runner, broadcast=True, hash=False)
        futures = client.map(_run_task, [shared] * len(tasks), tasks, pure=False)
        for _, rows in as_completed(futures, with_results=True):
            yield rows
    finally:
        if futures:
            client.cancel(futures)
        client.close()


class _progress_reporter:  # noqa: N801 (used as a context manager, reads like one)
    """A Rich bar with ETA on stderr, a caller's callback, or nothing."""

    def __init__(self, progress: bool | Progress, total: int, done_before: int) -> None:
        self.progress = progress
        self.total = total
        self.done_before = done_before
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if callable(self.progress):
            callback = self.progress
            return lambda finished: callback(finished, self.total)
        if not self.progress:
            return lambda finished: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.bar.__enter__()
        described = "runs" if not self.done_before else f"runs ({self.done_before:,} already done)"
        task = self.bar.add_task(described, total=self.total)
        return lambda finished: self.bar.update(task, completed=finished)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
