"""Evaluation of image representations on frozen features: the linear probe, the kNN monitor, and
the identifiability R^2 of each factor of an :class:`~mitheory.generative.ImageWorld`.

The linear probe is the papers' offline protocol at small scale: logistic regression on
standardised frozen backbone features (:func:`mitheory.stats.linear_probe_accuracy`). The kNN
monitor is the weighted kNN of Wu et al. 2018 (InstDisc) as solo-learn's ``WeightedKNNClassifier``
computes it: cosine similarities, the k nearest training features vote for their label with
weight ``exp(similarity / temperature)``, k = 200 and temperature 0.1 by default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from mitheory import stats
from mitheory._rng import spawn
from mitheory._types import Seed
from mitheory._validate import (check_array, check_factors,
                                check_finite_tensor, check_image_batch, check_int,
                                check_labels, check_positive, check_same_length)
from mitheory.generative.images import SHAPE_NAMES, ImageWorld
from mitheory.train._image import embed_images
from mitheory.train._method import SSLMethod


def _check_images(x: torch.Tensor, name: str) -> None:
    check_image_batch(x, name, channels=None)
    check_finite_tensor(x, name)


def linear_probe(method: SSLMethod, train_images: torch.Tensor, train_labels: ArrayLike,
                 test_images: torch.Tensor, test_labels: ArrayLike, *,
                 c: float = 1.0) -> dict[str, Any]:
    """Held-out accuracy of a logistic-regression probe on ``method.embed`` (frozen, eval mode).

    Returns :func:`mitheory.stats.linear_probe_accuracy`'s dict: ``accuracy``, ``chance`` (the
    eval split's majority-class frequency), ``n_fit``, ``n_eval``.
    """
    _check_images(train_images, "train_images")
    _check_images(test_images, "test_images")
    h_fit, h_ev = embed_images(method, train_images), embed_images(method, test_images)
    return stats.linear_probe_accuracy(h_fit, check_labels(train_labels, "train_labels"), h_ev,
                                       check_labels(test_labels, "test_labels"), c=c)


def knn_predict(train_features: ArrayLike, train_labels: ArrayLike, test_features: ArrayLike, *,
                k: int = 200, temperature: float = 0.1,
                n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted-kNN predictions: ``argmax_c sum_{j in top-k} exp(s_j / T) [y_j = c]``.

    Parameters
    ----------
    train_features, test_features : array_like, shapes (n_train, dim), (n_test, dim)
        L2-normalised here, so ``s_j`` is the cosine similarity.
    train_labels : array_like of int, shape (n_train,)
    k : int
        Neighbours; capped at ``n_train`` (with fewer training samples every one votes).
    temperature : float
        ``T`` > 0: small T lets the nearest neighbour dominate, large T makes the vote a count.
    n_classes : int, optional
        Default ``max(train_labels) + 1``.

    Returns
    -------
    predictions : ndarray of int64, shape (n_test,)
        Ties go to the smallest class index.
    scores : ndarray, shape (n_test, n_classes)
        The summed weights per class.
    """
    xf = check_array(train_features, "train_features", ndim=2)
    xt = check_array(test_features, "test_features", ndim=2)
    y = check_labels(train_labels, "train_labels")
    check_same_length(xf, y, "train_features", "train_labels")
    if len(xt) < 1:
        raise ValueError("test_features must hold at least one row, got 0")
    if xf.shape[1] != xt.shape[1]:
        raise ValueError(f"train_features and test_features must have the same dim, got "
                         f"{xf.shape[1]} and {xt.shape[1]}")
    k_eff = min(check_int(k, "k", minimum=1), len(xf))
    t = check_positive(temperature, "temperature")
    c = int(y.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=1)
    f, q = (torch.nn.functional.normalize(torch.as_tensor(a, dtype=torch.float64), dim=1)
            for a in (xf, xt))
    sim, idx = (q @ f.T).topk(k_eff, dim=1)  # (n_test, k)
    votes = torch.zeros(len(q), c, dtype=torch.float64)
    votes.scatter_add_(1, torch.as_tensor(y)[idx], (sim / t).exp())
    return votes.argmax(dim=1).numpy(), votes.numpy()


