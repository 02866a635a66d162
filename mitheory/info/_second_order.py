r"""Second-order (covariance-based) information estimates, numpy and differentiable torch.

Gaussian plug-in entropy/MI from sample covariances (with the Wishart bias correction), the
LogDet entropy of Zhouyin & Liu (2021), and the pairwise-distance (KDE) entropy estimators of
Kolchinsky & Tracey (2017) used on embeddings (claims C12, C13; VICReg-variant losses).
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.special import digamma

from mitheory._types import InfoValue, Unit
from mitheory._validate import (check_embeddings, check_nonconstant, check_option,
                                check_positive, check_same_length, check_samples)
from mitheory.info._common import check_unit, info_value
from mitheory.info._gaussian import _logdet_pd

LogDetMethod = Literal["cov", "pearson"]
PairwiseMethod = Literal["kl", "bhattacharyya"]
_LOG_2PI_E = math.log(2.0 * math.pi * math.e)


def _scatter_logdet(a: np.ndarray, name: str) -> float:
    """``log det`` of the scatter matrix sum_k (a_k - mean)(a_k - mean)^T, or a clear error."""
    ac = a - a.mean(axis=0)
    try:
        return _logdet_pd(ac.T @ ac)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the sample covariance of {name} is singular (collinear columns, or n_samples "
            f"{a.shape[0]} <= dim {a.shape[1]})"
        ) from None


def _wishart_shift(n: int, d: int) -> float:
    r""":math:`E\log\det A - \log\det\Sigma` for :math:`A\sim W_d(n-1,\Sigma)`:
    :math:`d\log 2 + \sum_{i=1}^d \psi((n-i)/2)`."""
    return d * math.log(2.0) + float(np.sum(digamma((n - np.arange(1, d + 1)) / 2.0)))


def _logdet_cov_estimate(a: np.ndarray, name: str, bias_correction: bool) -> float:
    """``log det`` of the covariance: ML plug-in (scatter / n), or the Wishart-unbiased value."""
    n, d = a.shape
    need = d + 2 if bias_correction else d + 1
    if n < need:
        raise ValueError(
            f"the sample covariance of {name} is singular: too few samples for a nonsingular "
            f"covariance, n_samples must exceed dim"
            f"{' + 1 with bias_correction' if bias_correction else ''} "
            f"(need n_samples >= {need} for dim = {d}, got {n})")
    ld = _scatter_logdet(a, name)
    return ld - _wishart_shift(n, d) if bias_correction else ld - d * math.log(n)


def entropy_gaussian_plugin(x: ArrayLike, *, bias_correction: bool = False,
                            unit: Unit = "nats") -> InfoValue:
    r"""Gaussian entropy from the sample covariance (plug-in, or unbiased for Gaussian data).

    Parameters
    ----------
    x : array_like, shape (n_samples, dim)
        ``n_samples > dim`` rows, no constant column.
    bias_correction : bool
        ``False``: maximum-likelihood plug-in :math:`\tfrac12\log\det(2\pi e\,\hat\Sigma_{ML})`.
        ``True``: subtract the exact Wishart bias of :math:`\log\det`, giving an unbiased
        estimate when ``x`` is Gaussian (Ahmed & Gokhale 1989).
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``) of :math:`\tfrac12\log\det(2\pi e\Sigma_X)`, which is
        :math:`H(X)` for Gaussian X and an **upper bound** on :math:`H(X)` otherwise (Gaussian
        maximum entropy, Cover & Thomas Thm. 8.6.5).

    Notes
    -----
    With the scatter matrix :math:`A = \sum_k (x_k-\bar x)(x_k-\bar x)^\top \sim W_d(n-1,\Sigma)`,
    :math:`E\log\det A = \log\det\Sigma + d\log 2 + \sum_{i=1}^d\psi(\tfrac{n-i}2)`, so
    :math:`\log\det A - d\log 2 - \sum_i\psi(\tfrac{n-i}2)` is unbiased for
    :math:`\log\det\Sigma`; the ML plug-in uses :math:`\log\det(A/n)`.

    Raises
    ------
    ValueError
        If ``x`` holds NaN/inf, has a constant column, or too few samples for a nonsingular
        sample covariance (``n_samples <= dim``, or ``<= dim + 1`` with ``bias_correction``).
    """
    check_unit(unit)
    a = check_samples(x, "x", min_samples=2)
    check_nonconstant(a, "x")
    n, d = a.shape
    h = 0.5 * (d * _LOG_2PI_E + _logdet_cov_estimate(a, "x", bias_correction))
    return info_value(h, unit=unit, kind="estimate",
                      method="gaussian_unbiased" if bias_correction else "gaussian_plugin",
                      n_samples=n, details={"dim": d, "bias_correction": bias_correction})


def mi_gaussian_plugin(x: ArrayLike, y: ArrayLike, *, bias_correction: bool = False,
                       unit: Unit = "nats") -> InfoValue:
    r"""Gaussian (log-det) mutual information from sample covariances.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim_x)
    y : array_like, shape (n_samples, dim_y)
        ``n_samples > dim_x + dim_y``, no constant column.
    bias_correction : bool
        Apply the Wishart correction of ``entropy_gaussian_plugin`` to each of the three
        log-determinants (unbiased for Gaussian data; the ML plug-in is biased upwards).
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``) of the Gaussian MI of the covariance of
        :math:`(X, Y)`: the MI itself for jointly Gaussian data and, by invariance, for invertible
        marginal maps of it only if those are undone first (claim C13). For other laws it is the
        "second-order" MI, not a bound.

    Notes
    -----
    .. math:: \hat I = \tfrac12\big[\log\det\hat\Sigma_X + \log\det\hat\Sigma_Y
              - \log\det\hat\Sigma_{XY}\big] = -\tfrac12\sum_i\log(1-\hat\rho_i^2),

    :math:`\hat\rho_i` the sample canonical correlations (scale factors of the covariance
    estimate cancel, so ML and unbiased covariances give the same plug-in value).
    """
    check_unit(unit)
    xa, ya = check_samples(x, "x", min_samples=2), check_samples(y, "y", min_samples=2)
    check_same_length(xa, ya, "x", "y")
    check_nonconstant(xa, "x")
    check_nonconstant(ya, "y")
    xy = np.hstack([xa, ya])
    lds = [_logdet_cov_estimate(a, nm, bias_correction)
           for a, nm in ((xa, "x"), (ya, "y"), (xy, "(x, y)"))]
    mi = 0.5 * (lds[0] + lds[1] - lds[2])
    return info_value(mi, unit=unit, kind="estimate",
                      method="gaussian_mi_unbiased" if bias_correction else "gaussian_mi_plugin",
                      n_samples=xa.shape[0],
                      details={"dim_x": xa.shape[1], "dim_y": ya.shape[1],
                               "bias_correction": bias_correction})


def _logdet_matrix(a: np.ndarray, method: str, name: str) -> np.ndarray:
    """Centred, scaled data B with C = B^T B: covariance (/sqrt n) or correlation (unit cols)."""
    b = a - a.mean(axis=0)
    if method == "pearson":
        check_nonconstant(a, name)
        return b / np.linalg.norm(b, axis=0)
    return b / math.sqrt(a.shape[0])


def _half_logdet_i_plus(b: np.ndarray, beta: float) -> float:
    """0.5 log det(I + beta B^T B), through the smaller Gram matrix (Sylvester's identity)."""
    n, d = b.shape
    g = b.T @ b if d <= n else b @ b.T
    return 0.5 * _logdet_pd(np.eye(g.shape[0]) + beta * g)


def logdet_entropy(x: ArrayLike, *, beta: float = 1.0, method: LogDetMethod = "cov",
                   unit: Unit = "nats") -> InfoValue:
    r"""LogDet entropy of Zhouyin & Liu (2021), :math:`\tfrac12\log\det(I + \beta C)`.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim)
    beta : float
        Scale :math:`\beta > 0` (MixEntroPY default 1; the authors' ``mi`` uses
        :math:`100\,(d_x+d_y)`).
    method : {"cov", "pearson"}
        :math:`C` = covariance :math:`\bar X^\top\bar X/n` or the correlation matrix.
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``, ``method="logdet_<method>"``) of the LogDet entropy
        functional, a matrix surrogate for differential entropy (not a consistent estimator
        of :math:`H(X)`, nor a bound on it); differences of it estimate MI (``mi_logdet``).

    Notes
    -----
    ``floatingCatty/LogDet-entropy``, ``utils/LogDet.py``: centre, form :math:`C`, return
    :math:`\tfrac12\log\det(I_d + \beta C)`. Their Pearson mode divides by the column-norm
    product plus 1e-8; here the exact correlation is used and a zero-variance column raises.
    For ``n_samples < dim`` the equal :math:`n\times n` determinant is used.

    References
    ----------
    Z. Zhouyin, D. Liu, "Understanding neural networks with logarithm determinant entropy
    estimator", arXiv:2105.03705 (2021).
    """
    check_unit(unit)
    beta = check_positive(beta, "beta")
    check_option(method, "method", ("cov", "pearson"))
    a = check_samples(x, "x", min_samples=2)
    h = _half_logdet_i_plus(_logdet_matrix(a, method, "x"), beta)
    return info_value(h, unit=unit, kind="estimate", method=f"logdet_{method}",
                      n_samples=a.shape[0], details={"beta": beta, "dim": a.shape[1]})


def mi_logdet(x: ArrayLike, y: ArrayLike, *, beta: float | None = None,
              method: LogDetMethod = "pearson", unit: Unit = "nats") -> InfoValue:
    r"""LogDet mutual information :math:`H_\beta(X) + H_\beta(Y) - H_\beta(X, Y)`.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim_x)
    y : array_like, shape (n_samples, dim_y)
    beta : float, optional
        One scale for all three terms; default :math:`100\,(d_x + d_y)` as in the authors' code.
    method : {"pearson", "cov"}
        Matrix for each LogDet term (authors' default for MI: Pearson).
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``) of the LogDet MI. As :math:`\beta\to\infty` it tends
        to the Gaussian plug-in MI (``mi_gaussian_plugin``): the :math:`\log\beta` terms cancel
        because :math:`d_x + d_y = d_{xy}`.

    Notes
    -----
    ``floatingCatty/LogDet-entropy`` ``utils/LogDet.py`` function ``mi``; each term as in
    ``logdet_entropy``.
    """
    check_unit(unit)
    check_option(method, "method", ("cov", "pearson"))
    xa, ya = check_samples(x, "x", min_samples=2), check_samples(y, "y", min_samples=2)
    check_same_length(xa, ya, "x", "y")
    beta = 100.0 * (xa.shape[1] + ya.shape[1]) if beta is None else check_positive(beta, "beta")
    bx, by = _logdet_matrix(xa, method, "x"), _logdet_matrix(ya, method, "y")
    mi = (_half_logdet_i_plus(bx, beta) + _half_logdet_i_plus(by, beta)
          - _half_logdet_i_plus(np.hstack([bx, by]), beta))
    return info_value(mi, unit=unit, kind="estimate", method=f"logdet_mi_{method}",
                      n_samples=xa.shape[0], details={"beta": beta})


# ---- differentiable torch versions (used inside losses; no numpy, no .item()) -------------------
def logdet_entropy_torch(z: torch.Tensor, *, beta: float = 1.0,
                         method: LogDetMethod = "cov", eps: float = 1e-8) -> torch.Tensor:
    r"""Differentiable LogDet entropy :math:`\tfrac12\log\det(I + \beta C)` of a batch.

    Parameters
    ----------
    z : torch.Tensor, shape (batch, dim)
    beta : float
    method : {"cov", "pearson"}
    eps : float
        Added to the column norms in ``"pearson"`` mode (the authors' 1e-8), so a collapsed
        dimension gives a finite value and gradient.

    Returns
    -------
    torch.Tensor
        0-dim tensor, **estimate** of the LogDet entropy (as ``logdet_entropy``), in nats, with
        the dtype/device of ``z``; differentiable.

    Raises
    ------
    ValueError
        If ``z`` is not a finite 2-D batch of at least 2 rows, ``beta`` is not positive
        (as in :func:`logdet_entropy`) or ``method`` is unknown.

    Notes
    -----
    .. math:: \hat H_\beta(Z) = \tfrac12\log\det(I + \beta C), \qquad
              C = \bar Z^\top\bar Z / n \ \text{(cov)}\ \text{or the correlation matrix},

    Zhouyin & Liu (2021); computed through the smaller Gram matrix (Sylvester) with
    ``torch.linalg.slogdet``, so its gradient exists wherever :math:`I + \beta C` is finite.
    """
    check_embeddings(z, "z", min_samples=2)
    check_option(method, "method", ("cov", "pearson"))
    beta = check_positive(beta, "beta")
    zc = z - z.mean(dim=0, keepdim=True)
    if method == "pearson":
        b = zc / (zc.norm(dim=0, keepdim=True) + eps)
    else:
        b = zc / math.sqrt(z.shape[0])
    n, d = b.shape
    g = b.T @ b if d <= n else b @ b.T
    eye = torch.eye(g.shape[0], dtype=z.dtype, device=z.device)
    return 0.5 * torch.linalg.slogdet(eye + beta * g)[1]


def pairwise_entropy_torch(z: torch.Tensor, *, method: PairwiseMethod = "kl",
                           sigma: float = 1.0) -> torch.Tensor:
    r"""Differentiable pairwise-distance entropy of a batch: the KDE mixture
    :math:`\frac1N\sum_i\mathcal N(z_i, \sigma^2 I)`.

    Parameters
    ----------
    z : torch.Tensor, shape (batch, dim)
    method : {"kl", "bhattacharyya"}
    sigma : float
        Kernel standard deviation :math:`\sigma > 0`.

    Returns
    -------
    torch.Tensor
        0-dim tensor in nats: with ``"kl"`` an **upper bound**, with ``"bhattacharyya"`` a
        **lower bound** on the entropy of the KDE mixture (as ``entropy_mixture_bounds`` with
        ``covs = sigma**2``, methods ``kl_upper`` / ``bhattacharyya_lower``); differentiable.

    Notes
    -----
    Kolchinsky & Tracey (2017) with equal isotropic components; ``artemyk/ibsgd`` ``kde.py``:

    .. math:: \hat H_{KL} = \tfrac d2\log(2\pi e\sigma^2) - \frac1N\sum_i\log\frac1N\sum_j
              e^{-\|z_i-z_j\|^2/(2\sigma^2)},

    and :math:`\hat H_{BD}` the same with :math:`8\sigma^2` in the exponent. Self-pairs are
    included. O(N^2 d) time, O(N^2) memory; squared distances come from one matrix product on
    centred ``z`` (no square root, so gradients at coincident points are finite).
    """
    check_embeddings(z, "z", min_samples=1)
    check_option(method, "method", ("kl", "bhattacharyya"))
    sigma = check_positive(sigma, "sigma")
    n, d = z.shape
    zc = z - z.mean(dim=0, keepdim=True)
    sq = (zc * zc).sum(dim=1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * zc @ zc.T).clamp_min(0.0)
    d2 = d2 * (1.0 - torch.eye(n, dtype=z.dtype, device=z.device))  # exact zero self-distance
    scale = 2.0 * sigma**2 if method == "kl" else 8.0 * sigma**2
    lse = torch.logsumexp(-d2 / scale, dim=1) - math.log(n)
    return 0.5 * d * math.log(2.0 * math.pi * math.e * sigma**2) - lse.mean()
