"""Statistics of a representation's covariance: effective rank (a collapse diagnostic) and the
distance of a covariance from the nearest diagonal matrix (a decorrelation diagnostic)."""
from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from mitheory._validate import check_samples


def effective_rank(z: ArrayLike) -> float:
    r"""Effective rank of the sample covariance of ``z`` (Roy & Vetterli 2007).

    Parameters
    ----------
    z : array_like, shape (n_samples, dim_z)
        Representations (``n_samples >= 2``).

    Returns
    -------
    float
        :math:`\exp(-\sum_i p_i\log p_i)` with :math:`p_i = \lambda_i/\sum_j\lambda_j` over
        the eigenvalues of the centred sample covariance (exact for that matrix): ``dim_z``
        for an isotropic spectrum, 1 for a rank-one one. A collapse diagnostic (MINC, C14).

    Raises
    ------
    ValueError
        If ``z`` has fewer than 2 rows, is not finite, or its covariance is zero (a fully
        collapsed, constant representation has no spectrum to normalise).
    """
    a = check_samples(z, "z", min_samples=2)
    a = a - a.mean(axis=0)
    lam = np.clip(np.linalg.eigvalsh(a.T @ a / (a.shape[0] - 1)), 0.0, None)  # round-off < 0
    total = lam.sum()
    if not total > 0:
        raise ValueError("z has zero covariance (constant representation): effective rank "
                         "is undefined")
    p = lam[lam > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def off_diagonal_ratio(cov: ArrayLike | torch.Tensor) -> float | np.ndarray:
    r"""Relative Frobenius distance of each covariance from its nearest diagonal matrix.

    Parameters
    ----------
    cov : array_like or torch.Tensor, shape (..., d, d)
        Square matrices (finite, none all zero); a leading batch shape is kept.

    Returns
    -------
    float or numpy.ndarray of shape (...)
        :math:`\|S - \operatorname{diag} S\|_F / \|S\|_F` (exact for the matrix): 0 iff
        :math:`S` is diagonal, at most 1. A float for one matrix.

    Raises
    ------
    ValueError
        If ``cov`` is not a finite stack of square matrices, or a matrix is all zero.

    Notes
    -----
    :math:`\operatorname{diag} S` (the diagonal of :math:`S`, zeros elsewhere) is the diagonal
    matrix nearest to :math:`S` in Frobenius norm, since the norm sums squared entries and a
    diagonal matrix can only match the diagonal ones. Computed in float64 torch
    (``torch.linalg.norm``), whatever the input type; the value is not differentiated.
    """
    if isinstance(cov, torch.Tensor):
        c = cov.detach().to(torch.float64)
    else:
        c = torch.as_tensor(np.asarray(cov, dtype=np.float64))
    if c.ndim < 2 or c.shape[-1] != c.shape[-2] or c.shape[-1] == 0:
        raise ValueError(f"cov must have shape (..., d, d) with d >= 1, got {tuple(c.shape)}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("cov is not finite (contains NaN or inf)")
    total = torch.linalg.norm(c, dim=(-2, -1))
    if not bool((total > 0).all()):
        raise ValueError("cov holds an all-zero matrix: its distance to diagonal is undefined")
    off = c - torch.diag_embed(torch.diagonal(c, dim1=-2, dim2=-1))
    out = (torch.linalg.norm(off, dim=(-2, -1)) / total).numpy()
    return float(out) if out.ndim == 0 else out
