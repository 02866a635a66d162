"""Differentiable (torch) Gaussian quantities that objectives are built from: the total
correlation of a Gaussian from its covariance, and the log density of an equal-weight
isotropic Gaussian mixture. Their numpy counterparts are in ``_gaussian`` and ``_mixture``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from mitheory._validate import check_embeddings, check_finite_tensor


def _check_square_stack(cov: torch.Tensor, name: str) -> None:
    """A finite tensor of square matrices ``(..., d, d)``, ``d >= 1``."""
    if not isinstance(cov, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(cov).__name__}")
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2] or cov.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., d, d) with d >= 1, got "
                         f"{tuple(cov.shape)}")
    check_finite_tensor(cov, name)


def total_correlation_gaussian_torch(cov: torch.Tensor) -> torch.Tensor:
    r"""Total correlation of a Gaussian with covariance :math:`S`, per matrix; differentiable.

    Parameters
    ----------
    cov : torch.Tensor, shape (..., d, d)
        Covariance matrices (finite, positive diagonal); a leading batch shape is kept.

    Returns
    -------
    torch.Tensor, shape (...)
        **Exact** total correlation :math:`\sum_i H(z_i) - H(z)` in nats, with the dtype and
        device of ``cov``: 0 iff :math:`S` is diagonal, ``inf`` for a singular :math:`S`.

    Raises
    ------
    TypeError
        If ``cov`` is not a tensor.
    ValueError
        If ``cov`` is not a finite stack of square matrices or has a non-positive diagonal.

    Notes
    -----
    With :math:`D = \operatorname{diag}(S)` and the correlation matrix
    :math:`R = D^{-1/2} S D^{-1/2}`,

    .. math:: \mathrm{TC} = \tfrac12\log\det D - \tfrac12\log\det S = -\tfrac12\log\det R
              \ \ge 0,

    Hadamard's inequality (Cover & Thomas 2006, Thm. 17.9.2; the entropies of Thm. 8.4.1). It
    is the gap by which the Gaussian entropy at fixed variances falls short of its maximum,
    reached only at a diagonal :math:`S` (Shwartz-Ziv et al. 2023, the C9 argument). Computed
    with ``torch.linalg.slogdet`` (``log |det R|``), so a gradient exists wherever
    :math:`R` is non-singular.

    Examples
    --------
    >>> s = torch.tensor([[1.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
    >>> round(float(total_correlation_gaussian_torch(s)), 6)  # -1/2 log(1 - 0.36)
    0.223144
    """
    _check_square_stack(cov, "cov")
    diag = torch.diagonal(cov, dim1=-2, dim2=-1)
    if not bool((diag > 0).all()):
        raise ValueError("cov must have a positive diagonal (every variance > 0), got "
                         f"smallest {float(diag.min()):.3g}")
    sd = torch.sqrt(diag)
    return -0.5 * torch.linalg.slogdet(cov / (sd[..., :, None] * sd[..., None, :]))[1]


def isotropic_mixture_log_density_torch(x: torch.Tensor, means: torch.Tensor,
                                        var: float | torch.Tensor) -> torch.Tensor:
    r"""Log density of each row of ``x`` under :math:`\frac1K\sum_k\mathcal N(\mu_k, s^2 I)`.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d)
        Points (finite).
    means : torch.Tensor, shape (K, d)
        Component means :math:`\mu_k` (finite); the weights are equal, :math:`1/K`.
    var : float or 0-dim torch.Tensor
        The variance :math:`s^2 > 0` shared by every component (a tensor keeps its gradient).

    Returns
    -------
    torch.Tensor, shape (n,)
        **Exact** :math:`\log p(x_i)` in nats, differentiable in ``x``, ``means`` and ``var``;
        its mean over the rows is the mean log-likelihood a GMM fit maximises.

    Raises
    ------
    TypeError
        If ``x`` or ``means`` is not a tensor.
    ValueError
        If ``x`` or ``means`` is not a finite 2-D batch, their columns differ, or ``var`` is
        not a finite positive number.

    Notes
    -----
    .. math:: \log p(x) = \operatorname{logsumexp}_k\Big(-\frac{\|x-\mu_k\|^2}{2s^2}\Big)
              - \log K - \frac d2\log(2\pi s^2),

    the mixture of isotropic Gaussians (Bishop 2006, Eq. 9.7 with :math:`\Sigma_k = s^2 I`,
    :math:`\pi_k = 1/K`), with distances from ``torch.cdist``.

    Examples
    --------
    >>> x = torch.zeros(1, 2, dtype=torch.float64)
    >>> round(float(isotropic_mixture_log_density_torch(x, x, 1.0)[0]), 6)  # -log(2 pi)
    -1.837877
    """
    check_embeddings(x, "x", min_samples=1)
    check_embeddings(means, "means", min_samples=1, dim=x.shape[1])
    v = torch.as_tensor(var, dtype=x.dtype, device=x.device)
    if v.ndim != 0 or not math.isfinite(float(v)) or not float(v) > 0:
        raise ValueError(f"var must be a finite positive number, got {var!r}")
    d2 = torch.cdist(x, means) ** 2  # (n, K)
    return (torch.logsumexp(-d2 / (2 * v), 1) - np.log(len(means))
            - x.shape[1] / 2 * torch.log(2 * np.pi * v))
