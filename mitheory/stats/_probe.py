"""Downstream linear probe on a frozen representation, with a task defined from the true latents.

The studies on latent processes have no labels; :func:`downstream_labels` defines one
(``reconstructed``: a stand-in for the papers' ImageNet / CIFAR linear evaluation): the argmax of
a fixed random linear function of the latents, a task that is linear in the latents, so a
representation that recovers them up to an affine map supports a near-perfect linear probe.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import (check_int, check_labels, check_positive,
                                check_same_length, check_samples)


def downstream_labels(latents: ArrayLike, *, n_classes: int = 4, seed: Seed = 0) -> np.ndarray:
    r"""Class labels :math:`y = \arg\max_k (z W)_k`, :math:`W_{jk} \sim N(0, 1)` fixed by ``seed``.

    Parameters
    ----------
    latents : array_like, shape (n_samples, dim)
        True latents (e.g. the content block).
    n_classes : int, default 4
    seed : int, Generator, SeedSequence or None
        Fixes W: the same seed gives the same task on every call (fit and eval splits).

    Returns
    -------
    np.ndarray of int, shape (n_samples,)
    """
    z = check_samples(latents, "latents", min_samples=2)
    k = check_int(n_classes, "n_classes", minimum=2)
    w = as_generator(seed).standard_normal((z.shape[1], k))
    return np.argmax(z @ w, axis=1)


def linear_probe_accuracy(h_fit: ArrayLike, y_fit: ArrayLike, h_eval: ArrayLike,
                          y_eval: ArrayLike, *, c: float = 1.0,
                          max_iter: int = 2000) -> dict[str, Any]:
    """Accuracy of a logistic-regression probe fitted on ``(h_fit, y_fit)``, scored on the eval
    split.

    Features are standardised with the fit split's mean and sd. Not an information quantity:
    a held-out classification accuracy (an estimate of the probe's test accuracy).

    Parameters
    ----------
    h_fit, h_eval : array_like, shape (n, dim)
        Frozen representations of the fit and eval samples.
    y_fit, y_eval : array_like of int, shape (n,)
        Labels (e.g. :func:`downstream_labels`); ``y_fit`` needs at least two classes.
    c : float, default 1.0
        Inverse L2 regularisation strength of ``sklearn.linear_model.LogisticRegression``.
    max_iter : int, default 2000

    Returns
    -------
    dict
        ``accuracy`` (eval split), ``chance`` (frequency of the eval split's most frequent
        class: the accuracy of a constant predictor), ``n_fit``, ``n_eval``.

    Raises
    ------
    ValueError
        If an ``h`` array holds NaN/inf or the splits' dims differ, or a label array is not
        1-D, holds NaN, non-integer or negative values, or does not match its ``h`` rows.
    """
    hf, he = check_samples(h_fit, "h_fit", min_samples=2), check_samples(h_eval, "h_eval")
    yf = check_labels(y_fit, "y_fit")
    ye = check_labels(y_eval, "y_eval")
    check_same_length(hf, yf, "h_fit", "y_fit")
    check_same_length(he, ye, "h_eval", "y_eval")
    if hf.shape[1] != he.shape[1]:
        raise ValueError(f"h_fit and h_eval must have the same dim, got {hf.shape[1]} and "
                         f"{he.shape[1]}")
    if np.unique(yf).size < 2:
        raise ValueError("y_fit must contain at least two classes")
    scaler = StandardScaler().fit(hf)
    clf = LogisticRegression(C=check_positive(c, "c"), max_iter=check_int(max_iter, "max_iter",
                                                                            minimum=1))
    clf.fit(scaler.transform(hf), yf)
    acc = float(np.mean(clf.predict(scaler.transform(he)) == ye))
    chance = float(np.bincount(ye).max() / ye.size)
    return {"accuracy": acc, "chance": chance, "n_fit": int(len(yf)), "n_eval": int(len(ye))}
