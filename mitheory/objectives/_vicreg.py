"""VICReg (Bardes, Ponce, LeCun 2022): invariance, variance and covariance terms and their sum.

Two conventions: the official ``facebookresearch/vicreg`` code (default) and the paper's Eq.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from mitheory._validate import check_embeddings, check_option, check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad

Convention = Literal["official", "paper"]
_CONVENTIONS = ("official", "paper")


def vicreg_invariance(
    z_a: torch.Tensor, z_b: torch.Tensor, *, convention: Convention = "official"
) -> torch.Tensor:
    r"""VICReg invariance term.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
    convention : {"official", "paper"}, default "official"

    Returns
    -------
    torch.Tensor, shape ()
        ``"paper"``: :math:`s = \frac1n\sum_i \|z_{a,i} - z_{b,i}\|^2`. ``"official"``:
        ``F.mse_loss(z_a, z_b)`` = :math:`s / d` (mean over all :math:`n d` entries).
    """
    check_pair(z_a, z_b)
    check_option(convention, "convention", _CONVENTIONS)
    mse = F.mse_loss(z_a, z_b)
    return mse if convention == "official" else mse * z_a.shape[1]


def vicreg_variance(z: torch.Tensor, *, gamma: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    r"""VICReg variance (hinge on the per-dimension standard deviation) of one branch.

    Parameters
    ----------
    z : torch.Tensor, shape (n_samples, dim_z)
    gamma : float, default 1.0
        Target standard deviation.
    eps : float, default 1e-4
        Added to the variance inside the square root.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`v(Z) = \frac1d \sum_j \max\big(0, \gamma - \sqrt{\mathrm{Var}(z^j) + \epsilon}\big)`,
        with the unbiased (``n - 1``) variance, as in the paper and ``torch.Tensor.var``.
    """
    check_embeddings(z, "z")
    gamma = check_positive(gamma, "gamma")
    eps = check_positive(eps, "eps", strict=False)
    std = torch.sqrt(z.var(dim=0) + eps)  # (d,)
    return F.relu(gamma - std).mean()


def vicreg_covariance(z: torch.Tensor) -> torch.Tensor:
    r"""VICReg covariance term of one branch: scaled sum of squared off-diagonal covariances.

    Parameters
    ----------
    z : torch.Tensor, shape (n_samples, dim_z)

    Returns
    -------
    torch.Tensor, shape ()
        :math:`c(Z) = \frac1d \sum_{i \ne j} C(Z)_{ij}^2`,
        :math:`C(Z) = \frac{1}{n-1} \sum_k (z_k - \bar z)(z_k - \bar z)^\top`
        (same in paper and code).
    """
    check_embeddings(z, "z")
    n, d = z.shape
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (n - 1)  # (d, d)
    off = cov - torch.diag_embed(torch.diagonal(cov))
    return off.pow(2).sum() / d


def vicreg_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-4,
    convention: Convention = "official",
    return_terms: bool = False,
    gather: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
    r"""VICReg loss: weighted invariance + variance + covariance.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Expander outputs of the two branches.
    sim_weight, var_weight, cov_weight : float, default 25, 25, 1
        :math:`\lambda, \mu, \nu` (paper and code defaults).
    gamma, eps : float, default 1.0, 1e-4
        Hinge target and variance epsilon, see :func:`vicreg_variance`.
    convention : {"official", "paper"}, default "official"
        Which averaging convention (below).
    return_terms : bool, default False
        Also return ``{"invariance", "variance", "covariance"}``: the unweighted terms exactly
        as they enter the sum under ``convention`` (variance halved or not, covariance summed
        over branches).
    gather : bool, default False
        Under ``torch.distributed``, variance and covariance use the all-gathered batch
        (:func:`gather_with_grad`, same as the official ``FullGatherLayer``); invariance stays
        local, as in the official code.

    Returns
    -------
    torch.Tensor, shape () or (torch.Tensor, dict)
        The loss (to minimise); not an information quantity.

    Notes
    -----
    Paper (Bardes et al. 2022, the loss of Sec. 3 with its terms s, v, c):

    .. math::

        \ell = \lambda\, s(Z, Z') + \mu\,[v(Z) + v(Z')] + \nu\,[c(Z) + c(Z')],\qquad
        s = \frac1n \sum_i \|z_i - z'_i\|^2.

    Official code (``facebookresearch/vicreg`` ``main_vicreg.py``, ``VICReg.forward``, commit
    4e12602):

    .. math::

        \ell = \lambda\, \frac{s}{d} + \mu\, \frac{v(Z) + v(Z')}{2} + \nu\,[c(Z) + c(Z')].

    So at equal weights official = paper with the invariance divided by :math:`d` and the
    variance halved (issues facebookresearch/vicreg#8 and #26 discuss the halving; solo-learn
    does not halve). :math:`v, c` are :func:`vicreg_variance`, :func:`vicreg_covariance`.
    Issue #16 (mean removed before the variance term in code, after in the pseudocode) does
    not change the value.
    """
    check_pair(z_a, z_b)
    check_option(convention, "convention", _CONVENTIONS)
    for name, w in (("sim_weight", sim_weight), ("var_weight", var_weight),
                    ("cov_weight", cov_weight)):
        check_positive(w, name, strict=False)
    inv = vicreg_invariance(z_a, z_b, convention=convention)
    xa = gather_with_grad(z_a) if gather else z_a
    xb = gather_with_grad(z_b) if gather else z_b
    var = vicreg_variance(xa, gamma=gamma, eps=eps) + vicreg_variance(xb, gamma=gamma, eps=eps)
    if convention == "official":
        var = var / 2
    cov = vicreg_covariance(xa) + vicreg_covariance(xb)
    loss = sim_weight * inv + var_weight * var + cov_weight * cov
    if return_terms:
        return loss, {"invariance": inv, "variance": var, "covariance": cov}
    return loss
