"""ER / EntRec objective (Rodriguez-Galvez et al. 2023): vMF-KDE entropy and vMF reconstruction.

Follows the released ``apple/ml-entropy-reconstruction`` (commit f523f11)
``entropy_reconstruction.py``; the way the two terms are combined in training is reconstructed.
"""
from __future__ import annotations

import math
from typing import Literal

import scipy.special as sc
import torch
import torch.nn.functional as F

from mitheory._special import log_vmf_normalizer
from mitheory._validate import (
    check_embeddings,
    check_int,
    check_option,
    check_pair,
    check_positive,
    check_unit_norm,
)
from mitheory.objectives._distributed import gather_with_grad

_NORM_HINT = ("; L2-normalise first (e.g. torch.nn.functional.normalize) or pass "
              "normalize=True")
Reduction = Literal["plugin", "joe"]
Normalizer = Literal["exact", "official"]

# Rows must lie on the sphere to this tolerance: float32 F.normalize gives ~1e-7; 1e-4 leaves
# room for half precision upstream yet catches un-normalised inputs.
UNIT_NORM_ATOL = 1e-4


def _log_vmf_normalizer_official(dim: int, kappa: float) -> float:
    """The released ER constant: ``log(iv(d/2-1, kappa) + 1e-7)`` in place of ``log I``.

    Saturates at ``log 1e-7`` once ``I_{d/2-1}(kappa) < 1e-7`` (``d >= 64`` at ``kappa = 10``);
    :func:`mitheory.objectives.log_vmf_normalizer` is the exact value.
    """
    d = check_int(dim, "dim", minimum=2)
    k = check_positive(kappa, "kappa")
    return (d / 2 - 1) * math.log(k) - (d / 2) * math.log(2 * math.pi) - math.log(
        float(sc.iv(d / 2 - 1, k)) + 1e-7
    )


def _log_c(dim: int, kappa: float, normalizer: str) -> float:
    check_option(normalizer, "normalizer", ("exact", "official"))
    if normalizer == "exact":
        return float(log_vmf_normalizer(dim, kappa))
    return _log_vmf_normalizer_official(dim, kappa)


def entropy_vmf_kde(
    z: torch.Tensor,
    *,
    kappa: float = 10.0,
    reduction: Reduction = "plugin",
    leave_one_out: bool = False,
    normalizer: Normalizer = "exact",
    gather: bool = False,
) -> torch.Tensor:
    r"""Differential entropy of embeddings on the sphere, from a von Mises-Fisher KDE (nats).

    Parameters
    ----------
    z : torch.Tensor, shape (n_samples, dim_z)
        Unit-norm rows (checked to ``UNIT_NORM_ATOL = 1e-4``; not normalised here, as in the
        released code).
    kappa : float, default 10.0
        vMF kernel concentration (the released default; bandwidth :math:`h = \kappa^{-1/2}`).
    reduction : {"plugin", "joe"}, default "plugin"
        ``"plugin"`` = released ``reduction="expectation"`` (the default there), ``"joe"`` =
        ``reduction="average"`` (Joe 1989 resubstitution).
    leave_one_out : bool, default False
        Drop the kernel centred on ``z_i`` itself and divide by ``k - 1``. Not in the released
        code, which keeps the self term (it dominates at large ``dim_z``: :math:`e^\kappa`
        against :math:`k e^{\approx 0}`).
    normalizer : {"exact", "official"}, default "exact"
        ``"exact"``: :func:`log_vmf_normalizer`. ``"official"``: the released constant with
        ``log(iv(d/2-1, kappa) + 1e-7)``, saturated at :math:`\log 10^{-7}` for ``d >= 64`` at
        ``kappa = 10`` (values then off by a constant, gradients unchanged).
    gather : bool, default False
        Under ``torch.distributed``, estimate on the all-gathered batch (every rank computes
        the same value, gradients via :func:`gather_with_grad`).

    Returns
    -------
    torch.Tensor, shape ()
        An *estimate* of :math:`H(Z)` in nats (to be maximised in ER). It is a biased,
        resubstitution KDE estimate, not a bound; on the sphere it can be negative.

    Notes
    -----
    With :math:`k` = batch size and :math:`C_d` from :func:`log_vmf_normalizer`,

    .. math::

        \hat p(z_i) = \frac{1}{k} \sum_{j=1}^{k} C_d(\kappa)\, e^{\kappa z_i^\top z_j},\qquad
        \hat H_{\text{joe}} = -\frac{1}{k}\sum_i \log \hat p(z_i),\qquad
        \hat H_{\text{plugin}} = \sum_i w_i\,(-\log \hat p(z_i)),\;
        w = \operatorname{softmax}(\log \hat p),

    (ER paper Sec. 4.1 as released). Nothing is detached: gradients flow through the plug-in
    weights too, as in the released code.

    References
    ----------
    Rodriguez-Galvez et al. 2023, "The Role of Entropy and Reconstruction in Multi-View
    Self-Supervised Learning", ICML (apple/ml-entropy-reconstruction). Joe 1989, "Estimation of
    entropy and other functionals of a multivariate density", Ann. Inst. Stat. Math.
    """
    check_embeddings(z, "z", min_samples=3 if leave_one_out else 2)
    kappa = check_positive(kappa, "kappa")
    check_option(reduction, "reduction", ("plugin", "joe"))
    check_unit_norm(z, "z", atol=UNIT_NORM_ATOL, hint=_NORM_HINT)
    log_c = _log_c(z.shape[1], kappa, normalizer)
    zz = gather_with_grad(z) if gather else z  # (k, d)
    k = zz.shape[0]
    csim = kappa * (zz @ zz.T)  # (k, k)
    if leave_one_out:
        csim = csim.masked_fill(torch.eye(k, dtype=torch.bool, device=z.device), float("-inf"))
    n_kernels = k - 1 if leave_one_out else k
    log_p = torch.logsumexp(csim, dim=1) - math.log(n_kernels) + log_c  # (k,) log p_hat(z_i)
    if reduction == "joe":
        return -log_p.mean()
    return (F.softmax(log_p, dim=0) * -log_p).sum()