def knn_monitor(method: SSLMethod, train_images: torch.Tensor, train_labels: ArrayLike,
                test_images: torch.Tensor, test_labels: ArrayLike, *, k: int = 200,
                temperature: float = 0.1) -> dict[str, Any]:
    """Weighted-kNN accuracy (:func:`knn_predict`) of ``method.embed`` on a labelled split.

    Returns ``accuracy``, ``k`` (after the cap at the training size), ``temperature``,
    ``n_train``, ``n_test``.
    """
    _check_images(train_images, "train_images")
    _check_images(test_images, "test_images")
    y_test = check_labels(test_labels, "test_labels")
    y_train = check_labels(train_labels, "train_labels")
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    pred, _ = knn_predict(embed_images(method, train_images), y_train,
                          embed_images(method, test_images), k=k, temperature=temperature,
                          n_classes=n_classes)
    check_same_length(pred, y_test, "test_images", "test_labels")
    return {"accuracy": float(np.mean(pred == y_test)), "k": min(k, len(y_train)),
            "temperature": float(temperature), "n_train": len(y_train), "n_test": len(y_test)}


# circular factors and their period: scored as (cos, sin) of 2 pi value / period, so a hue of
# 0.99 is next to 0.01 (rotation is scored modulo 2 pi, not modulo each shape's own symmetry)
CIRCULAR_FACTORS: dict[str, float] = {"rotation": 2 * np.pi, "object_hue": 1.0,
                                      "background_hue": 1.0}


def factor_targets(world: ImageWorld, factors: torch.Tensor) -> dict[str, np.ndarray]:
    """Regression targets of each non-class factor: ``(n, 1)``, or ``(n, 2)`` (cos, sin) for the
    circular ones (:data:`CIRCULAR_FACTORS`). The class is categorical: it is probed, not
    regressed."""
    if not isinstance(world, ImageWorld):
        raise TypeError(f"world must be an ImageWorld, got {type(world).__name__}")
    f = check_factors(factors, "factors", n_factors=len(world.factor_names),
                      n_classes=len(SHAPE_NAMES)).detach().cpu().double().numpy()
    out = {}
    for j, name in enumerate(world.factor_names[1:], start=1):
        if name in CIRCULAR_FACTORS:
            a = 2 * np.pi * f[:, j] / CIRCULAR_FACTORS[name]
            out[name] = np.stack([np.cos(a), np.sin(a)], axis=1)
        else:
            out[name] = f[:, j:j + 1]
    return out


@dataclass
class FactorSplit:
    """Rendered images and their factors, a fit and an eval split (drawn once, reused)."""

    x_fit: torch.Tensor
    z_fit: torch.Tensor
    x_eval: torch.Tensor
    z_eval: torch.Tensor

    @classmethod
    def draw(cls, world: ImageWorld, n_fit: int, n_eval: int, *, seed: Seed) -> "FactorSplit":
        ss_fit, ss_ev = spawn(seed, 2)
        z_fit = world.sample_factors(n_fit, seed=ss_fit)
        z_ev = world.sample_factors(n_eval, seed=ss_ev)
        return cls(world.render(z_fit), z_fit, world.render(z_ev), z_ev)


def _r2_by_factor(h_fit, t_fit: dict, h_ev, t_ev: dict, n_kernel_fit: int,
                  seed) -> dict[str, dict[str, float]]:
    """Linear and kernel R^2 of every factor in one regression each (all target columns at once:
    the kernel ridge's (alpha, gamma) is chosen once, by the mean CV R^2 over all columns), then
    each factor's R^2 is the mean over its own columns."""
    names = list(t_fit)
    y_fit = np.concatenate([t_fit[n] for n in names], axis=1)
    y_ev = np.concatenate([t_ev[n] for n in names], axis=1)
    lin = stats.r2_identifiability(h_fit, y_fit, h_ev, y_ev, method="linear")["r2_per_dim"]
    ker = stats.r2_identifiability(h_fit[:n_kernel_fit], y_fit[:n_kernel_fit], h_ev, y_ev,
                                   method="kernel", seed=seed)["r2_per_dim"]
    out, j = {}, 0
    for n in names:
        w = t_fit[n].shape[1]
        out[n] = {"linear": float(np.mean(lin[j:j + w])), "kernel": float(np.mean(ker[j:j + w]))}
        j += w
    return out


