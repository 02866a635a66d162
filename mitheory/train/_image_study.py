"""The image studies' cell: train one image method with evaluations at checkpoints, and draw
images from the rendered world or a user's dataset named on the command line."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from mitheory._rng import Seed, as_generator
from mitheory._validate import check_int
from mitheory.data import CIFARDataset, ImageFolderDataset, TwoViewAugment, parse_dataset_spec
from mitheory.generative import ImageWorld
from mitheory.train._image import ImageTrainConfig, train_images
from mitheory.train._loop import TrainResult
from mitheory.train._method import SSLMethod

IMAGE_SPECS = ("world", "digits", "cifar10:PATH", "cifar100:PATH", "imagefolder:PATH")


def train_with_checkpoints(method: SSLMethod, sampler: ImageWorld | Iterable,
                           cfg: ImageTrainConfig, evaluate: Callable[[int, SSLMethod], dict], *,
                           at: Iterable[int], seed: Seed, augment: TwoViewAugment | None = None
                           ) -> tuple[TrainResult, list[dict]]:
    """:func:`train_images` with ``evaluate(step, method)`` run after each step in ``at``.

    Returns the training result and the history, one ``{"step": step, **evaluate(...)}`` per
    checkpoint in training order (a budget curve for :func:`mitheory.stats.plateau_status`).

    Raises
    ------
    ValueError
        If a step in ``at`` is not in ``1..cfg.steps`` (it would never be evaluated).
    """
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a callable (step, method) -> dict, got {evaluate!r}")
    steps = {check_int(s, "at", minimum=1) for s in at}
    if not isinstance(cfg, ImageTrainConfig):
        raise TypeError(f"cfg must be an ImageTrainConfig, got {cfg!r}")
    if not steps or max(steps) > cfg.steps:
        raise ValueError(f"at must hold steps in 1..{cfg.steps}, got {sorted(steps)}")
    history: list[dict] = []

    def callback(step: int, m: SSLMethod) -> None:
        if step in steps:
            history.append({"step": step, **evaluate(step, m)})

    res = train_images(method, sampler, cfg, seed=seed, augment=augment, callback=callback)
    return res, history


def sample_images(dataset: str, n: int, seed: Seed, *, world_seed: Seed = 0
                  ) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` images (float in [0, 1], NCHW) and their labels, drawn with ``seed``.

    ``dataset`` is ``"world"`` (fresh renders of ``ImageWorld(image_size=32, seed=world_seed)``,
    class = shape), ``"digits"`` (scikit-learn's 8x8 digits), ``"cifar10:PATH"`` /
    ``"cifar100:PATH"`` (the training pickles) or ``"imagefolder:PATH"`` (resized to 32x32).
    A dataset smaller than ``n`` gives all its images; the drawn images are in dataset order
    (an ImageFolder's in draw order).

    Raises
    ------
    ValueError
        If ``dataset`` is none of these forms, or ``n`` < 1.
    """
    kind, path = parse_dataset_spec(dataset, IMAGE_SPECS)
    check_int(n, "n", minimum=1)
    if kind == "world":
        world = ImageWorld(image_size=32, seed=world_seed)
        f = world.sample_factors(n, seed=seed)
        return world.render(f), world.labels(f).numpy()
    if kind == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = torch.as_tensor(d.images[:, None] / 16.0, dtype=torch.float32), d.target
    elif kind in ("cifar10", "cifar100"):
        ds = CIFARDataset(path, train=True)
        x, y = ds.data.float() / 255.0, ds.targets.numpy()
    else:
        folder = ImageFolderDataset(path, size=32)
        idx = as_generator(seed).choice(len(folder), min(n, len(folder)), replace=False)
        x = torch.stack([folder[int(i)][0] for i in idx]).float() / 255.0
        return x, np.array([folder.samples[int(i)][1] for i in idx])
    idx = np.sort(as_generator(seed).choice(len(x), min(n, len(x)), replace=False))
    return x[idx], np.asarray(y)[idx]

