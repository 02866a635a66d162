"""CIFAR-10 / CIFAR-100 in the python-pickle layout of the official archives, in memory.

CIFAR-10: ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` with keys ``data`` (N, 3072)
uint8 and ``labels``; CIFAR-100: ``train`` and ``test`` with ``fine_labels`` / ``coarse_labels``
(Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html).
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from mitheory._validate import check_option

_CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))


def _read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """``data`` (N, 3, 32, 32) uint8 and labels (N,) int64 of one pickle, or a clear error."""
    try:
        with open(path, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError, AttributeError) as exc:
        raise ValueError(f"CIFAR file {str(path)!r} is not a readable pickle: {exc}") from None
    if not isinstance(d, dict):
        raise ValueError(f"CIFAR file {str(path)!r} must hold a dict, got {type(d).__name__}")
    d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(f"CIFAR file {str(path)!r} must have keys 'data' and {label_key!r}, "
                         f"got {sorted(d)}")
    data = np.asarray(d["data"])
    labels = np.asarray(d[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"CIFAR file {str(path)!r}: 'data' must be uint8 (N, 3072), got "
                         f"{data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"CIFAR file {str(path)!r}: {label_key!r} has {labels.size} entries "
                         f"for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), labels  # rows are R(1024) G(1024) B(1024), row-major


def _read_names(path: Path, key: str) -> list[str] | None:
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        meta = pickle.load(fh, encoding="bytes")
    names = meta.get(key.encode(), meta.get(key))
    return None if names is None else [n.decode() if isinstance(n, bytes) else n for n in names]


class CIFARDataset(torch.utils.data.Dataset):
    """CIFAR-10 or CIFAR-100 from an extracted ``cifar-*-python`` folder (uint8 CHW tensors).

    Parameters
    ----------
    root : str or path
        The folder holding the pickles (e.g. ``cifar-10-batches-py``).
    train : bool
        Training split (50,000 images) or test split (10,000).
    label : {"fine", "coarse"}
        CIFAR-100 only: which label set (100 fine or 20 coarse classes).

    Attributes
    ----------
    data : torch.Tensor, shape (N, 3, 32, 32), uint8
    targets : torch.Tensor, shape (N,), int64
    variant : {"cifar10", "cifar100"}
    classes : list of str or None
        From ``batches.meta`` / ``meta`` when present.

    Raises
    ------
    FileNotFoundError
        If ``root`` or a pickle of the detected layout is missing.
    ValueError
        If a pickle is unreadable or has the wrong keys, dtype or shape.
    """

    def __init__(self, root: str | os.PathLike, *, train: bool = True,
                 label: Literal["fine", "coarse"] = "fine") -> None:
        root = Path(root)
        check_option(label, "label", ("fine", "coarse"))
        if not root.is_dir():
            raise FileNotFoundError(f"root {str(root)!r} does not exist or is not a folder")
        if (root / "test_batch").exists() or (root / "data_batch_1").exists():
            self.variant, files = "cifar10", _CIFAR10_TRAIN if train else ("test_batch",)
            label_key, meta, names_key = "labels", root / "batches.meta", "label_names"
        elif (root / "train").exists() or (root / "test").exists():
            self.variant, files = "cifar100", ("train",) if train else ("test",)
            label_key, meta, names_key = f"{label}_labels", root / "meta", f"{label}_label_names"
        else:
            raise FileNotFoundError(
                f"root {str(root)!r} holds neither CIFAR-10 (data_batch_1..5, test_batch) nor "
                f"CIFAR-100 (train, test) pickles")
        parts = []
        for name in files:
            if not (root / name).is_file():
                raise FileNotFoundError(f"CIFAR file {str(root / name)!r} is missing")
            parts.append(_read_batch(root / name, label_key))
        self.data = torch.from_numpy(np.concatenate([p[0] for p in parts]))
        self.targets = torch.from_numpy(np.concatenate([p[1] for p in parts]))
        self.classes = _read_names(meta, names_key)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.data[index], int(self.targets[index])
