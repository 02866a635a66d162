"""Seed handling: one normaliser for every random function, independent named streams.

Library code never touches global RNG state; only study entry points call ``seed_everything``.
"""
from __future__ import annotations

import random
import zlib
from typing import Any

import numpy as np
import torch

from mitheory._types import Seed


def as_seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """Normalise ``seed`` to a ``SeedSequence`` (a Generator contributes fresh entropy from
    itself)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63 - 1)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return np.random.SeedSequence(int(seed))
    if isinstance(seed, (tuple, list)) and seed and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in seed
    ):  # e.g. (seed, setting_index, replicate): one stream per named cell of a study grid
        return np.random.SeedSequence([int(s) for s in seed])
    raise TypeError(
        "seed must be an int, a tuple of non-negative ints, numpy Generator, SeedSequence or "
        f"None, got {seed!r}"
    )


def as_generator(seed: Seed) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (passed through if it already is one)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))


def spawn(seed: Seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child streams of ``seed`` (``SeedSequence.spawn``; never ``seed + i``).

    Examples
    --------
    >>> ss_data, ss_init = spawn(0, 2)
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return as_seed_sequence(seed).spawn(n)


def named_seed(*parts: int | str) -> tuple[int, ...]:
    """A seed tuple for a grid cell named by ``parts``: each string (a setting's or an
    objective's name) becomes its CRC-32, each non-negative int stays. A cell's streams then
    follow its names, not its position in the grid, so a run of a subset of the grid draws the
    same processes and trainings as the whole grid does.

    Examples
    --------
    >>> named_seed(0, "cs_stat", 1) == (0, zlib.crc32(b"cs_stat"), 1)
    True
    """
    if not parts:
        raise ValueError("named_seed needs at least one part, got none")
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(zlib.crc32(p.encode()))
        elif isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 0:
            out.append(int(p))
        else:
            raise TypeError(f"named_seed parts must be str or non-negative int, got {p!r}")
    return tuple(out)


def int_seed(seed: Seed) -> int:
    """A 63-bit integer derived from ``seed`` (for APIs that only take ints, e.g. torch seeds).

    The first 64-bit word of the seed's ``SeedSequence`` state, reduced mod 2**63 - 1.
    """
    return int(as_seed_sequence(seed).generate_state(1, dtype=np.uint64)[0] % (2**63 - 1))


def torch_generator(seed: Seed, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded from ``seed`` (deterministically when ``seed`` is an int)."""
    g = torch.Generator(device=device)
    g.manual_seed(int_seed(seed))
    return g


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed ``random``, numpy's legacy global RNG and torch (entry points only: studies, repro).

    With ``deterministic=True``, ``torch.use_deterministic_algorithms(True)`` is switched on.
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))  # legacy global state, for third-party code that uses it
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def seed_tuple(seed: Any) -> tuple[int, ...]:
    """``seed`` (an int or a non-empty tuple of ints) as a tuple, so that child streams can be
    named ``(*seed, j)``; anything else is a TypeError naming ``seed``."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return (int(seed),)
    if isinstance(seed, tuple) and seed and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seed):
        return tuple(int(s) for s in seed)
    raise TypeError(f"seed must be an int or a tuple of ints, got {seed!r}")
