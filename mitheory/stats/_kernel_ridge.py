"""RBF kernel ridge regression with a cross-validated (alpha, gamma) grid, shared across targets.

The same estimator, with the same floating-point operations, as scikit-learn's
``GridSearchCV(KernelRidge(kernel="rbf"), ...)`` (RBF kernel from squared Euclidean distances,
a Cholesky solve of ``K + alpha I``, fold scores = uniform-average R^2, mean over folds, first
best in ``ParameterGrid`` order, refit on the whole fit split), organised so that each
distance matrix is computed once per fold, each kernel once per (fold, gamma) and each
factorisation once per (fold, gamma, alpha) for every target block fitted on the same inputs.
Tested against scikit-learn.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg
from sklearn.metrics.pairwise import euclidean_distances


def _rbf(d_sq: np.ndarray, gamma: float) -> np.ndarray:
    k = d_sq * -gamma  # as sklearn.metrics.pairwise.rbf_kernel: K *= -gamma; exp(K, K)
    np.exp(k, k)
    return k


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    """``sklearn.metrics.r2_score(y, pred)`` (uniform average, ``force_finite``) with its
    arithmetic and none of its input checks, which cost more than the score itself in the
    fold loop (``benchmarks/bench_eval``); tested equal to it."""
    num = np.sum((y - pred) ** 2, axis=0)
    den = np.sum((y - np.mean(y, axis=0)) ** 2, axis=0)
    scores = np.ones(len(num))
    valid = (den != 0) & (num != 0)
    scores[valid] = 1 - num[valid] / den[valid]
    scores[(num != 0) & (den == 0)] = 0.0
    return float(np.mean(scores))


def _factor(k: np.ndarray, alpha: float) -> tuple[np.ndarray, bool]:
    """Cholesky factor of ``K + alpha I`` (LAPACK potrf, as sklearn's ``linalg.solve(...,
    assume_a="pos")``, whose potrs solve :func:`scipy.linalg.cho_solve` repeats per block)."""
    a = k.copy()
    a.flat[:: len(a) + 1] += alpha
    try:
        return linalg.cho_factor(a, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError as exc:  # only when alpha is ~0 against round-off
        raise ValueError(f"alphas: K + alpha I is not positive definite at alpha={alpha!r}; "
                         "use larger ridge penalties") from exc


def _fold_scores(h: np.ndarray, ys: Sequence[np.ndarray], folds: Sequence[tuple], alphas,
                 gammas) -> np.ndarray:
    """Mean-over-folds R^2, shape (n_targets, len(alphas), len(gammas))."""
    scores = np.zeros((len(ys), len(alphas), len(gammas)))
    for tr_idx, te_idx in folds:
        d_tr = euclidean_distances(h[tr_idx], squared=True)  # Y=None: exact-zero diagonal
        d_te = euclidean_distances(h[te_idx], h[tr_idx], squared=True)
        for gi, g in enumerate(gammas):
            k_tr, k_te = _rbf(d_tr, g), _rbf(d_te, g)
            for ai, a in enumerate(alphas):
                chol = _factor(k_tr, a)
                for ti, y in enumerate(ys):  # one solve per block: bit-identical to sklearn
                    pred = k_te @ linalg.cho_solve(chol, y[tr_idx], check_finite=False)
                    scores[ti, ai, gi] += _r2(y[te_idx], pred)
    return scores / len(folds)


def kernel_ridge_cv(h_fit: np.ndarray, ys_fit: Sequence[np.ndarray], h_eval: np.ndarray, *,
                    alphas: Sequence[float], gammas: Sequence[float],
                    folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """Grid-searched RBF kernel ridge for each target block, predictions on ``h_eval``.

    Parameters
    ----------
    h_fit : np.ndarray, shape (n_fit, dim_h)
        Inputs (already standardised by the caller).
    ys_fit : sequence of np.ndarray, each shape (n_fit, dim_y)
        Target blocks; each gets its own (alpha, gamma).
    h_eval : np.ndarray, shape (n_eval, dim_h)
    alphas, gammas : sequence of float
        The grid (validated by the caller).
    folds : sequence of (train_idx, test_idx)
        The cross-validation splits (e.g. ``list(KFold(...).split(h_fit))``).

    Returns
    -------
    list of dict
        Per block: ``pred`` (n_eval, dim_y), ``alpha``, ``gamma``, ``cv_r2`` (the best mean fold
        R^2). Ties are resolved as scikit-learn does: first in (alpha, gamma) grid order.
    """
    ys = [np.asarray(y, dtype=float).reshape(len(h_fit), -1) for y in ys_fit]
    scores = _fold_scores(h_fit, ys, folds, alphas, gammas)
    d_fit = euclidean_distances(h_fit, squared=True)
    d_ev = euclidean_distances(h_eval, h_fit, squared=True)
    out = []
    for ti, y in enumerate(ys):
        flat = scores[ti].reshape(-1)  # alpha-major, as ParameterGrid orders sorted keys
        best = int(np.flatnonzero(flat == flat.max())[0])
        ai, gi = divmod(best, len(gammas))
        chol = _factor(_rbf(d_fit, gammas[gi]), alphas[ai])
        pred = _rbf(d_ev, gammas[gi]) @ linalg.cho_solve(chol, y, check_finite=False)
        out.append({"pred": pred, "alpha": float(alphas[ai]), "gamma": float(gammas[gi]),
                    "cv_r2": float(flat[best])})
    return out
