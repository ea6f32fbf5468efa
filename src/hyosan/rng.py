"""Named random streams from one seed, so a change in one subsystem does not reshuffle the others."""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["RandomStreams"]


class RandomStreams:
    """One `numpy.random.Generator` per named subsystem, all derived from a single seed.

    Each stream is seeded by ``SeedSequence(seed, spawn_key=(crc32(name),))``: it depends only on the
    run's seed and the stream's name, never on which other streams exist or how much they were used.

    >>> streams = RandomStreams(1)
    >>> float(streams["movement"].random()) == float(RandomStreams(1)["movement"].random())
    True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        stream = self._streams.get(name)
        if stream is None:
            key = zlib.crc32(name.encode("utf-8"))
            stream = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))
            self._streams[name] = stream
        return stream

    def seed_for(self, name: str) -> int:
        """A 63-bit integer seed for a named stream, for code that cannot take a Generator (Numba kernels)."""
        key = zlib.crc32(name.encode("utf-8"))
        return int(np.random.SeedSequence(self.seed, spawn_key=(key,)).generate_state(1, np.uint64)[0] >> np.uint64(1))
