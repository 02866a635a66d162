r"""Euclidean ER: Gaussian-KDE entropy and Gaussian reconstruction. **Reconstructed.**

The Euclidean counterpart of :func:`~mitheory.objectives.er_loss` for latents in
:math:`\mathbb{R}^d` (content/style, box). The ER paper's released code has only the sphere and
discrete supports; this instance swaps the vMF kernel and decoder for isotropic Gaussians with
the same conventions (shared bandwidth, plug-in or Joe reduction, true nats). The kernel code
lives in :mod:`mitheory._kde` and is shared with the ER bound's Gaussian decoder in
:mod:`mitheory.info`.
"""
from __future__ import annotations

import math

import torch

from mitheory._kde import (
    gaussian_kde_log_density,
    gaussian_log_density,
    kde_entropy,
    resolve_log_sd,
)
from mitheory._validate import check_embeddings, check_option, check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad
from mitheory.objectives._er import Reduction

# sigma^2 = 0.1 = 1/kappa at the released kappa = 10: on the unit sphere
# ||x - y||^2 = 2 - 2 x.y, so exp(kappa x.y) is a Gaussian kernel in x with variance 1/kappa
# (dossier Sec. 1.6). Not from the paper, which publishes no Euclidean instance.
DEFAULT_SIGMA = math.sqrt(0.1)


def entropy_gaussian_kde(
    z: torch.Tensor,
    *,
    sigma: float | None = None,
    log_sigma: torch.Tensor | None = None,
    reduction: Reduction = "plugin",
    leave_one_out: bool = False,
    gather: bool = False,
) -> torch.Tensor:
    r"""Differential entropy of Euclidean embeddings from an isotropic Gaussian KDE (nats).

    Parameters
    ----------
    z : torch.Tensor, shape (n_samples, dim_z)
        Embeddings (any scale; nothing is normalised).
    sigma : float, optional
        Kernel standard deviation :math:`\sigma > 0`; ``None`` (and no ``log_sigma``) means
        ``DEFAULT_SIGMA`` = :math:`\sqrt{0.1}`, the Gaussian twin of the released
        :math:`\kappa = 10` (:math:`\sigma^2 = 1/\kappa`).
    log_sigma : torch.Tensor, optional
        One-element tensor :math:`\log\sigma` instead of ``sigma`` (e.g. a caller's trainable
        parameter; gradients reach it). Passing both is an error.
    reduction : {"plugin", "joe"}, default "plugin"
        As :func:`~mitheory.objectives.entropy_vmf_kde`: ``"plugin"`` is the softmax-weighted
        (released ``"expectation"``) estimator, ``"joe"`` the resubstitution average.
    leave_one_out : bool, default False
        Drop the kernel centred on ``z_i`` itself and divide by ``n - 1``. The self term
        :math:`(2\pi\sigma^2)^{-d/2}/n` is the kernel's maximum, so it can only raise
        :math:`\hat p(z_i)`: with it the Joe estimate is never above the leave-one-out one, and
        the gap shrinks as :math:`O(1/n)` (faster when :math:`\sigma` is large against the
        spread of ``z``).
    gather : bool, default False
        All-gathered batch under ``torch.distributed``, as in
        :func:`~mitheory.objectives.entropy_vmf_kde`.

    Returns
    -------
    torch.Tensor, shape ()
        An *estimate* in nats (to be maximised in ER): biased, not a bound.

    Notes
    -----
    .. math::

        \hat p(z_i) = \frac{1}{k}\sum_{j=1}^{k}(2\pi\sigma^2)^{-d/2}
        e^{-\|z_i-z_j\|^2/(2\sigma^2)},\qquad
        \hat H_{\text{joe}} = -\frac1k\sum_i\log\hat p(z_i),\qquad
        \hat H_{\text{plugin}} = \sum_i w_i(-\log\hat p(z_i)),\;
        w=\operatorname{softmax}(\log\hat p)

    (:math:`k` = batch size; :math:`k-1` and :math:`j \ne i` with ``leave_one_out``). What it
    estimates: :math:`\hat p \to p_\sigma = p * N(0, \sigma^2 I)`, so for
    :math:`z \sim N(0, s^2 I_d)` the Joe estimate tends to the cross-entropy
    :math:`-E_p\log p_\sigma = \tfrac d2\log 2\pi(s^2+\sigma^2) + \tfrac{d s^2}{2(s^2+\sigma^2)}`,
    which lies :math:`\tfrac{d\sigma^2}{2(s^2+\sigma^2)}` *below*
    :math:`H(N(0,(s^2+\sigma^2)I)) = \tfrac d2\log 2\pi e(s^2+\sigma^2)` and
    :math:`\mathrm{KL}(p\|p_\sigma)` above :math:`H(p)`. The plug-in weights tilt the average
    towards dense points and tend to
    :math:`\tfrac d2\log 2\pi(s^2+\sigma^2) + \tfrac{d s^2}{2(2s^2+\sigma^2)}`, lower still.
    """
    check_embeddings(z, "z", min_samples=3 if leave_one_out else 2)
    log_sd = resolve_log_sd(sigma, log_sigma, default=DEFAULT_SIGMA)
    check_option(reduction, "reduction", ("plugin", "joe"))
    zz = gather_with_grad(z) if gather else z
    return kde_entropy(gaussian_kde_log_density(zz, log_sd, leave_one_out=leave_one_out),
                       reduction)


