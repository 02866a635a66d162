"""Log-det / spectral / MINC family as trainable methods (claims C13, C14), plus effective rank.

Registers ``"mmi"`` (:func:`~mitheory.objectives.mmi_loss`), ``"spectral"``
(:func:`~mitheory.objectives.spectral_contrastive_loss`), ``"fmi_alpha"``
(:func:`~mitheory.objectives.f_mi_alpha_loss`) and ``"minc"``
(:func:`~mitheory.objectives.minc_loss` with a :class:`~mitheory.objectives.SecondMomentEMA`
and an EMA target network). Losses are called, never redefined.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from mitheory import objectives as obj
from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_int, check_option, check_probability, check_samples
from mitheory.train._methods import SSLMethod, register_method


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


def gradient_variance(method: SSLMethod, process, *, batch_size: int, n_batches: int = 32,
                      n_warmup: int = 0, seed: Seed = 0) -> dict[str, float]:
    r"""Spread of a method's mini-batch gradient over independent batches, encoder fixed.

    Parameters
    ----------
    method : SSLMethod
        Its encoder parameters are not changed (no optimiser step); stateful parts such as a
        MINC moment EMA do advance, batch after batch, as they would in training.
    process : LatentProcess
        Supplies ``sample_pairs(n, seed=)``.
    batch_size, n_batches : int
        :math:`B` and the number :math:`R \ge 2` of independent batches measured.
    n_warmup : int, default 0
        Batches run first and not measured (lets an EMA statistic reach its stationary state).
    seed : int, Generator or None
        Seeds the data stream.

    Returns
    -------
    dict
        ``total_variance``: :math:`\operatorname{tr}\widehat{\operatorname{Cov}}(g)`, the sum
        over encoder parameters of the unbiased across-batch variance (an *estimate*);
        ``signal``: :math:`\|\bar g\|^2 - \operatorname{tr}\widehat{\operatorname{Cov}}/R`,
        an unbiased *estimate* of :math:`\|E g\|^2`; ``relative_variance``: their ratio
        (scale-free, so losses with different scales compare; ``inf`` when the signal
        estimate is not positive, i.e. the mean is lost in the noise); ``mean_grad``:
        :math:`\bar g` (numpy, shape ``(n_params,)``; not JSON-able).
    """
    b = check_int(batch_size, "batch_size", minimum=2)
    r = check_int(n_batches, "n_batches", minimum=2)
    rng = as_generator(seed)
    params = [p for p in method.encoder.parameters() if p.requires_grad]
    grads = []
    for i in range(check_int(n_warmup, "n_warmup", minimum=0) + r):
        batch = process.sample_pairs(b, seed=rng)
        g = torch.autograd.grad(method.loss(batch.x, batch.x_tilde), params)
        if len(grads) < r and i >= n_warmup:
            grads.append(torch.cat([t.reshape(-1) for t in g]).double().numpy())
    arr = np.stack(grads)  # (n_batches, n_params)
    total = float(arr.var(axis=0, ddof=1).sum())
    mean = arr.mean(axis=0)
    signal = float(mean @ mean - total / r)
    return {"total_variance": total, "signal": signal,
            "relative_variance": total / signal if signal > 0 else float("inf"),
            "mean_grad": mean}


class MMI(SSLMethod):
    """MMI: minus the second-order (log-det) MI of the two views' embeddings.

    ``logdet`` is ``"taylor"`` (order ``order``, rescaling ``beta``: a number or a rule of
    :func:`~mitheory.objectives.taylor_rescaling`) or ``"exact"``. ``reconstructed``: the
    paper's order, beta and normalisation are not verified (dossier mmi_minc.md 1.4).
    """

    name = "mmi"

    def __init__(self, encoder: nn.Module, *, logdet: str = "taylor", order: int = 4,
                 beta: float | str = "trace", eps: float = 0.0) -> None:
        super().__init__(encoder)
        self.logdet = check_option(logdet, "logdet", ("taylor", "exact"))
        self.order, self.beta, self.eps = order, beta, eps

    def loss(self, x_a, x_b, x_neg=None):
        return obj.mmi_loss(self.encoder(x_a), self.encoder(x_b), method=self.logdet,
                            order=self.order, beta=self.beta, eps=self.eps)


class SpectralContrastive(SSLMethod):
    """Spectral contrastive loss (official form, norm clipping at sqrt(mu))."""

    name = "spectral"

    def __init__(self, encoder: nn.Module, *, mu: float = 1.0) -> None:
        super().__init__(encoder)
        self.mu = mu

    def loss(self, x_a, x_b, x_neg=None):
        return obj.spectral_contrastive_loss(self.encoder(x_a), self.encoder(x_b), mu=self.mu)


class FMIAlpha(SSLMethod):
    """Contrastive alpha-divergence f-MI bound (alpha = 2 with ``ratio="linear"``: spectral)."""

    name = "fmi_alpha"

    def __init__(self, encoder: nn.Module, *, alpha: float = 2.0, ratio: str = "exp") -> None:
        super().__init__(encoder)
        self.alpha, self.ratio = float(alpha), check_option(ratio, "ratio", ("linear", "exp"))

    def loss(self, x_a, x_b, x_neg=None):
        return obj.f_mi_alpha_loss(self.encoder(x_a), self.encoder(x_b), alpha=self.alpha,
                                   ratio=self.ratio)


class MINC(SSLMethod):
    """MINC (reconstruction): online encoder against an EMA target and an EMA second moment.

    Each step the target embeddings of both views update ``self.moment``
    (:class:`~mitheory.objectives.SecondMomentEMA`, decay ``moment_decay``: the auxiliary EMA
    coefficient; 0 = this batch only), then the loss is the view-symmetrised
    :func:`~mitheory.objectives.minc_loss` with ``decorrelation="gha"`` (lower-triangular
    moment, Sanger's GHA) or ``"full"``. The target network follows the online encoder with
    BYOL's cosine schedule from ``base_momentum`` (0: the target is the online encoder,
    detached). ``reconstructed`` (dossier mmi_minc.md sections 2.4 and 5).
    """

    name = "minc"

    def __init__(self, encoder: nn.Module, dim_out: int, *, decorrelation: str = "gha",
                 moment_decay: float = 0.8, base_momentum: float = 0.99) -> None:
        super().__init__(encoder)
        self.decorrelation = check_option(decorrelation, "decorrelation", ("full", "gha"))
        self.base_momentum = check_probability(base_momentum, "base_momentum")
        self.moment = obj.SecondMomentEMA(dim_out, decay=moment_decay)
        self.target = copy.deepcopy(encoder)
        for p in self.target.parameters():
            p.requires_grad_(False)

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encoder(x_a), self.encoder(x_b)
        with torch.no_grad():
            t_a, t_b = self.target(x_a), self.target(x_b)
            self.moment.update(torch.cat([t_a, t_b]))  # (2n, dim_z): both views' marginal
        c = self.moment.moment
        return 0.5 * (obj.minc_loss(z_a, t_b, c, decorrelation=self.decorrelation)
                      + obj.minc_loss(z_b, t_a, c, decorrelation=self.decorrelation))

    def after_step(self, step: int, total_steps: int) -> None:
        m = obj.cosine_momentum(self.base_momentum, step, total_steps)
        obj.ema_update_(self.target, self.encoder, m)


register_method("mmi", lambda enc, d, **kw: MMI(enc, **kw))
register_method("spectral", lambda enc, d, **kw: SpectralContrastive(enc, **kw))
register_method("fmi_alpha", lambda enc, d, **kw: FMIAlpha(enc, **kw))
register_method("minc", lambda enc, d, **kw: MINC(enc, d, **kw))