def _true_content(world: ImageWorld, factors: torch.Tensor) -> np.ndarray:
    """The true content as regressors: one-hot class (if content) and the other content factors."""
    t = factor_targets(world, factors)
    cols = [t[n] for n in world.content if n != "class"]
    if "class" in world.content:
        cols.insert(0, np.eye(world.n_classes)[world.labels(factors).cpu().numpy()])
    return np.concatenate(cols, axis=1)


def image_identifiability(method: SSLMethod, world: ImageWorld, split: FactorSplit, *,
                          n_kernel_fit: int = 800, seed: Seed = 0, style_baseline: bool = False,
                          features: Literal["embed", "encoder"] = "embed") -> dict[str, Any]:
    """R^2 of each factor from the frozen features (``method.embed``), and the class probes.

    Parameters
    ----------
    method : SSLMethod
    world : ImageWorld
        Says which factors are content and which style.
    split : FactorSplit
    n_kernel_fit : int
        Fit samples of the RBF kernel ridge (O(n^3)); the linear R^2 uses the whole fit split.
    seed : int, tuple or SeedSequence
        The kernel grid-search folds.
    style_baseline : bool
        Also the R^2 of each style factor from the *true* content (one-hot class and the other
        content factors): the part of style any content encoder must predict (claim C3's
        "beyond what content predicts of it"). It depends on the world only.
    features : {"embed", "encoder"}
        As in :func:`~mitheory.train.embed_images`: the backbone, or the projector output.

    Returns
    -------
    dict
        ``r2``: factor -> ``{"linear", "kernel"}`` (held-out R^2, estimates; circular factors
        averaged over cos and sin; one kernel-ridge fit for all factors); ``probe``:
        :func:`~mitheory.stats.linear_probe_accuracy` of the class; ``knn``: weighted-kNN class
        accuracy (k = 200, T = 0.1); with ``style_baseline``, ``style_from_content``: style
        factor -> ``{"linear", "kernel"}``.
    """
    h_fit, h_ev = (embed_images(method, x, features=features) for x in (split.x_fit, split.x_eval))
    t_fit, t_ev = factor_targets(world, split.z_fit), factor_targets(world, split.z_eval)
    y_fit, y_ev = (world.labels(z).cpu().numpy() for z in (split.z_fit, split.z_eval))
    out: dict[str, Any] = {"r2": _r2_by_factor(h_fit, t_fit, h_ev, t_ev, n_kernel_fit, seed)}
    out["probe"] = stats.linear_probe_accuracy(h_fit, y_fit, h_ev, y_ev)
    pred, _ = knn_predict(h_fit, y_fit, h_ev, n_classes=world.n_classes)
    out["knn"] = {"accuracy": float(np.mean(pred == y_ev))}
    if style_baseline:
        c_fit, c_ev = _true_content(world, split.z_fit), _true_content(world, split.z_eval)
        style = [world.factor_names[j] for j in world.style_idx]
        out["style_from_content"] = _r2_by_factor(c_fit, {n: t_fit[n] for n in style}, c_ev,
                                                  {n: t_ev[n] for n in style}, n_kernel_fit, seed)
    return out


def identifiability_summary(evaluation: dict[str, Any], world: ImageWorld,
                            style_from_content: dict[str, dict[str, float]]) -> dict[str, float]:
    """The numbers claim C3 is decided on, from :func:`image_identifiability`'s output.

    ``min_content_r2_kernel``: the smallest kernel R^2 over the regressed content factors
    (position, scale; the class is probed); ``max_style_excess_over_content_prediction``: the
    largest kernel R^2 of a style factor beyond its R^2 from the true content
    (``style_from_content``); ``probe_accuracy`` and ``knn_accuracy`` of the class.
    """
    r2 = evaluation["r2"]
    style = [world.factor_names[j] for j in world.style_idx]
    return {"min_content_r2_kernel": min(r2[n]["kernel"] for n in world.content if n != "class"),
            "max_style_excess_over_content_prediction": max(
                r2[n]["kernel"] - style_from_content[n]["kernel"] for n in style),
            "probe_accuracy": evaluation["probe"]["accuracy"],
            "knn_accuracy": evaluation["knn"]["accuracy"]}