def reconstruction_vmf(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    kappa: float = 10.0,
    normalizer: Normalizer = "exact",
) -> torch.Tensor:
    r"""Negative vMF log-likelihood of ``z_b`` around ``z_a``: the ER reconstruction loss (nats).

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Unit-norm rows (checked to ``UNIT_NORM_ATOL``).
    kappa : float, default 10.0
        Fixed concentration of :math:`q(z_b \mid z_a) = \mathrm{vMF}(z_b; z_a, \kappa)`.
    normalizer : {"exact", "official"}, default "exact"
        See :func:`entropy_vmf_kde`.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\frac1n\sum_i \log \mathrm{vMF}(z_{b,i}; z_{a,i}, \kappa)
        = -\kappa\,\overline{z_a^\top z_b} - \log C_d(\kappa)`, a loss to minimise; minus it
        estimates :math:`E[\log q(z_b|z_a)]`, the reconstruction term of the ER lower bound
        :math:`I(Z_a;Z_b) \ge H(Z_b) + E[\log q(Z_b|Z_a)]`. Symmetric in ``z_a, z_b``.

    Notes
    -----
    Released ``reconstruction(projection1, projection2, support="sphere")``, with the exact
    normaliser by default (see :func:`log_vmf_normalizer` for the released constant).
    """
    check_pair(z_a, z_b)
    kappa = check_positive(kappa, "kappa")
    check_unit_norm(z_a, "z_a", atol=UNIT_NORM_ATOL, hint=_NORM_HINT)
    check_unit_norm(z_b, "z_b", atol=UNIT_NORM_ATOL, hint=_NORM_HINT)
    log_c = _log_c(z_a.shape[1], kappa, normalizer)
    return -(kappa * (z_a * z_b).sum(1)).mean() - log_c


def er_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    kappa: float = 10.0,
    reduction: Reduction = "plugin",
    entropy_weight: float = 1.0,
    leave_one_out: bool = False,
    symmetric: bool = True,
    normalize: bool = True,
    normalizer: Normalizer = "exact",
    gather: bool = False,
) -> torch.Tensor:
    r"""ER (EntRec) loss: vMF reconstruction minus weighted vMF-KDE entropy. **Reconstructed.**

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Projections of two views.
    kappa : float, default 10.0
        Shared concentration of the reconstruction vMF and of the KDE kernel (released default).
    reduction : {"plugin", "joe"}, default "plugin"
        Entropy estimator, see :func:`entropy_vmf_kde`.
    entropy_weight : float, default 1.0
        Weight :math:`\beta \ge 0` of the entropy term (1 gives the ER bound itself).
    leave_one_out : bool, default False
        See :func:`entropy_vmf_kde`.
    symmetric : bool, default True
        Use the mean of the entropies of both views; ``False`` uses :math:`H(Z_b)` only, the
        bound :math:`H(Z_b) + E[\log q(Z_b|Z_a)]` literally. (The reconstruction term is
        symmetric in the two views, so both directions coincide.)
    normalize : bool, default True
        L2-normalise ``z_a`` and ``z_b`` first (the dossier's checklist, Sec. 6). With
        ``False`` they must already be unit norm (checked to ``UNIT_NORM_ATOL``).
    normalizer : {"exact", "official"}, default "exact"
        Log-normaliser used for the reported value; it is a constant, so gradients do not
        depend on it.
    gather : bool, default False
        Entropy on the all-gathered batch (:func:`gather_with_grad`); reconstruction stays a
        local per-sample mean.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\mathcal{L}` below (nats, to minimise). With ``entropy_weight=1`` and
        ``symmetric=False``, :math:`-\mathcal{L}` is an *estimate* of the ER lower bound on
        :math:`I(Z_a; Z_b)` (KDE entropy estimate + vMF reconstruction).

    Notes
    -----
    .. math::

        \mathcal{L} = \underbrace{-\frac1n\sum_i \log \mathrm{vMF}(z_{b,i}; z_{a,i},\kappa)}
        _{\text{reconstruction\_vmf}}
        - \beta\,\tfrac12\big[\hat H(Z_a) + \hat H(Z_b)\big]

    (or :math:`-\beta \hat H(Z_b)` with ``symmetric=False``). The two terms are the released
    ``reconstruction()`` and ``entropy()``; the released code has no training loop, so the
    weighting, which branch's entropy enters, stop-gradients and the EMA/predictor set-up of
    the paper's runs are **[UNVERIFIED]**: this combination is ``reconstructed`` from the ER
    bound (dossier Sec. 1.5, 6). No gradient is stopped here.

    References
    ----------
    Rodriguez-Galvez et al. 2023, ICML, and the ICLR-2023 submission "On information
    maximisation in multi-view self-supervised learning" (EntRec).
    """
    check_pair(z_a, z_b)
    check_positive(entropy_weight, "entropy_weight", strict=False)
    if normalize:
        z_a, z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    rec = reconstruction_vmf(z_a, z_b, kappa=kappa, normalizer=normalizer)
    opts = dict(kappa=kappa, reduction=reduction, leave_one_out=leave_one_out,
                normalizer=normalizer, gather=gather)
    ent = entropy_vmf_kde(z_b, **opts)
    if symmetric:
        ent = 0.5 * (ent + entropy_vmf_kde(z_a, **opts))
    return rec - entropy_weight * ent