def reconstruction_gaussian(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    sigma: float | None = None,
    log_sigma: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Negative Gaussian log-likelihood of ``z_b`` around ``z_a``: the Euclidean ER
    reconstruction loss (nats).

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
    sigma : float, optional
        Fixed standard deviation of :math:`q(z_b \mid z_a) = N(z_b; z_a, \sigma^2 I)`;
        ``None`` means ``DEFAULT_SIGMA`` (:math:`\sigma^2 = 0.1`).
    log_sigma : torch.Tensor, optional
        One-element tensor :math:`\log\sigma` (learned by the caller) instead of ``sigma``.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\frac1n\sum_i\log N(z_{b,i}; z_{a,i}, \sigma^2 I)
        = \frac{\overline{\|z_a-z_b\|^2}}{2\sigma^2} + \tfrac d2\log 2\pi\sigma^2`, a loss to
        minimise; minus it estimates :math:`E[\log q(z_b|z_a)]`. Symmetric in ``z_a, z_b``, so
        both reconstruction directions coincide (as for the vMF form).
    """
    check_pair(z_a, z_b)
    log_sd = resolve_log_sd(sigma, log_sigma, default=DEFAULT_SIGMA)
    log_sd = torch.as_tensor(log_sd, dtype=z_a.dtype, device=z_a.device)
    return -gaussian_log_density(z_b, z_a, log_sd).mean()


def er_gaussian_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    sigma: float | None = None,
    log_sigma: torch.Tensor | None = None,
    kde_sigma: float | None = None,
    reduction: Reduction = "plugin",
    entropy_weight: float = 1.0,
    leave_one_out: bool = False,
    symmetric: bool = True,
    gather: bool = False,
) -> torch.Tensor:
    r"""Euclidean ER loss: Gaussian reconstruction minus weighted Gaussian-KDE entropy.
    **Reconstructed.**

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Projections of two views (not normalised: the support is :math:`\mathbb{R}^d`).
    sigma : float, optional
        Fixed standard deviation shared by the reconstruction Gaussian and, unless
        ``kde_sigma`` is given, the KDE kernel (as ``kappa`` is shared in
        :func:`~mitheory.objectives.er_loss`). ``None`` (and no ``log_sigma``):
        ``DEFAULT_SIGMA`` = :math:`\sqrt{0.1}`, i.e. :math:`\sigma^2 = 1/\kappa` at the released
        :math:`\kappa = 10`; the dossier gives no Euclidean value.
    log_sigma : torch.Tensor, optional
        Learned reading: a one-element tensor :math:`\log\sigma` owned by the caller (e.g.
        ``torch.nn.Parameter(torch.tensor(0.5 * math.log(0.1)))`` in the optimiser), used in
        place of ``sigma``; gradients reach it. Passing both is an error.
    kde_sigma : float, optional
        Separate fixed KDE bandwidth. ``None`` shares the reconstruction's :math:`\sigma`
        (fixed or learned). With a learned ``log_sigma``, a fixed ``kde_sigma`` leaves
        :math:`\sigma` to the reconstruction term alone, which is then minimised at the
        maximum-likelihood :math:`\sigma^2 = \overline{\|z_a-z_b\|^2}/d` (the tightest bound for
        this decoder family); when shared, the entropy term also pulls :math:`\sigma` up.
    reduction : {"plugin", "joe"}, default "plugin"; leave_one_out : bool, default False
        Entropy estimator options, see :func:`entropy_gaussian_kde`.
    entropy_weight : float, default 1.0
        Weight :math:`\beta \ge 0` of the entropy term (1 gives the ER bound itself).
    symmetric : bool, default True
        Mean of both views' entropies; ``False`` uses :math:`H(Z_b)` only (the bound
        literally). The reconstruction term is symmetric, so both directions coincide.
    gather : bool, default False
        Entropy on the all-gathered batch; reconstruction stays a local per-sample mean.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\mathcal{L}` below (nats, to minimise). With ``entropy_weight=1`` and
        ``symmetric=False``, :math:`-\mathcal{L}` is an *estimate* of the ER lower bound
        :math:`H(Z_b) + E\log q(Z_b|Z_a) \le I(Z_a;Z_b)` (KDE entropy + Gaussian
        reconstruction).

    Notes
    -----
    .. math::

        \mathcal{L} = \frac{\overline{\|z_a-z_b\|^2}}{2\sigma^2} + \tfrac d2\log 2\pi\sigma^2
        - \beta\,\tfrac12\big[\hat H(Z_a) + \hat H(Z_b)\big].

    Scale: the reconstruction grows as :math:`c^2` and the entropy as :math:`d\log c` when the
    embeddings are scaled by :math:`c`, so with fixed :math:`\sigma` neither collapse nor
    unbounded spread minimises :math:`\mathcal{L}`.

    Which reading is the paper's: the paper's runs and any Euclidean instance are unpublished;
    the released code fixes :math:`\kappa`, so the **fixed-sigma** form (the default) is the
    ``reconstructed`` reading of the paper, carried to :math:`\mathbb{R}^d`. The learned
    ``log_sigma`` is an extension (the decoder variance fitted by maximum likelihood, as in
    :class:`~mitheory.info.ERBoundEstimator`'s isotropic decoder). No gradient is stopped.
    """
    check_pair(z_a, z_b)
    check_positive(entropy_weight, "entropy_weight", strict=False)
    resolve_log_sd(sigma, log_sigma, default=DEFAULT_SIGMA)  # validate once, before any work
    sd = {"sigma": sigma, "log_sigma": log_sigma}
    rec = reconstruction_gaussian(z_a, z_b, **sd)
    if kde_sigma is not None:
        sd = {"sigma": check_positive(kde_sigma, "kde_sigma"), "log_sigma": None}
    opts = dict(reduction=reduction, leave_one_out=leave_one_out, gather=gather, **sd)
    ent = entropy_gaussian_kde(z_b, **opts)
    if symmetric:
        ent = 0.5 * (ent + entropy_gaussian_kde(z_a, **opts))
    return rec - entropy_weight * ent
