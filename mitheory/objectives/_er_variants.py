"""ER versions of SimCLR, BYOL and DINO (Rodriguez-Galvez et al. 2023): each method's
reconstruction term kept, its anti-collapse device replaced or joined by an explicit entropy.

``reconstructed`` throughout: the paper says the objectives were "replaced" by the ER bound,
but how (which branch's entropy, weights, kappa, centering) was not readable (dossier
entrec_identifiability.md sections 1.5 and 1.7). Each docstring states the reading used.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from mitheory._validate import check_pair, check_positive
from mitheory.objectives._dino import _as_views, dino_loss
from mitheory.objectives._er import Reduction, entropy_vmf_kde, reconstruction_vmf
from mitheory.objectives._er_discrete import RELEASED_EPS, entropy_discrete


def er_simclr_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    kappa: float = 10.0,
    entropy_weight: float = 1.0,
    reduction: Reduction = "plugin",
    gather: bool = False,
) -> torch.Tensor:
    r"""ER-SimCLR: vMF reconstruction of the positive pair minus the KDE entropy of all 2N
    embeddings. ``reconstructed``.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Projections of the two views (L2-normalised here).
    kappa : float, default 10.0
        vMF concentration, the inverse of SimCLR's temperature (:math:`\kappa = 1/\tau`;
        10 is both the released ER default and SimCLR's ImageNet :math:`\tau = 0.1`).
    entropy_weight : float, default 1.0
    reduction : {"plugin", "joe"}, default "plugin"
        Entropy estimator (:func:`~mitheory.objectives.entropy_vmf_kde`).
    gather : bool, default False
        Entropy over the all-gathered 2N embeddings under ``torch.distributed``.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\frac1N\sum_i\log\mathrm{vMF}(z^b_i; z^a_i,\kappa)
        - w\,\hat H_{\rm KDE}(\{z^a_i\}\cup\{z^b_i\})` (nats): minus an *estimate* of the ER
        bound on :math:`I(Z_a;Z_b)` for ``w = 1``.

    Notes
    -----
    Reading: SimCLR's alignment term :math:`-z_a^\top z_b/\tau` is the vMF reconstruction up
    to a constant, and its log-sum-exp over the other :math:`2N-1` embeddings of both views is
    a KDE-like uniformity term; ER-SimCLR therefore keeps the former and replaces the latter
    by the KDE entropy of the pooled :math:`2N` embeddings (the same kernel set as the NT-Xent
    denominator, self term included as in the released estimator). The per-view variant
    (mean of the two views' entropies) is :func:`~mitheory.objectives.er_loss`.
    """
    check_pair(z_a, z_b)
    check_positive(entropy_weight, "entropy_weight", strict=False)
    z_a, z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    rec = reconstruction_vmf(z_a, z_b, kappa=kappa)
    pooled = torch.cat([z_a, z_b], dim=0)  # (2N, d); KDE is permutation invariant under gather
    ent = entropy_vmf_kde(pooled, kappa=kappa, reduction=reduction, gather=gather)
    return rec - entropy_weight * ent


def er_byol_loss(
    p_a: torch.Tensor,
    p_b: torch.Tensor,
    target_a: torch.Tensor,
    target_b: torch.Tensor,
    *,
    online_a: torch.Tensor | None = None,
    online_b: torch.Tensor | None = None,
    kappa: float = 10.0,
    entropy_weight: float = 1.0,
    reduction: Reduction = "plugin",
    gather: bool = False,
) -> torch.Tensor:
    r"""ER-BYOL: BYOL's prediction of the target as a vMF reconstruction, plus an explicit
    KDE entropy of the online embeddings. ``reconstructed``.

    Parameters
    ----------
    p_a, p_b : torch.Tensor, shape (n_samples, dim_z)
        Online predictions for views a and b.
    target_a, target_b : torch.Tensor, shape (n_samples, dim_z)
        EMA-target projections of views a and b; **detached inside** (BYOL's stop-gradient).
    online_a, online_b : torch.Tensor or None
        Online projections whose entropy is maximised; ``None`` uses ``p_a, p_b``.
    kappa : float, default 10.0
    entropy_weight : float, default 1.0
    reduction : {"plugin", "joe"}, default "plugin"
    gather : bool, default False
        Entropy over the all-gathered batch; reconstruction stays a local mean.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\tfrac12[\mathrm{rec}(p_a, \bar t_b) + \mathrm{rec}(p_b, \bar t_a)]
        - w\cdot\tfrac12[\hat H(z_a) + \hat H(z_b)]` (all rows L2-normalised).

    Notes
    -----
    :math:`\mathrm{rec}(p, \bar t) = \frac{\kappa}{2}\,\mathrm{BYOL}(p,\bar t) - \kappa -
    \log C_d(\kappa)`, since BYOL's loss is :math:`2 - 2\cos` (tested); so without the entropy
    this is BYOL averaged over its two directions, rescaled. Reading: the ER bound's entropy
    belongs to the reconstructed (target) variable, which has no gradient in BYOL; as the
    target is an EMA of the online network, the entropy is put on the online embeddings.
    """
    check_pair(p_a, p_b, names=("p_a", "p_b"))
    check_pair(target_a, target_b, names=("target_a", "target_b"))
    check_pair(p_a, target_a, names=("p_a", "target_a"))
    check_positive(entropy_weight, "entropy_weight", strict=False)
    if (online_a is None) != (online_b is None):
        raise ValueError("pass both online_a and online_b, or neither")
    ea, eb = (p_a, p_b) if online_a is None else (online_a, online_b)
    check_pair(ea, eb, names=("p_a", "p_b") if online_a is None else ("online_a", "online_b"))
    n = F.normalize
    ta, tb = n(target_a.detach(), dim=1), n(target_b.detach(), dim=1)
    rec = 0.5 * (reconstruction_vmf(n(p_a, dim=1), tb, kappa=kappa)
                 + reconstruction_vmf(n(p_b, dim=1), ta, kappa=kappa))
    opts = dict(kappa=kappa, reduction=reduction, gather=gather)
    ent = 0.5 * (entropy_vmf_kde(n(ea, dim=1), **opts) + entropy_vmf_kde(n(eb, dim=1), **opts))
    return rec - entropy_weight * ent


def er_dino_loss(
    student_logits: Sequence[torch.Tensor],
    teacher_logits: Sequence[torch.Tensor],
    *,
    center: torch.Tensor | None = None,
    student_temp: float = 0.1,
    teacher_temp: float = 0.04,
    entropy_weight: float = 1.0,
    eps: float = RELEASED_EPS,
    gather: bool = False,
) -> torch.Tensor:
    r"""ER-DINO: DINO's teacher-to-student cross-entropy (reconstruction) minus the discrete
    entropy of the batch-mean student assignment. ``reconstructed``.

    Parameters
    ----------
    student_logits, teacher_logits : sequence of torch.Tensor, each (n_samples, out_dim)
        As in :func:`~mitheory.objectives.dino_loss` (teacher detached inside).
    center : torch.Tensor or None, default None
        DINO center; ``None`` means no centering (the explicit entropy now prevents collapse).
    student_temp, teacher_temp : float
        DINO temperatures (official defaults 0.1, 0.04).
    entropy_weight : float, default 1.0
    eps : float, default 1e-7
        Released ER epsilon in the discrete entropy.
    gather : bool, default False
        Batch-mean assignment over the all-gathered batch.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\mathrm{DINO}(s, t; c) - w\cdot\frac{1}{V}\sum_v
        \hat H(\overline{\mathrm{softmax}(s_v/\tau_s)})` over the student views :math:`v`,
        with :math:`\hat H` the released discrete ``"expectation"`` entropy.

    Notes
    -----
    Reading: the ER paper says DINO maximises the reconstruction term and keeps the entropy
    only "implicitly stable" through centering and sharpening; its ER version adds the
    discrete entropy of the marginal cluster assignment (released ``support="discrete"``
    branch) on the student, the branch with gradients. The reconstruction stays DINO's
    one-sided cross-entropy against the stop-gradient teacher rather than the released
    symmetric cross-entropy (which would need gradients through both views).
    """
    check_positive(entropy_weight, "entropy_weight", strict=False)
    students = _as_views(student_logits, "student_logits")
    if center is None:
        center = torch.zeros(1, students[0].shape[1], dtype=students[0].dtype,
                             device=students[0].device)
    rec = dino_loss(students, teacher_logits, center,
                    student_temp=student_temp, teacher_temp=teacher_temp)
    ent = sum(
        entropy_discrete(F.softmax(s / student_temp, dim=-1), eps=eps, gather=gather)
        for s in students
    ) / len(students)
    return rec - entropy_weight * ent
