"""The ER bound with a closed-form linear-Gaussian decoder q(y|x) = N(y; A x + b, S).

Least squares gives A, b; S is the covariance of the fit residuals. No training, so it is the
cheapest decoder of :func:`~mitheory.info.mi_lower_bound_er` and is exact for jointly Gaussian
pairs (then p(y|x) is itself linear-Gaussian and the bound's gap tends to 0).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from mitheory._types import InfoValue, Seed, Unit
from mitheory._validate import check_same_length, check_samples
from mitheory.info._er_bound import mi_lower_bound_er


def _linear_gaussian_log_q(x_fit: np.ndarray,
                           y_fit: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    x = np.c_[x_fit, np.ones(len(x_fit))]
    coef = np.linalg.lstsq(x, y_fit, rcond=None)[0]
    cov = np.cov(y_fit - x @ coef, rowvar=False).reshape(y_fit.shape[1], -1)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as exc:  # a collapsed representation has no density
        raise ValueError("y_fit: the residual covariance of the linear fit is singular "
                         "(collapsed representation?)") from exc
    logdet = 2 * np.log(np.diag(chol)).sum()

    def log_q(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r = np.linalg.solve(chol, (b - np.c_[a, np.ones(len(a))] @ coef).T)
        return -0.5 * (r**2).sum(0) - 0.5 * logdet - 0.5 * b.shape[1] * np.log(2 * np.pi)
    return log_q


def mi_lower_bound_er_linear(x_fit: ArrayLike, y_fit: ArrayLike, x: ArrayLike, y: ArrayLike, *,
                             entropy_y: float | InfoValue | None = None, k: int = 3,
                             unit: Unit = "nats", seed: Seed = None) -> InfoValue:
    r"""ER bound on I(X;Y) with a least-squares linear-Gaussian decoder fitted on a fit split.

    Parameters
    ----------
    x_fit, y_fit : array_like, shape (n_fit, dim_x), (n_fit, dim_y)
        Joint samples the decoder is fitted on.
    x, y : array_like, shape (n, dim_x), (n, dim_y)
        Held-out joint samples the bound is evaluated on.
    entropy_y, k, unit, seed
        As in :func:`~mitheory.info.mi_lower_bound_er` (``None``: kNN estimate of H(Y)).

    Returns
    -------
    InfoValue
        **Lower bound** on I(X;Y) when ``entropy_y`` is exact, else an **estimate**
        (``mi_lower_bound_er``'s details: ``entropy_y_nats``, ``reconstruction_nats``, ``se_nats``).

    Raises
    ------
    ValueError
        On NaN/inf, wrong shapes, mismatched rows, too few fit samples (``n_fit`` must exceed
        ``dim_x + dim_y + 1``), or a singular residual covariance (a collapsed representation
        has no density).

    Notes
    -----
    .. math:: q(y|x) = \mathcal N(y;\, A x + b,\, S), \quad (A, b) = \arg\min \sum_i
              \|y_i - A x_i - b\|^2, \quad S = \widehat{\mathrm{Cov}}(y_i - A x_i - b),

    and :math:`I(X;Y) \ge H(Y) + E \log q(y|x)` (Rodriguez-Galvez et al. 2023; Barber & Agakov
    2003). For jointly Gaussian (X, Y) the gap :math:`E_x \mathrm{KL}(p(y|x)\|q(y|x))` vanishes
    as ``n_fit`` grows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4000, 1)); y = 0.8 * x + 0.6 * rng.standard_normal((4000, 1))
    >>> h = 0.5 * np.log(2 * np.pi * np.e)  # exact H(Y), Y ~ N(0, 1); truth -log(0.6) = 0.511
    >>> v = mi_lower_bound_er_linear(x[:2000], y[:2000], x[2000:], y[2000:], entropy_y=h)
    >>> bool(abs(v.value + np.log(0.6)) < 4 * v.details["se_nats"])
    True
    """
    xf, yf = check_samples(x_fit, "x_fit"), check_samples(y_fit, "y_fit")
    xe, ye = check_samples(x, "x", min_samples=2), check_samples(y, "y", min_samples=2)
    check_same_length(xf, yf, "x_fit", "y_fit")
    check_same_length(xe, ye, "x", "y")
    check_samples(xf, "x_fit", min_samples=xf.shape[1] + yf.shape[1] + 2)
    for fit, ev, name in ((xf, xe, "x"), (yf, ye, "y")):
        if fit.shape[1] != ev.shape[1]:
            raise ValueError(f"{name} must have the {fit.shape[1]} columns of {name}_fit, got "
                             f"{ev.shape[1]}")
    return mi_lower_bound_er(xe, ye, log_q=_linear_gaussian_log_q(xf, yf), entropy_y=entropy_y,
                             k=k, unit=unit, seed=seed)
