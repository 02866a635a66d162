"""Naming a user's image dataset on a command line (``cifar10:PATH``) and loading it in batches."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from mitheory._validate import check_int


def parse_dataset_spec(spec: str, kinds: Sequence[str], *, name: str = "dataset"
                       ) -> tuple[str, str]:
    """Split ``"kind:PATH"`` into ``(kind, path)``, checked against the accepted ``kinds``.

    ``kinds`` lists the accepted forms, e.g. ``("imageworld", "cifar10:PATH")``: a form ending
    in ``":PATH"`` needs a non-empty path, any other form takes none.

    >>> parse_dataset_spec("cifar10:/data/c10", ("imageworld", "cifar10:PATH"))
    ('cifar10', '/data/c10')

    Raises
    ------
    ValueError
        Naming ``name`` and the accepted forms, if the kind is unknown or its path is missing.
    """
    if not isinstance(spec, str):
        raise TypeError(f"{name} must be a string such as {kinds[0]!r}, got {spec!r}")
    kind, _, path = spec.partition(":")
    needs_path = {k.partition(":")[0]: k.endswith(":PATH") for k in kinds}
    if kind not in needs_path or needs_path[kind] != bool(path):
        raise ValueError(f"{name} must be {', '.join(kinds[:-1])} or {kinds[-1]}, got {spec!r}")
    return kind, path


def shuffled_loader(dataset: Any, batch_size: int, seed: int) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` that reshuffles each epoch from ``seed`` and drops the last short batch
    (the image studies' training stream: same seed, same batches)."""
    check_int(batch_size, "batch_size", minimum=1)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                       drop_last=True,
                                       generator=torch.Generator().manual_seed(int(seed)))
