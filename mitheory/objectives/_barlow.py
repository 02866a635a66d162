"""Barlow Twins loss (Zbontar et al. 2021), following facebookresearch/barlowtwins ``main.py``."""
from __future__ import annotations

import torch

from mitheory._validate import check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad


def _batch_standardize(z: torch.Tensor, eps: float) -> torch.Tensor:
    """``BatchNorm1d(affine=False)`` in training mode: biased batch variance, ``eps`` inside."""
    mean = z.mean(dim=0)
    var = z.var(dim=0, unbiased=False)
    return (z - mean) / torch.sqrt(var + eps)


def barlow_twins_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    lambda_offdiag: float = 0.0051,
    eps: float = 1e-5,
    gather: bool = False,
) -> torch.Tensor:
    r"""Barlow Twins loss: drive the cross-correlation matrix of the two views to the identity.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Projector outputs of the two views.
    lambda_offdiag : float, default 0.0051
        :math:`\lambda` on the off-diagonal (the official ``--lambd`` default).
    eps : float, default 1e-5
        ``BatchNorm1d`` epsilon (torch default, used by the official code).
    gather : bool, default False
        Under ``torch.distributed``, standardise and correlate over the all-gathered batch
        (:func:`gather_with_grad`); every rank computes the full-batch loss.

    Returns
    -------
    torch.Tensor, shape ()
        The loss (to minimise); not an information quantity.

    Notes
    -----
    With :math:`\hat z` each branch standardised over the batch (``BatchNorm1d(affine=False)``
    in training mode: biased variance, :math:`\epsilon` inside the root),

    .. math::

        C = \frac1n \hat z_a^\top \hat z_b,\qquad
        \mathcal{L} = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2

    (Zbontar et al. 2021, Eqs. 1-2, with the code's BatchNorm standardisation). Difference from
    the official distributed code: it computes ``c`` from the local batch (SyncBatchNorm
    statistics) and sums it with ``torch.distributed.all_reduce``, which has no backward, so
    the other ranks' contributions never reach the local gradient; lightly's port had its
    gradient off by exactly ``1/world_size`` for this reason (lightly #1977, PR #2035). Here
    the gathered version matches the single-process gradient (tested).
    """
    check_pair(z_a, z_b)
    lam = check_positive(lambda_offdiag, "lambda_offdiag", strict=False)
    eps = check_positive(eps, "eps", strict=False)
    xa = gather_with_grad(z_a) if gather else z_a
    xb = gather_with_grad(z_b) if gather else z_b
    c = _batch_standardize(xa, eps).T @ _batch_standardize(xb, eps) / xa.shape[0]  # (d, d)
    diag = torch.diagonal(c)
    on_diag = (1.0 - diag).pow(2).sum()
    off_diag = (c - torch.diag_embed(diag)).pow(2).sum()
    return on_diag + lam * off_diag
