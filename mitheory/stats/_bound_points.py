"""Generalization bounds against the observed gap of linear probes over label budgets, and the
correlation of each bound with the gap (Shwartz-Ziv et al. 2023, Fig. 5)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mitheory._rng import seed_tuple
from mitheory._validate import check_array, check_int, check_labels
from mitheory.stats._correlation import correlation
from mitheory.stats._generalization import (fit_linear_probe, generalization_bound_pac_bayes,
                                            generalization_bound_rademacher,
                                            generalization_bound_ssl)


def stratified_prefix(labels: ArrayLike, n_classes: int, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` samples of every class, class by class (so the sets
    of increasing budgets are nested).

    Raises
    ------
    ValueError
        If a class has fewer than ``per_class`` samples.
    """
    y = check_labels(labels, "labels")
    check_int(n_classes, "n_classes", minimum=1)
    check_int(per_class, "per_class", minimum=1)
    out = [np.flatnonzero(y == c)[:per_class] for c in range(n_classes)]
    short = [c for c, i in enumerate(out) if len(i) < per_class]
    if short:
        raise ValueError(f"per_class (a label budget): class(es) {short} have fewer than "
                         f"{per_class} images "
                         "in the labelled pool")
    return np.concatenate(out)


def probe_gaps_and_bounds(h_pool: ArrayLike, y_pool: ArrayLike, h_test: ArrayLike,
                          y_test: ArrayLike, h_view_a: ArrayLike, h_view_b: ArrayLike, *,
                          n_classes: int, label_budgets: Sequence[int], c: float = 1.0,
                          delta: float = 0.05, n_mc: int = 32,
                          seed: int | tuple[int, ...] = 0) -> list[dict[str, Any]]:
    """The observed generalization gap of a softmax linear probe and three bounds on it, per
    label budget, for one frozen representation.

    Parameters
    ----------
    h_pool, y_pool : array (n_pool, d), labels (n_pool,)
        The labelled pool; budget ``b`` fits the probe on :func:`stratified_prefix` ``(b)``.
    h_test, y_test : array (n_test, d), labels (n_test,)
        Held-out labelled samples of the test cross-entropy and accuracy.
    h_view_a, h_view_b : array (m, d)
        Representations of ``m`` unlabelled view pairs (the SSL bound's terms).
    n_classes : int
    label_budgets : sequence of int
        Labelled samples per class.
    c : float
        Inverse L2 strength of the probe (:func:`fit_linear_probe`).
    delta : float
        Failure probability of every bound.
    n_mc : int
        Posterior draws of the PAC-Bayes bound.
    seed : int or tuple of int
        The PAC-Bayes bound of budget ``b`` draws with ``(*seed, b)``.

    Returns
    -------
    list of dict
        Per budget: ``per_class``, ``n``, ``train_ce``, ``test_ce``, ``gap`` = test - train
        cross-entropy, ``test_accuracy`` and ``bounds`` (``{name: GeneralizationBound.to_dict()}``
        for :func:`generalization_bound_ssl`, :func:`generalization_bound_rademacher` and
        :func:`generalization_bound_pac_bayes`).

    Raises
    ------
    ValueError
        An empty budget list, a class short of a budget, and the bounds' input errors.
    """
    base = seed_tuple(seed)
    y_pool, y_test = check_labels(y_pool, "y_pool"), check_labels(y_test, "y_test")
    h_pool, h_test = check_array(h_pool, "h_pool", ndim=2), check_array(h_test, "h_test", ndim=2)
    if len(label_budgets) == 0:
        raise ValueError("label_budgets must hold at least one budget")
    rows = []
    for b in label_budgets:
        i = stratified_prefix(y_pool, n_classes, b)
        h, y = h_pool[i], y_pool[i]
        probe = fit_linear_probe(h, y, n_classes=n_classes, c=c)
        train_ce, test_ce = probe.cross_entropy(h, y), probe.cross_entropy(h_test, y_test)
        pred = np.argmax(probe.standardize(h_test) @ probe.weight.T + probe.bias, axis=1)
        bounds = [generalization_bound_ssl(probe, h, y, h_view_a, h_view_b, delta=delta),
                  generalization_bound_rademacher(probe, h, y, delta=delta),
                  generalization_bound_pac_bayes(probe, h, y, delta=delta, n_mc=n_mc,
                                                 seed=(*base, b))]
        rows.append({"per_class": b, "n": len(y), "train_ce": train_ce, "test_ce": test_ce,
                     "gap": test_ce - train_ce, "test_accuracy": float(np.mean(pred == y_test)),
                     "bounds": {bd.name: bd.to_dict() for bd in bounds}})
    return rows


