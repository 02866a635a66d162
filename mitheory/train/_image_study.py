"""The image studies' cell: train one image method with evaluations at checkpoints, and draw
images from the rendered world or a user's dataset named on the command line."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from mitheory._rng import Seed, as_generator, int_seed, spawn
from mitheory._validate import (check_image_batch, check_int, check_labels, check_option,
                                check_positive)
from mitheory.data import (RECIPES, ArrayDataset, CIFARDataset, ImageFolderDataset,
                           TwoViewAugment, parse_dataset_spec, shuffled_loader)
from mitheory.generative import ImageWorld
from mitheory.info import representation_entropies, representation_entropy_ingredients
from mitheory.stats import (even_checkpoints, interval_means, pairwise_distances_vs_noise,
                            relative_trend_status, trend_status)
from mitheory.train._image import (ImageTrainConfig, embed_images, init_image_method_,
                                   train_images)
from mitheory.train._image_eval import knn_monitor
from mitheory.train._loop import TrainResult, resolve_device
from mitheory.train._method import SSLMethod

IMAGE_SPECS = ("world", "digits", "cifar10:PATH", "cifar100:PATH", "imagefolder:PATH")


def train_with_checkpoints(method: SSLMethod, sampler: ImageWorld | Iterable,
                           cfg: ImageTrainConfig, evaluate: Callable[[int, SSLMethod], dict], *,
                           at: Iterable[int], seed: Seed, augment: TwoViewAugment | None = None
                           ) -> tuple[TrainResult, list[dict]]:
    """:func:`train_images` with ``evaluate(step, method)`` run after each step in ``at``.

    Step 0 in ``at`` evaluates the initialisation the run starts from (``method`` initialised
    from ``seed`` as :func:`train_images` does, on ``cfg.device``) before the first update.
    Returns the training result and the history, one ``{"step": step, **evaluate(...)}`` per
    checkpoint in training order (a budget curve for :func:`mitheory.stats.plateau_status`).

    Raises
    ------
    ValueError
        If a step in ``at`` is not in ``0..cfg.steps`` (it would never be evaluated).
    """
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a callable (step, method) -> dict, got {evaluate!r}")
    steps = {check_int(s, "at", minimum=0) for s in at}
    if not isinstance(cfg, ImageTrainConfig):
        raise TypeError(f"cfg must be an ImageTrainConfig, got {cfg!r}")
    if not steps or max(steps) > cfg.steps:
        raise ValueError(f"at must hold steps in 0..{cfg.steps}, got {sorted(steps)}")
    history: list[dict] = []
    if 0 in steps:  # train_images initialises from the same stream again: the same weights
        init_image_method_(method, spawn(seed, 2)[0]).to(resolve_device(cfg.device))
        history.append({"step": 0, **evaluate(0, method)})

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



def held_out_source(dataset: str, *, n_held_out: int, batch_size: int, augment: str, seed: int
                    ) -> tuple[ImageWorld | Iterable, torch.Tensor, TwoViewAugment | None]:
    """A training source and a fixed set of held-out images (float in [0, 1], NCHW) that no
    training batch draws from, for :func:`train_with_checkpoints`.

    ``dataset`` is ``"imageworld"`` (``ImageWorld(image_size=32, seed=(seed, 0))`` as the
    sampler, the held-out images fresh renders drawn with ``(seed, 1)``, no augment),
    ``"cifar10:PATH"`` (a shuffled loader over the training pickles; ``n_held_out`` test
    images drawn with ``(seed, 1)``, in dataset order) or ``"imagefolder:PATH"`` (32x32; a
    permutation drawn with ``(seed, 1)``: its first ``n_held_out`` images, in dataset order,
    are held out and the loader runs over the rest). A dataset's loader is shuffled with
    ``seed`` and batches of ``batch_size``, its two views drawn by ``TwoViewAugment(augment)``
    (``augment`` is a recipe name or ``""``).

    Returns ``(sampler, held_out, augment)`` (``augment`` ``None`` for the rendered world).

    Raises
    ------
    ValueError
        An unknown ``dataset`` form, ``n_held_out`` or ``batch_size`` < 1, or a dataset with
        no ``augment``.
    """
    kind, path = parse_dataset_spec(dataset, ("imageworld", "cifar10:PATH", "imagefolder:PATH"))
    check_int(n_held_out, "n_held_out", minimum=1)
    check_int(batch_size, "batch_size", minimum=1)
    check_option(augment, "augment", ("", *RECIPES))
    if kind == "imageworld":
        world = ImageWorld(image_size=32, seed=(seed, 0))
        return world, world.render(world.sample_factors(n_held_out, seed=(seed, 1))), None
    if not augment:
        raise ValueError("augment must name a two-view recipe for a dataset of images")
    if kind == "cifar10":
        train, test = CIFARDataset(path, train=True), CIFARDataset(path, train=False)
        idx = as_generator((seed, 1)).choice(len(test), n_held_out, replace=False)
        held_out = test.data[np.sort(idx)]
    else:  # a fixed random subset held out of training
        full = ImageFolderDataset(path, size=32)
        perm = as_generator((seed, 1)).permutation(len(full))
        held_out = torch.stack([full[int(i)][0] for i in np.sort(perm[:n_held_out])])
        train = torch.utils.data.Subset(full, perm[n_held_out:].tolist())
    return (shuffled_loader(train, batch_size, seed), held_out.float() / 255.0,
            TwoViewAugment(augment, 32))


def interval_losses(logs: Iterable[Iterable[tuple[int, float]]], bounds: Iterable[int]
                    ) -> list[float]:
    """Mean logged training loss within each ``[bounds[i], bounds[i+1])``, averaged over runs.

    ``logs`` holds one loss log per run (``TrainResult.losses``: ``(step, loss)`` pairs, logged
    at the same steps in every run); with ``bounds = [0, *checkpoints]`` this is the loss of
    each checkpoint interval (step k records the (k+1)-th update's loss). The average over
    runs is taken step by step, then :func:`mitheory.stats.interval_means`.

    Raises
    ------
    ValueError
        No run, runs logged at different steps, a non-finite loss, or bad ``bounds``.
    """
    runs = [list(log) for log in logs]
    if not runs or not runs[0]:
        raise ValueError("logs must hold at least one non-empty loss log")
    steps = [s for s, _ in runs[0]]
    if any([s for s, _ in r] != steps for r in runs):
        raise ValueError("logs must be logged at the same steps in every run")
    mean = np.array([[v for _, v in r] for r in runs], dtype=float).mean(axis=0)
    if not np.all(np.isfinite(mean)):
        raise ValueError("logs hold a non-finite loss (training diverged)")
    return interval_means(steps, mean, list(bounds))


_SCHEDULE_FIELDS = ("steps", "n_checkpoints", "batch_size", "lr", "device")


def train_on_schedule(method: SSLMethod, sampler: ImageWorld | Iterable,
                      evaluate: Callable[[int, SSLMethod], dict], schedule: Any, *, seed: Seed,
                      augment: TwoViewAugment | None = None, recipe: str | None = None,
                      initial: bool = False, **train_kw: Any) -> tuple[TrainResult, list[dict]]:
    """:func:`train_with_checkpoints` on the image studies' schedule, read from ``schedule``.

    ``schedule`` is any object with ``steps``, ``n_checkpoints``, ``batch_size``, ``lr`` and
    ``device`` (a study's Config): AdamW at peak ``lr`` with linear warmup over the first
    ``steps // 10`` steps then cosine decay (:class:`ImageTrainConfig`), ``evaluate`` at
    :func:`mitheory.stats.even_checkpoints` ``(steps, n_checkpoints)``, plus step 0 (the
    initialisation) with ``initial=True``. ``augment`` draws the two views of a loader's
    images; ``recipe`` (:class:`ImageTrainConfig`'s ``augment``) is applied to an ImageWorld's
    rendered pair. ``train_kw`` are further :class:`ImageTrainConfig` fields (``log_every``...).

    Raises
    ------
    TypeError
        If ``schedule`` lacks one of those fields.
    """
    missing = [f for f in _SCHEDULE_FIELDS if not hasattr(schedule, f)]
    if missing:
        raise TypeError(f"schedule must have the fields {_SCHEDULE_FIELDS}, {schedule!r} lacks "
                        f"{missing}")
    s = schedule
    cfg = ImageTrainConfig(steps=s.steps, batch_size=s.batch_size, lr=s.lr,
                           warmup_steps=s.steps // 10, device=s.device, augment=recipe,
                           **train_kw)
    at = even_checkpoints(s.steps, s.n_checkpoints)
    return train_with_checkpoints(method, sampler, cfg, evaluate, at=[0, *at] if initial else at,
                                  seed=seed, augment=augment)


def knn_checkpoint_monitor(images: torch.Tensor, labels: Any, *, k: int = 20
                           ) -> tuple[Callable[[int, SSLMethod], dict], float]:
    """A checkpoint ``evaluate(step, method)`` for :func:`train_with_checkpoints`: the
    weighted-kNN accuracy (:func:`knn_monitor`) fitted on the first half of the labelled
    ``images`` and scored on the second half, with ``k`` capped at the half size.

    Returns ``(evaluate, chance)``: ``evaluate`` gives ``{"knn_accuracy": accuracy}``;
    ``chance`` is the majority-class share of the scored half (the accuracy of always
    guessing the most frequent class).

    Raises
    ------
    ValueError
        Fewer than 2 images, images and labels of different lengths, or ``k`` < 1.
    """
    y = check_labels(labels, "labels")
    check_int(k, "k", minimum=1)
    if len(images) != len(y) or len(y) < 2:
        raise ValueError(f"images and labels must have the same length >= 2, got {len(images)} "
                         f"and {len(y)}")
    half = len(y) // 2
    chance = float(np.bincount(y[half:]).max() / len(y[half:]))

    def evaluate(step: int, method: SSLMethod) -> dict:
        return {"knn_accuracy": knn_monitor(method, images[:half], y[:half], images[half:],
                                            y[half:], k=min(k, half))["accuracy"]}

    return evaluate, chance


def add_interval_losses(history: list[dict], losses: Iterable[tuple[int, float]]) -> list[dict]:
    """Write into each checkpoint of ``history`` (rows with a ``step``, in training order) its
    ``"loss"``: the mean logged loss since the previous checkpoint (from step 0), from one
    run's ``TrainResult.losses`` (:func:`interval_losses`). Returns ``history``.

    Raises
    ------
    ValueError
        An empty history, or a row without ``step`` (and the errors of :func:`interval_losses`).
    """
    if not history or any("step" not in h for h in history):
        raise ValueError("history must hold checkpoint rows with a 'step', in training order")
    log = list(losses)
    if not log or not np.all(np.isfinite([v for _, v in log])):
        raise ValueError("losses must be a non-empty (step, loss) log of finite losses")
    for h, loss in zip(history, interval_losses([log], [0, *(h["step"] for h in history)])):
        h["loss"] = loss
    return history


def checkpoint_trends(history: list[dict], losses: Iterable[tuple[int, float]], *,
                      tols: dict[str, float], rel_tol: float = 0.02) -> dict[str, str]:
    """Plateau status of one run's budget curves: the loss and the checkpoint quantities.

    Writes each checkpoint's ``"loss"`` into ``history`` (:func:`add_interval_losses`), then
    returns ``{"loss": relative_trend_status(losses, rel_tol), key: trend_status(history[key],
    tol) for key, tol in tols}`` (a loss has no natural scale, so its tolerance is relative;
    a quantity such as an accuracy gets an absolute one).

    Raises
    ------
    ValueError
        A key of ``tols`` missing from a checkpoint, a negative tolerance, and the errors of
        :func:`add_interval_losses`.
    """
    add_interval_losses(history, losses)
    missing = [k for k in tols if any(k not in h for h in history)]
    if missing:
        raise ValueError(f"tols names quantities {missing} that are not in every checkpoint")
    return {"loss": relative_trend_status([h["loss"] for h in history], rel_tol=rel_tol),
            **{k: trend_status([h[k] for h in history], tol=t) for k, t in tols.items()}}


def labelled_probe_data(dataset: str, *, n_pool: int, n_test: int, n_unlabelled: int,
                        batch_size: int, augment: str, seed: int) -> tuple:
    """Data of a probe-generalization study: a labelled pool, labelled test images, unlabelled
    view pairs and the SSL training source.

    ``dataset`` is ``"imageworld"`` (``ImageWorld(image_size=32, seed=(seed, 1))``, class =
    shape: fresh renders for the pool and test, rendered view pairs, the world as sampler),
    ``"cifar10:PATH"`` (pool from the training pickles, test from the test pickle) or
    ``"imagefolder:PATH"`` (a seeded 20% test split). On a dataset the pool, the unlabelled
    images and the test images are drawn without replacement (capped at the split's size),
    the view pairs made by ``TwoViewAugment(augment)`` and the sampler is a loader shuffled
    with ``seed``. Streams: ``spawn((seed, 0), 5)`` = (pool, test, unlabelled, views, split).

    Returns
    -------
    tuple
        ``((x_pool, y_pool), (x_test, y_test), n_classes, (x_view_a, x_view_b), sampler,
        augment)`` (images float in [0, 1], NCHW; ``augment`` ``None`` for the world).

    Raises
    ------
    ValueError
        An unknown ``dataset`` form, or a count < 1.
    """
    for name, v in (("n_pool", n_pool), ("n_test", n_test), ("n_unlabelled", n_unlabelled),
                    ("batch_size", batch_size)):
        check_int(v, name, minimum=1)
    ss_pool, ss_test, ss_unlab, ss_views, ss_split = spawn((seed, 0), 5)
    kind, path = parse_dataset_spec(dataset, ("imageworld", "cifar10:PATH", "imagefolder:PATH"))
    if kind == "imageworld":
        world = ImageWorld(image_size=32, seed=(seed, 1))
        draw = [world.sample_factors(k, seed=s) for k, s in
                ((n_pool, ss_pool), (n_test, ss_test))]
        pairs = world.sample_pairs(n_unlabelled, seed=ss_unlab)
        return ((world.render(draw[0]), world.labels(draw[0]).numpy()),
                (world.render(draw[1]), world.labels(draw[1]).numpy()), world.n_classes,
                (pairs.x, pairs.x_tilde), world, None)
    check_option(augment, "augment", RECIPES)
    if kind == "cifar10":
        tr_set, te_set = CIFARDataset(path, train=True), CIFARDataset(path, train=False)
        x_tr, y_tr = tr_set.data, tr_set.targets.numpy()
        x_te, y_te = te_set.data, te_set.targets.numpy()
    else:
        folder = ImageFolderDataset(path, size=32)
        x_all = torch.stack([folder[i][0] for i in range(len(folder))])
        y_all, perm = np.asarray(folder.targets), as_generator(ss_split).permutation(len(folder))
        cut = len(perm) // 5  # a seeded 20% test split
        x_tr, y_tr = x_all[perm[cut:]], y_all[perm[cut:]]
        x_te, y_te = x_all[perm[:cut]], y_all[perm[:cut]]
    x_tr, x_te = x_tr.float() / 255, x_te.float() / 255
    pick = as_generator(ss_pool).choice(len(x_tr), min(n_pool, len(x_tr)), replace=False)
    aug = TwoViewAugment(augment, 32)
    idx = as_generator(ss_unlab).choice(len(x_tr), n_unlabelled, replace=False)
    views = aug(x_tr[idx], torch.Generator().manual_seed(int_seed(ss_views)))
    te = as_generator(ss_test).choice(len(x_te), min(n_test, len(x_te)), replace=False)
    loader = shuffled_loader(ArrayDataset(x_tr, y_tr, layout="NCHW"), batch_size, seed)
    return ((x_tr[pick], y_tr[pick]), (x_te[te], y_te[te]), int(y_tr.max()) + 1, views, loader,
            aug)


#: the representations :func:`entropy_checkpoint_monitor` scores, in words
_ENTROPY_REPRESENTATIONS = {"projector": "encoder output (the loss input)",
                            "backbone": "ResNet output before the projector"}


def entropy_checkpoint_monitor(images: torch.Tensor, *, kernel_sigma: float = 0.5,
                               knn_k: int = 3) -> Callable[[int, SSLMethod], dict]:
    """A checkpoint ``evaluate(step, method)`` for :func:`train_with_checkpoints`: the
    entropies (:func:`mitheory.info.representation_entropies`) of a fixed image set's
    embeddings, on the projector output (``features="encoder"``, the loss input) and on the
    backbone output (``"embed"``), under every footing.

    Returns
    -------
    callable
        ``evaluate`` giving ``{"<representation>/<footing>": {quantity: nats}}`` for
        ``representation`` ``projector`` or ``backbone``.

    Raises
    ------
    ValueError
        Fewer than 2 images, non-positive ``kernel_sigma`` or ``knn_k``.
    """
    check_image_batch(images, "images", channels=None)
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 images, got {len(images)}")
    check_positive(kernel_sigma, "kernel_sigma")
    check_int(knn_k, "knn_k", minimum=1)

    def evaluate(step: int, method: SSLMethod) -> dict:
        return {f"{rep}/{k}": h for rep, feat in (("projector", "encoder"), ("backbone", "embed"))
                for k, h in representation_entropies(
                    embed_images(method, images, features=feat),
                    kernel_sigma=kernel_sigma, knn_k=knn_k).items()}

    return evaluate


def entropy_monitor_ingredients(*, knn_k: int = 3) -> dict[str, object]:
    """What :func:`entropy_checkpoint_monitor` computes, in words, for a study's log: the
    ``representations`` and :func:`mitheory.info.representation_entropy_ingredients`.

    Raises
    ------
    ValueError
        ``knn_k`` not a positive integer.
    """
    return {"representations": dict(_ENTROPY_REPRESENTATIONS),
            **representation_entropy_ingredients(knn_k=knn_k)}


def history_curves(runs: Iterable[dict], key: str, quantities: Iterable[str]
                   ) -> dict[str, dict[str, np.ndarray]]:
    """Budget curves of runs, per method: ``{method: {quantity: array (n_trials, n_steps)}}``.

    ``runs`` are cells ``{"method", "trial", "history"}`` with ``history`` the checkpoint rows
    of :func:`train_with_checkpoints`; the value is ``history[j][key][quantity]`` (``None``, a
    failed estimate, becomes NaN). Methods are in the order they first appear, trials sorted.

    Raises
    ------
    ValueError
        No runs, a run without those fields, a checkpoint without ``key`` or a quantity, or
        runs of one method with different numbers of checkpoints.
    """
    rows, qs = list(runs), list(quantities)
    if not rows or not qs:
        raise ValueError("runs and quantities must be non-empty")
    if any(not {"method", "trial", "history"} <= set(r) for r in rows):
        raise ValueError("runs must be cells with 'method', 'trial' and 'history'")
    out = {}
    for m in dict.fromkeys(r["method"] for r in rows):
        hist = [r["history"] for r in sorted((r for r in rows if r["method"] == m),
                                             key=lambda r: r["trial"])]
        if len({len(h) for h in hist}) != 1:
            raise ValueError(f"runs of {m!r} have different numbers of checkpoints")
        if any(key not in c or q not in c[key] for h in hist for c in h for q in qs):
            raise ValueError(f"runs must hold key {key!r} with quantities {qs} at every "
                             f"checkpoint")
        out[m] = {q: np.array([[np.nan if c[key][q] is None else c[key][q] for c in h]
                               for h in hist], dtype=float) for q in qs}
    return out


def interval_loss_trends(runs: Iterable[dict], bounds: Iterable[int], *,
                         rel_tol: float = 0.02) -> dict[str, str]:
    """Per method, the plateau status (:func:`mitheory.stats.relative_trend_status`) of the
    mean training loss over its runs in each ``[bounds[i], bounds[i+1])``
    (:func:`interval_losses`); e.g. ``bounds = steps[-3:]`` compares the last two checkpoint
    intervals. ``runs`` are cells ``{"method", "train": TrainResult.to_dict()}``; methods in
    the order they first appear.

    Raises
    ------
    ValueError
        No runs, a run without ``method`` or ``train["losses"]``, and the errors of
        :func:`interval_losses` and :func:`mitheory.stats.relative_trend_status`.
    """
    rows, b = list(runs), list(bounds)
    if not rows or any("method" not in r or "losses" not in r.get("train", {}) for r in rows):
        raise ValueError("runs must be non-empty cells with 'method' and train['losses']")
    return {m: relative_trend_status(interval_losses(
        [r["train"]["losses"] for r in rows if r["method"] == m], b), rel_tol=rel_tol)
        for m in dict.fromkeys(r["method"] for r in rows)}


def image_training_source(source: str, *, batch_size: int, seed: int, n_images: int = 50_000,
                          recipe: str = "simclr", blur: bool = False, world_seed: Seed = 0
                          ) -> tuple[ImageWorld | Iterable, TwoViewAugment | None]:
    """The SSL training source named by ``source``, for :func:`train_on_schedule`.

    ``"world"`` gives ``ImageWorld(image_size=32, seed=world_seed)`` (its rendered view pairs;
    the seed fixes only the world's factor dependences, each batch draws its own factors) and
    no augment. A dataset spec of :func:`sample_images` gives a loader over up to ``n_images``
    of its images drawn with ``(seed, 0)``, shuffled with ``seed`` in batches of
    ``batch_size``, and ``TwoViewAugment(recipe, 32, blur=blur)`` for their two views.

    Returns ``(sampler, augment)``.

    Raises
    ------
    ValueError
        An unknown ``source`` (:func:`sample_images`) or ``recipe``, or ``batch_size`` or
        ``n_images`` < 1.
    """
    check_int(batch_size, "batch_size", minimum=1)
    check_int(n_images, "n_images", minimum=1)
    check_option(recipe, "recipe", RECIPES)
    parse_dataset_spec(source, IMAGE_SPECS, name="source")
    if source == "world":
        return ImageWorld(image_size=32, seed=world_seed), None
    images = sample_images(source, n_images, (seed, 0))[0]
    return shuffled_loader(images, batch_size, seed), TwoViewAugment(recipe, 32, blur=blur)


def raw_image_distances(datasets: Iterable[str], n: int, noise_scales: Iterable[float], *,
                        seed: Seed) -> dict[str, dict[str, Any]]:
    """How far apart raw images lie against the noise norm, per dataset:
    :func:`mitheory.stats.pairwise_distances_vs_noise` of ``n`` images of each dataset spec
    (:func:`sample_images` with ``seed``, the same seed for every dataset).

    Returns ``{spec: result}`` in the order given.

    Raises
    ------
    ValueError
        No dataset, and the errors of :func:`sample_images` and
        :func:`~mitheory.stats.pairwise_distances_vs_noise`.
    """
    specs, scales = list(datasets), list(noise_scales)
    if not specs:
        raise ValueError("datasets must name at least one dataset spec")
    return {s: pairwise_distances_vs_noise(sample_images(s, n, seed)[0], scales) for s in specs}
