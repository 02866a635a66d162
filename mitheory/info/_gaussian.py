"""Exact differential entropy and mutual information of Gaussian vectors, and affine maps.

Closed forms of Cover & Thomas (2006), Thm. 8.4.1, Sec. 8.5 and Eq. (8.71), and the
canonical-correlation form of Gelfand & Yaglom (1957) (Kraskov et al. 2004 test with it).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from mitheory._types import InfoValue, Unit, convert
from mitheory._validate import check_array, check_covariance, check_finite_number, check_int
from mitheory.info._common import check_unit, info_value

_LOG_2PI_E = math.log(2.0 * math.pi * math.e)


def _logdet_pd(cov: np.ndarray) -> float:
    """``log det`` of a symmetric positive-definite matrix through its Cholesky factor."""
    chol = np.linalg.cholesky(cov)
    return 2.0 * float(np.sum(np.log(np.diag(chol))))


def _as_covariance(cov: ArrayLike, name: str) -> np.ndarray:
    """A scalar variance becomes a 1x1 matrix; anything else must be a valid covariance."""
    arr = check_array(cov, name, ndim=(0, 2))
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    return check_covariance(arr, name)


def entropy_gaussian(cov: ArrayLike, *, unit: Unit = "nats") -> InfoValue:
    r"""Differential entropy of a Gaussian vector, in closed form.

    Parameters
    ----------
    cov : array_like, shape (d, d), or float
        Covariance matrix (symmetric positive definite), or the variance of a scalar Gaussian.
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Exact** value of :math:`H(X)` for :math:`X \sim \mathcal N(\mu, \Sigma)`
        (``kind="exact"``, ``method="gaussian_closed_form"``). The mean does not enter.

    Raises
    ------
    ValueError
        If ``cov`` is not square, not symmetric, not positive definite, or has NaN/inf.

    Notes
    -----
    Cover & Thomas (2006), Theorem 8.4.1:

    .. math:: H(X) = \tfrac12 \log\big((2\pi e)^d \det\Sigma\big).

    ``log det`` is computed from the Cholesky factor, so it stays accurate for ill-conditioned
    (but positive-definite) matrices.

    References
    ----------
    T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley 2006.

    Examples
    --------
    >>> round(entropy_gaussian([[1.0]]).value, 6)   # 0.5 * log(2 pi e)
    1.418939
    """
    check_unit(unit)
    c = _as_covariance(cov, "cov")
    d = c.shape[0]
    h = 0.5 * (d * _LOG_2PI_E + _logdet_pd(c))
    return info_value(h, unit=unit, kind="exact", method="gaussian_closed_form",
                      details={"dim": d})


def mi_gaussian(cov_joint: ArrayLike, dim_x: int, *, unit: Unit = "nats") -> InfoValue:
    r"""Mutual information between the two blocks of a Gaussian vector, in closed form.

    Parameters
    ----------
    cov_joint : array_like, shape (dim_x + dim_y, dim_x + dim_y)
        Covariance of :math:`(X, Y)`, symmetric positive definite; ``X`` is the first ``dim_x``
        coordinates.
    dim_x : int
        Dimension of ``X``, ``1 <= dim_x < dim_x + dim_y``.
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Exact** value of :math:`I(X;Y)` (``kind="exact"``).

    Raises
    ------
    ValueError
        Invalid covariance (see ``entropy_gaussian``) or ``dim_x`` out of range.

    Notes
    -----
    Cover & Thomas (2006), Sec. 8.5 (:math:`I = H(X) + H(Y) - H(X, Y)`) with Thm. 8.4.1:

    .. math::
        I(X;Y) = \tfrac12 \log\frac{\det\Sigma_{XX}\,\det\Sigma_{YY}}{\det\Sigma}
               = \tfrac12\big[\log\det\Sigma_{YY}
                 - \log\det(\Sigma_{YY} - \Sigma_{YX}\Sigma_{XX}^{-1}\Sigma_{XY})\big].

    The second (Schur-complement) form is the one evaluated: it avoids cancelling two large
    log-determinants when the MI is small relative to them. It equals
    ``mi_gaussian_cca`` of the canonical correlations.

    Examples
    --------
    >>> round(mi_gaussian([[1.0, 0.5], [0.5, 1.0]], 1).value, 6)   # -0.5 log(1 - 0.25)
    0.143841
    """
    check_unit(unit)
    c = check_covariance(cov_joint, "cov_joint")
    total = c.shape[0]
    dim_x = check_int(dim_x, "dim_x", minimum=1)
    if dim_x >= total:
        raise ValueError(f"dim_x must be < {total} (the size of cov_joint), got {dim_x}")
    sxx, sxy, syy = c[:dim_x, :dim_x], c[:dim_x, dim_x:], c[dim_x:, dim_x:]
    schur = syy - sxy.T @ np.linalg.solve(sxx, sxy)  # (dim_y, dim_y), conditional cov of Y | X
    schur = 0.5 * (schur + schur.T)
    mi = 0.5 * (_logdet_pd(syy) - _logdet_pd(schur))
    return info_value(mi, unit=unit, kind="exact", method="gaussian_closed_form",
                      details={"dim_x": dim_x, "dim_y": total - dim_x})


def mi_gaussian_cca(canonical_correlations: ArrayLike, *, unit: Unit = "nats") -> InfoValue:
    r"""Mutual information of a Gaussian pair from its canonical correlations, in closed form.

    Parameters
    ----------
    canonical_correlations : array_like, shape (r,)
        Canonical correlations :math:`\rho_i`, each with :math:`|\rho_i| < 1`.
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Exact** value of :math:`I(X;Y)` for jointly Gaussian :math:`(X, Y)` with these
        canonical correlations (``kind="exact"``).

    Notes
    -----
    Gelfand & Yaglom (1957); the Gaussian test case of Kraskov, Stoegbauer & Grassberger (2004):

    .. math:: I(X;Y) = -\tfrac12 \sum_i \log(1 - \rho_i^2).

    Evaluated with ``log1p`` for accuracy at small :math:`\rho`.

    Examples
    --------
    >>> round(mi_gaussian_cca([0.5]).value, 6)
    0.143841
    """
    check_unit(unit)
    rho = check_array(canonical_correlations, "canonical_correlations", ndim=(0, 1)).ravel()
    bad = np.flatnonzero(np.abs(rho) >= 1.0)
    if bad.size:
        raise ValueError(
            "canonical_correlations must lie strictly inside (-1, 1); "
            f"got {rho[bad].tolist()} at index {bad.tolist()}"
        )
    mi = -0.5 * float(np.sum(np.log1p(-(rho**2))))
    return info_value(mi, unit=unit, kind="exact", method="gaussian_cca",
                      details={"n_correlations": int(rho.size)})


def entropy_affine(
    entropy_x: InfoValue | float, matrix: ArrayLike, *, unit: Unit = "nats"
) -> InfoValue:
    r"""Entropy of :math:`AX + b` from the entropy of :math:`X`, for an invertible :math:`A`.

    Parameters
    ----------
    entropy_x : InfoValue or float
        :math:`H(X)`. A float is read in ``unit``; an ``InfoValue`` is converted from its own unit.
    matrix : array_like, shape (d, d), or float
        The invertible linear part :math:`A` (a float is the 1-D case). The shift :math:`b`
        does not change differential entropy.
    unit : {"nats", "bits"}
        Unit of the result (and of a float ``entropy_x``).

    Returns
    -------
    InfoValue
        :math:`H(AX+b)`. The identity is **exact**; the kind is inherited from ``entropy_x``
        (an exact input gives an exact output, an estimate stays an estimate, a bound stays the
        same kind of bound). A float input is treated as exact.

    Raises
    ------
    ValueError
        If ``matrix`` is not square or is singular.

    Notes
    -----
    Cover & Thomas (2006), Eq. (8.71) and Cor. to Thm. 8.6.4:

    .. math:: H(AX + b) = H(X) + \log|\det A|.
    """
    check_unit(unit)
    a = check_array(matrix, "matrix", ndim=(0, 2))
    if a.ndim == 0:
        a = a.reshape(1, 1)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix must be square, got shape {a.shape}")
    sign, logabsdet = np.linalg.slogdet(a)
    if sign == 0 or not np.isfinite(logabsdet):
        raise ValueError(f"matrix must be invertible (det = 0), shape {a.shape}")
    if isinstance(entropy_x, InfoValue):
        h_nats = convert(entropy_x.value, "nats", frm=entropy_x.unit)
        kind, base, n = entropy_x.kind, entropy_x.method, entropy_x.n_samples
    else:
        h_nats = convert(check_finite_number(entropy_x, "entropy_x"), "nats", frm=unit)
        kind, base, n = "exact", "given", None
    return info_value(h_nats + float(logabsdet), unit=unit, kind=kind,
                      method=f"affine({base})", n_samples=n,
                      details={"log_abs_det": float(logabsdet)})
