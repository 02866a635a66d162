"""Invariance of mutual information under invertible maps, I(X; f(Y)) = I(X; Y), as three
estimators see it: the Gaussian plug-in and LogDet (second-order statistics) and KSG (kNN)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mitheory._types import Seed
from mitheory._validate import check_same_length, check_samples
from mitheory.info._knn import mi_ksg
from mitheory.info._second_order import mi_gaussian_plugin, mi_logdet


def mi_after_maps(x: ArrayLike, y: ArrayLike, maps: Mapping[str, Callable[[np.ndarray], Any]],
                  *, k: int = 3, seed: Seed = None) -> list[dict]:
    r"""Estimates of :math:`I(X; f(Y))` for each map :math:`f` of ``y``, by three estimators.

    For an invertible (e.g. strictly monotone, per coordinate) ``f`` the true mutual
    information does not change, :math:`I(X; f(Y)) = I(X; Y)`; an estimator whose value moves
    is not invariant. Second-order estimators are exactly invariant under invertible *linear*
    maps (:math:`\log\det(ASA^\top) = \log\det S + 2\log|\det A|` cancels) but not under
    non-linear ones; KSG is invariant in the limit of many samples.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim_x)
    y : array_like, shape (n_samples, dim_y)
    maps : mapping of str to callable
        Name -> ``f``, applied to ``y`` as a whole (include the identity to have a baseline).
    k : int, default 3
        Neighbours of KSG.
    seed : int, Generator or None
        Passed to every KSG call as it is, so an int seed gives each map the same stream.

    Returns
    -------
    list of dict
        One row per map, in order: ``map``, and each estimator's **estimate** (nats) of
        :math:`I(X; f(Y))`: ``gaussian`` (:func:`mi_gaussian_plugin`), ``logdet``
        (:func:`mi_logdet`) and ``ksg`` (:func:`mi_ksg`).

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not a finite sample array, their lengths differ, ``maps`` is empty,
        or a map's output is not a valid sample array.
    TypeError
        If a value of ``maps`` is not callable.

    Notes
    -----
    The invariance (Cover & Thomas 2006, Sec. 8.6) for invertible :math:`f`:

    .. math:: I(X; f(Y)) = I(X; Y).
    """
    x, y = check_samples(x, "x", min_samples=k + 1), check_samples(y, "y", min_samples=k + 1)
    check_same_length(x, y)
    if not isinstance(maps, Mapping) or len(maps) == 0:
        raise ValueError(f"maps must be a non-empty mapping of name -> map, got {maps!r}")
    bad = [name for name, f in maps.items() if not callable(f)]
    if bad:
        raise TypeError(f"maps values must be callable, not for {bad}")
    rows = []
    for name, f in maps.items():
        fy = f(y)
        rows.append({"map": name, "gaussian": mi_gaussian_plugin(x, fy).value,
                     "logdet": mi_logdet(x, fy).value, "ksg": mi_ksg(x, fy, k=k, seed=seed).value})
    return rows
