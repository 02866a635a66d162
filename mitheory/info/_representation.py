r"""Entropy of a learned representation under a stated normalisation ("footing"): LogDet, the
Kolchinsky-Tracey pairwise bounds and Kozachenko-Leonenko kNN, on one set of embeddings.

Entropy is scale-dependent, so a number is only meaningful with its footing: ``isotropic``
(centred, one scalar so the mean per-dimension variance is 1), ``sphere`` (rows scaled to norm
sqrt(d)) or ``raw``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mitheory._validate import check_int, check_option, check_positive, check_samples
from mitheory.info._knn import entropy_knn
from mitheory.info._mixture import entropy_mixture_bounds
from mitheory.info._second_order import logdet_entropy

FOOTINGS = ("isotropic", "sphere", "raw")
#: estimator families and the quantities each gives (a failing family gives None for all)
_FAMILIES = {"logdet": ("logdet",), "pairwise": ("kl_upper", "bhattacharyya_lower"),
             "knn": ("knn",)}


def _footings(z: np.ndarray) -> dict[str, np.ndarray]:
    zc = z - z.mean(axis=0)
    d, total = z.shape[1], float(np.mean(np.sum(zc * zc, axis=1)))
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    if not total > 0 or not np.all(norms > 0):
        raise ValueError("embeddings collapsed to a point (zero variance or zero rows)")
    return {"isotropic": zc * np.sqrt(d / total), "sphere": z * np.sqrt(d) / norms, "raw": z}


def _entropies(z: np.ndarray, kernel_sigma: float, knn_k: int) -> dict[str, float | str | None]:
    sigma2 = (kernel_sigma * np.sqrt(z.shape[1])) ** 2
    jobs = {"logdet": lambda: {"logdet": logdet_entropy(z, beta=1.0).value},
            "pairwise": lambda: {k: v.value for k, v in entropy_mixture_bounds(
                z, sigma2, methods=("kl_upper", "bhattacharyya_lower")).items()},
            "knn": lambda: {"knn": entropy_knn(z, k=knn_k).value}}
    out: dict[str, float | str | None] = {}
    for fam, job in jobs.items():
        try:
            out.update(job())
        except ValueError as exc:  # e.g. kNN on duplicated points
            out.update({q: None for q in _FAMILIES[fam]} | {f"{fam}_error": str(exc)})
    return out


def representation_entropies(z: ArrayLike, *, footings: Sequence[str] = FOOTINGS,
                             kernel_sigma: float = 0.5, knn_k: int = 3
                             ) -> dict[str, dict[str, float | str | None]]:
    r"""Four entropy numbers (nats) of embeddings under each footing: each an **estimate** or a
    bound of the differential entropy of the representation's distribution.

    Parameters
    ----------
    z : array_like, shape (n_samples, dim)
        Embeddings of a fixed set of inputs (at least 2).
    footings : sequence of {"isotropic", "sphere", "raw"}
        The normalisations to score (see Notes).
    kernel_sigma : float
        Std of the pairwise bounds' Gaussian kernel as a fraction of sqrt(dim).
    knn_k : int
        Neighbour order of the Kozachenko-Leonenko estimator.

    Returns
    -------
    dict
        ``{footing: {"logdet", "kl_upper", "bhattacharyya_lower", "knn"}}`` in nats. An
        estimator family that cannot run on these points (``logdet``, ``pairwise`` = the two
        bounds, ``knn``) gives ``None`` and its reason under ``"<family>_error"``; embeddings
        collapsed to a point (zero variance or a zero row) give ``None`` everywhere and
        ``"error"``.

    Raises
    ------
    ValueError
        NaN/inf, not 2-D, fewer than 2 rows, an unknown footing, non-positive
        ``kernel_sigma`` or ``knn_k``.

    Notes
    -----
    With :math:`z_c = z - \bar z` and :math:`v = \frac1n \sum_i \lVert z_{c,i} \rVert^2`:
    ``isotropic`` is :math:`z_c \sqrt{d / v}` (one scalar: only the overall scale is removed),
    ``sphere`` is :math:`\sqrt d\, z_i / \lVert z_i \rVert`, ``raw`` is ``z``. On each:

    .. math:: H_{\mathrm{logdet}} = \tfrac12 \log\det(I + C)

    (:func:`logdet_entropy`, ``beta=1``; Zhouyin & Liu 2021), the KL upper and Bhattacharyya
    lower bounds on the entropy of the mixture of :math:`N(z_i, s^2 I)` with
    :math:`s = \mathrm{kernel\_sigma} \sqrt d` (:func:`entropy_mixture_bounds`; Kolchinsky &
    Tracey 2017) and Kozachenko-Leonenko (:func:`entropy_knn`).

    References
    ----------
    Kolchinsky, A. & Tracey, B. D. (2017). Estimating mixture entropy with pairwise distances.
    Entropy 19(7), 361.

    Examples
    --------
    >>> z = np.random.default_rng(0).normal(size=(200, 3))
    >>> h = representation_entropies(z, footings=("isotropic",))
    >>> h["isotropic"]["bhattacharyya_lower"] <= h["isotropic"]["kl_upper"]
    True
    """
    x = check_samples(z, "z", min_samples=2)
    if np.asarray(z).ndim != 2:
        raise ValueError(f"z must be 2-D (n_samples, dim), got shape {np.shape(z)}")
    for f in footings:
        check_option(f, "footings", FOOTINGS)
    check_positive(kernel_sigma, "kernel_sigma")
    check_int(knn_k, "knn_k", minimum=1)
    try:
        normed = _footings(x)
    except ValueError as exc:
        empty = {q: None for qs in _FAMILIES.values() for q in qs}
        return {f: {**empty, "error": str(exc)} for f in footings}
    return {f: _entropies(normed[f], kernel_sigma, knn_k) for f in footings}


def representation_entropy_ingredients(*, knn_k: int = 3) -> dict[str, object]:
    """What :func:`representation_entropies` computes, in words, for a study's log.

    Parameters
    ----------
    knn_k : int
        The Kozachenko-Leonenko neighbour order the study uses.

    Returns
    -------
    dict
        ``normalisations`` (each footing), ``estimators`` (each quantity), ``kernel_std_rule``
        (the pairwise kernel width) and ``unit``.

    Raises
    ------
    ValueError
        ``knn_k`` not a positive integer.
    """
    check_int(knn_k, "knn_k", minimum=1)
    return {"normalisations": {"isotropic": "centred, one scalar: mean per-dim variance 1",
                               "sphere": "rows scaled to norm sqrt(d)", "raw": "untouched"},
            "estimators": {"logdet": "0.5 logdet(I + C), C covariance, beta 1",
                           "kl_upper": "Kolchinsky-Tracey KL bound, N(z_i, s^2 I)",
                           "bhattacharyya_lower": "Kolchinsky-Tracey Bhattacharyya bound",
                           "knn": f"Kozachenko-Leonenko, k={knn_k}, Euclidean"},
            "kernel_std_rule": "s = kernel_sigma * sqrt(d)", "unit": "nats"}
