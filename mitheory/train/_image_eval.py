"""Evaluation of image representations on frozen features: the linear probe and the kNN monitor.

The linear probe is the papers' offline protocol at small scale: logistic regression on
standardised frozen backbone features (:func:`mitheory.stats.linear_probe_accuracy`). The kNN
monitor is the weighted kNN of Wu et al. 2018 (InstDisc) as solo-learn's ``WeightedKNNClassifier``
computes it: cosine similarities, the k nearest training features vote for their label with
weight ``exp(similarity / temperature)``, k = 200 and temperature 0.1 by default.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from mitheory import stats
from mitheory._validate import check_array, check_int, check_positive, check_same_length
from mitheory.train._image import embed_images
from mitheory.train._method import SSLMethod


def linear_probe(method: SSLMethod, train_images: torch.Tensor, train_labels: ArrayLike,
                 test_images: torch.Tensor, test_labels: ArrayLike, *,
                 c: float = 1.0) -> dict[str, Any]:
    """Held-out accuracy of a logistic-regression probe on ``method.embed`` (frozen, eval mode).

    Returns :func:`mitheory.stats.linear_probe_accuracy`'s dict: ``accuracy``, ``chance`` (the
    eval split's majority-class frequency), ``n_fit``, ``n_eval``.
    """
    h_fit, h_ev = embed_images(method, train_images), embed_images(method, test_images)
    return stats.linear_probe_accuracy(h_fit, np.asarray(train_labels, dtype=np.int64), h_ev,
                                       np.asarray(test_labels, dtype=np.int64), c=c)


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
    y = check_array(train_labels, "train_labels", ndim=1, dtype=np.int64)
    check_same_length(xf, y, "train_features", "train_labels")
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
    y_test = check_array(test_labels, "test_labels", ndim=1, dtype=np.int64)
    y_train = check_array(train_labels, "train_labels", ndim=1, dtype=np.int64)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    pred, _ = knn_predict(embed_images(method, train_images), y_train,
                          embed_images(method, test_images), k=k, temperature=temperature,
                          n_classes=n_classes)
    check_same_length(pred, y_test, "test_images", "test_labels")
    return {"accuracy": float(np.mean(pred == y_test)), "k": min(k, len(y_train)),
            "temperature": float(temperature), "n_train": len(y_train), "n_test": len(y_test)}
