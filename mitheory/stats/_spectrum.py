"""Spectrum statistics of a representation: effective rank (a collapse diagnostic)."""
from __future__ import annotations

import numpy as np
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