def correlations_with(xs: Mapping[str, ArrayLike], y: ArrayLike, *,
                      methods: Sequence[str] = ("pearson", "spearman"), n_boot: int = 2000,
                      seed: Any = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`correlation` of each named ``x`` with ``y``, by every method, with bootstrap CIs.

    Every call uses the same ``seed`` (the same bootstrap resamples for every ``x``). Returns
    ``{name: {method: Correlation.to_dict()}}`` in the order given.

    Raises
    ------
    ValueError
        If ``xs`` or ``methods`` is empty (and the errors of :func:`correlation`).
    """
    if not xs or not methods:
        raise ValueError(f"xs and methods must be non-empty, got {list(xs)} and {list(methods)}")
    return {name: {m: correlation(x, y, method=m, n_boot=n_boot, seed=seed).to_dict()
                   for m in methods} for name, x in xs.items()}


def bounds_vs_gap(points: Sequence[Mapping[str, Any]], bounds: Sequence[str], *, reference: str,
                  n_boot: int = 2000, seed: Any = 0) -> dict[str, Any]:
    """How closely each bound follows the observed generalization gap over a set of points, and
    the Pearson r of a reference bound against the best of the other bounds.

    Parameters
    ----------
    points : sequence of dict
        Rows of :func:`probe_gaps_and_bounds` (possibly tagged with more fields): ``gap`` and
        ``bounds[name]["gap_bound"]`` for every name in ``bounds``.
    bounds : sequence of str
        The bounds compared (at least two), ``reference`` among them.
    reference : str
        The bound compared against the best of the others (its rivals).
    n_boot, seed
        Bootstrap resamples and seed of every correlation's CI (:func:`correlations_with`:
        the same resamples for every bound).

    Returns
    -------
    dict
        ``correlations`` (:func:`correlations_with` of each bound's ``gap_bound`` with the
        gap, Pearson and Spearman), ``fraction_bound_above_gap`` (per bound, the fraction of
        points where it holds: ``gap_bound >= gap``), ``spearman_r`` (per bound),
        ``rival_r`` (Pearson r of each other bound), ``best_rival`` (the largest of them),
        and the reference's Pearson ``r``, ``ci_low`` (lower CI end), ``r_minus_best`` and
        ``ci_low_minus_best`` (each minus the best rival's r).

    Raises
    ------
    ValueError
        Fewer than two bounds, ``reference`` not among them, a point without ``gap`` or one of
        the bounds (and the errors of :func:`correlations_with`).
    """
    names = list(bounds)
    if len(names) < 2 or reference not in names:
        raise ValueError(f"bounds must hold at least two names, reference {reference!r} among "
                         f"them, got {names}")
    if any("gap" not in p or any(b not in p.get("bounds", {}) for b in names) for p in points):
        raise ValueError(f"points must each have a 'gap' and the bounds {names}")
    gap = [p["gap"] for p in points]
    corr = correlations_with({b: [p["bounds"][b]["gap_bound"] for p in points] for b in names},
                             gap, n_boot=n_boot, seed=seed)
    rival = {b: corr[b]["pearson"]["r"] for b in names if b != reference}
    best, ref = max(rival, key=rival.get), corr[reference]["pearson"]
    return {"correlations": corr,
            "fraction_bound_above_gap": {
                b: float(np.mean([p["bounds"][b]["gap_bound"] >= p["gap"] for p in points]))
                for b in names},
            "spearman_r": {b: corr[b]["spearman"]["r"] for b in names},
            "rival_r": rival, "best_rival": best, "r": ref["r"], "ci_low": ref["ci_low"],
            "r_minus_best": ref["r"] - rival[best],
            "ci_low_minus_best": ref["ci_low"] - rival[best]}
