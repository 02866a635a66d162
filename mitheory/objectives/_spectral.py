"""Spectral contrastive loss (HaoChen, Wei, Gaidon, Ma, NeurIPS 2021), in the form of the official
``jhaochenz96/spectral_contrastive_learning`` ``models/spectral.py::D`` (norm clipping at sqrt(mu)).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mitheory._validate import check_embeddings, check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad


def clip_norm(z: torch.Tensor, *, mu: float = 1.0) -> torch.Tensor:
    r"""Rescale rows with norm :math:`\ge\sqrt{\mu}` to norm :math:`\sqrt{\mu}`; keep shorter rows.

    Parameters
    ----------
    z : torch.Tensor, shape (n_samples, dim_z)
    mu : float, default 1.0

    Returns
    -------
    torch.Tensor, shape (n_samples, dim_z)
        :math:`z_i` if :math:`\|z_i\| < \sqrt\mu`, else :math:`\sqrt\mu\, z_i/\|z_i\|`
        (``F.normalize`` with its ``1e-12`` floor, as in the official code).
    """
    check_embeddings(z, "z", min_samples=1)
    root = math.sqrt(check_positive(mu, "mu"))
    keep = (torch.linalg.vector_norm(z, dim=1) < root).to(z.dtype).unsqueeze(1)
    return keep * z + (1 - keep) * F.normalize(z, dim=1) * root


def spectral_contrastive_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, *, mu: float = 1.0, gather: bool = False
) -> torch.Tensor:
    r"""Spectral contrastive loss on one mini-batch (official form, with norm clipping).

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Embeddings of the two views (row i of both from the same source sample).
    mu : float, default 1.0
        Clipping radius squared and overall scale: 1 in the official CIFAR config, 10 in the
        ImageNet config.
    gather : bool, default False
        Under ``torch.distributed``, compute the loss on the all-gathered batch (every pair
        :math:`i \ne j` of the global batch is a negative; gradients via ``gather_with_grad``).

    Returns
    -------
    torch.Tensor, shape ()
        The loss (to be minimised). Up to :math:`1/\mu` and the clipping, its expectation is
        the population spectral loss :math:`-2E_{x,x^+}[f^\top f^+] + E_{x,x'}[(f^\top f')^2]`,
        i.e. minus the chi-square f-MI variational objective minus one (see
        :func:`~mitheory.objectives.f_mi_alpha_loss` with ``alpha=2``).

    Notes
    -----
    After clipping, with :math:`N` = batch size,

    .. math::

        L = \frac1\mu\Big[-\frac2N\sum_i z^a_i{}^\top z^b_i
            + \frac1{N(N-1)}\sum_{i\ne j}(z^a_i{}^\top z^b_j)^2\Big].

    The official code computes only this direction; it is symmetric anyway
    (:math:`\sum_{i\ne j}(z^a_i{}^\top z^b_j)^2` is unchanged by swapping the views), so no
    symmetrisation is needed. The official code has no distributed gather; ``gather=True``
    makes the multi-process loss equal the single-process loss on the concatenated batch.

    References
    ----------
    HaoChen, Wei, Gaidon, Ma, "Provable guarantees for self-supervised deep learning with
    spectral contrastive loss", NeurIPS 2021; code ``models/spectral.py`` (commit ee745a2).
    """
    check_pair(z_a, z_b)
    mu = check_positive(mu, "mu")
    if gather:
        z_a, z_b = gather_with_grad(z_a), gather_with_grad(z_b)
    z_a, z_b = clip_norm(z_a, mu=mu), clip_norm(z_b, mu=mu)
    n = z_a.shape[0]
    positive = -2.0 * (z_a * z_b).sum(dim=1).mean()
    sq = (z_a @ z_b.T) ** 2  # (n, n)
    negative = (sq.sum() - torch.diagonal(sq).sum()) / (n * (n - 1))
    return (positive + negative) / mu
