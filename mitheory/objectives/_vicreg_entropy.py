"""VICReg with entropy estimators in place of its variance/covariance terms (the family of
Shwartz-Ziv, Balestriero, Kawaguchi, Rudner, LeCun, NeurIPS 2023): LogDet (Zhouyin & Liu 2021)
and pairwise-distance KL / Bhattacharyya bounds (Kolchinsky & Tracey 2017).
"""
from __future__ import annotations

from typing import Literal

import torch

from mitheory._validate import check_option, check_pair, check_positive
from mitheory.info import logdet_entropy_torch, pairwise_entropy_torch
from mitheory.objectives._distributed import gather_with_grad
from mitheory.objectives._vicreg import Convention, vicreg_invariance, vicreg_variance

EntropyEstimator = Literal["logdet", "kl", "bhattacharyya"]
_ESTIMATORS = ("logdet", "kl", "bhattacharyya")


def _entropy(z: torch.Tensor, estimator: str, beta: float, sigma: float) -> torch.Tensor:
    if estimator == "logdet":
        return logdet_entropy_torch(z, beta=beta, method="cov")
    return pairwise_entropy_torch(z, method=estimator, sigma=sigma)


def vicreg_entropy_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    estimator: EntropyEstimator = "logdet",
    sim_weight: float = 25.0,
    entropy_weight: float = 1.0,
    var_weight: float = 0.0,
    beta: float = 1.0,
    sigma: float = 1.0,
    convention: Convention = "official",
    gather: bool = False,
) -> torch.Tensor:
    r"""VICReg invariance minus an entropy estimate of each branch. ``reconstructed``.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Expander outputs of the two branches.
    estimator : {"logdet", "kl", "bhattacharyya"}, default "logdet"
        ``"logdet"``: :math:`\tfrac12\log\det(I + \beta C)` with the :math:`1/n` covariance
        (:func:`~mitheory.info.logdet_entropy_torch`, ``method="cov"``); ``"kl"`` /
        ``"bhattacharyya"``: the pairwise-distance upper / lower bound on the entropy of the
        Gaussian KDE :math:`\frac1N\sum_i\mathcal N(z_i,\sigma^2 I)`
        (:func:`~mitheory.info.pairwise_entropy_torch`).
    sim_weight : float, default 25.0
        :math:`\lambda` of the invariance term (VICReg's default).
    entropy_weight : float, default 1.0
        :math:`\alpha` of the entropy term.
    var_weight : float, default 0.0
        Optionally keep VICReg's variance hinge to pin the scale (0 = pure replacement).
    beta : float, default 1.0
        LogDet scale (MixEntroPY default 1; the LogDet-entropy MI code uses 100 d).
    sigma : float, default 1.0
        Kernel width of the pairwise estimators.
    convention : {"official", "paper"}, default "official"
        Invariance (and variance) averaging, as in :func:`~mitheory.objectives.vicreg_loss`.
    gather : bool, default False
        Entropy (and variance) on the all-gathered batch; invariance stays local.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\lambda\,s(Z_a,Z_b) - \alpha\,[\hat H(Z_a) + \hat H(Z_b)] + \mu\,v`, with
        :math:`v` VICReg's variance term (halved under ``"official"``). A loss, not an
        information value; :math:`\hat H` is an *estimate* (LogDet) or a *bound* (pairwise) of
        each branch's entropy in nats.

    Notes
    -----
    ``reconstructed``: the paper's claim (C12) is that replacing VICReg's variance and
    covariance terms by better entropy estimators improves accuracy; its exact loss,
    weights, :math:`\beta`, :math:`\sigma` and normalisation were not readable (dossier
    vicreg_infotheory.md section 8.2). Summing the two branches follows VICReg's covariance
    term. Maximising the KL *upper* bound does not guarantee the entropy rises; the
    Bhattacharyya *lower* bound does (up to the KDE-vs-data gap).
    """
    check_pair(z_a, z_b)
    check_option(estimator, "estimator", _ESTIMATORS)
    for name, w in (("sim_weight", sim_weight), ("entropy_weight", entropy_weight),
                    ("var_weight", var_weight)):
        check_positive(w, name, strict=False)
    beta, sigma = check_positive(beta, "beta"), check_positive(sigma, "sigma")
    inv = vicreg_invariance(z_a, z_b, convention=convention)
    xa = gather_with_grad(z_a) if gather else z_a
    xb = gather_with_grad(z_b) if gather else z_b
    ent = _entropy(xa, estimator, beta, sigma) + _entropy(xb, estimator, beta, sigma)
    loss = sim_weight * inv - entropy_weight * ent
    if var_weight > 0:
        var = vicreg_variance(xa) + vicreg_variance(xb)
        loss = loss + var_weight * (var / 2 if convention == "official" else var)
    return loss
