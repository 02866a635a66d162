"""MINC (Guo, Avila Pires, Khetarpal, Schuurmans, Dai 2025): the non-contrastive rewrite of the
spectral contrastive loss with EMA second-moment statistics, its Generalized Hebbian Algorithm
(Sanger 1989) form, and the alpha-divergence f-MI family (alpha = 2: chi-square = spectral).

``reconstructed`` throughout: MINC's final equations were not readable (dossier mmi_minc.md
sections 2.3-2.4); what is here follows the verified f-MI / spectral starting point and algebra.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.distributed as dist
from torch import nn

from mitheory._rng import torch_generator
from mitheory._types import Seed
from mitheory._validate import (
    check_embeddings,
    check_finite_number,
    check_finite_tensor,
    check_int,
    check_option,
    check_pair,
    check_positive,
    check_probability,
)
from mitheory.objectives._distributed import gather_with_grad, world_size

Ratio = Literal["linear", "exp"]
Decorrelation = Literal["full", "gha"]


def _box_cox(r: torch.Tensor, p: float) -> torch.Tensor:
    """(r**p - 1) / p, and log r at p = 0."""
    return torch.log(r) if p == 0 else (r**p - 1.0) / p


def f_alpha(u: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""Amari alpha-divergence generator :math:`f_\alpha(u)` (convex, :math:`f_\alpha(1) = 0`).

    .. math::

        f_\alpha(u) = \frac{u^\alpha - 1 - \alpha(u-1)}{\alpha(\alpha-1)},\qquad
        f_1(u) = u\log u - u + 1,\quad f_0(u) = -\log u + u - 1,

    so :math:`f_2(u) = (u-1)^2/2` (Pearson chi-square up to 1/2) and :math:`f_1` gives KL.

    Raises
    ------
    ValueError
        If ``u`` holds NaN/inf or ``alpha`` is not finite.
    """
    check_finite_tensor(u, "u")
    check_finite_number(alpha, "alpha")
    if alpha == 1:
        return u * torch.log(u) - u + 1.0
    if alpha == 0:
        return -torch.log(u) + u - 1.0
    return (u**alpha - 1.0 - alpha * (u - 1.0)) / (alpha * (alpha - 1.0))


def f_mi_alpha_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    alpha: float = 2.0,
    ratio: Ratio = "linear",
    gather: bool = False,
) -> torch.Tensor:
    r"""Negative variational lower bound on the alpha-divergence MI (contrastive, all pairs).

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Embeddings of the two views; the density-ratio model is
        :math:`r_{ij} = z^a_i{}^\top z^b_j` (``ratio="linear"``, as in the spectral loss) or
        :math:`\exp(z^a_i{}^\top z^b_j)` (``"exp"``, positive for every alpha).
    alpha : float, default 2.0
        The alpha of :func:`f_alpha`; 2 is the chi-square case.
    ratio : {"linear", "exp"}, default "linear"
    gather : bool, default False
        Under ``torch.distributed``, use every pair of the all-gathered batch.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\hat J_\alpha`, where :math:`J_\alpha \le I_{f_\alpha}(Z_a;Z_b)` is the
        Fenchel (NWJ-type) *lower bound* on the f-MI, tight at the true density ratio; the
        batch value is an unbiased *estimate* of :math:`J_\alpha` (positives: pairs (i, i);
        product of marginals: pairs :math:`i \ne j`).

    Raises
    ------
    ValueError
        ``ratio="linear"`` with ``alpha != 2`` and a non-positive inner product (the ratio
        must be positive there; ``alpha = 2`` extends to all reals and stays a valid bound).

    Notes
    -----
    With the critic :math:`T = f'_\alpha(r)` and :math:`f^*(f'(r)) = r f'(r) - f(r)`,

    .. math::

        J_\alpha = E_{p(z_a,z_b)}\Big[\frac{r^{\alpha-1}-1}{\alpha-1}\Big]
                 - E_{p(z_a)p(z_b)}\Big[\frac{r^{\alpha}-1}{\alpha}\Big]

    (:math:`\log r` for exponent 0). At ``alpha=2`` this is
    :math:`E_P[r] - \tfrac12 E_Q[r^2] - \tfrac12`, so
    ``f_mi_alpha_loss(alpha=2) = spectral_contrastive_loss / 2 + 1/2`` without clipping
    (tested). ``reconstructed``: MINC's own alpha parametrisation was not readable; the
    f-MI definition and the chi-square/spectral link are from the paper's opening (dossier
    mmi_minc.md section 2.3).
    """
    check_pair(z_a, z_b)
    check_option(ratio, "ratio", ("linear", "exp"))
    alpha = check_finite_number(alpha, "alpha")
    if gather:
        z_a, z_b = gather_with_grad(z_a), gather_with_grad(z_b)
    s = z_a @ z_b.T  # (n, n) inner products
    if ratio == "exp":
        r = torch.exp(s)
    else:
        r = s
        if alpha != 2.0 and bool((s.detach() <= 0).any()):
            raise ValueError(
                f"ratio='linear' needs positive inner products for alpha={alpha} "
                f"(min is {float(s.detach().min()):.3g}); use ratio='exp' or alpha=2"
            )
    n = s.shape[0]
    off = ~torch.eye(n, dtype=torch.bool, device=s.device)
    joint = _box_cox(torch.diagonal(r), alpha - 1.0).mean()
    marginal = _box_cox(r[off], alpha).mean()
    return -(joint - marginal)


class SecondMomentEMA(nn.Module):
    r"""EMA of the uncentred second moment :math:`C = E[\phi\phi^\top]` of target embeddings.

    Parameters
    ----------
    dim : int
        Embedding dimension.
    decay : float, default 0.8
        :math:`C \leftarrow \text{decay}\cdot C + (1-\text{decay})\cdot\hat C_{\rm batch}`;
        0.8 is the "sweet spot" named in the brief (unverified, dossier section 2.4); 0 uses
        the current batch only.

    Attributes
    ----------
    moment : torch.Tensor, shape (dim, dim)
        Current estimate (buffer; the first :meth:`update` copies the batch moment, so there
        is no zero-initialisation bias).
    n_updates : torch.Tensor
        Number of updates so far.
    """

    def __init__(self, dim: int, *, decay: float = 0.8) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.decay = check_probability(decay, "decay")
        self.register_buffer("moment", torch.zeros(self.dim, self.dim))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, z: torch.Tensor) -> "SecondMomentEMA":
        """Fold in the batch moment :math:`z^\\top z / n` (summed over ranks under DDP)."""
        check_embeddings(z, "z", min_samples=1)
        if z.shape[1] != self.dim:
            raise ValueError(f"z must have {self.dim} columns, got shape {tuple(z.shape)}")
        z = z.detach().to(self.moment.dtype)
        total = z.T @ z
        count = torch.tensor(float(z.shape[0]), dtype=total.dtype, device=total.device)
        if world_size() > 1:
            dist.all_reduce(total)
            dist.all_reduce(count)
        batch = total / count
        if int(self.n_updates) == 0:
            self.moment.copy_(batch)
        else:
            self.moment.mul_(self.decay).add_((1.0 - self.decay) * batch)
        self.n_updates += 1
        return self


def minc_loss(
    z_online: torch.Tensor,
    z_target: torch.Tensor,
    moment: torch.Tensor,
    *,
    decorrelation: Decorrelation = "full",
) -> torch.Tensor:
    r"""Non-contrastive (MINC-style) rewrite of the spectral loss for the online branch.

    Parameters
    ----------
    z_online : torch.Tensor, shape (n_samples, dim_z)
        Online-branch embeddings :math:`\phi(x_i)` (gradients flow here).
    z_target : torch.Tensor, shape (n_samples, dim_z)
        Target embeddings of the other view, :math:`\bar\phi(x'_i)` (stop-gradient applied).
    moment : torch.Tensor, shape (dim_z, dim_z)
        Summary of "all other data points": :math:`\bar C`, e.g. ``SecondMomentEMA.moment``
        of the target branch (stop-gradient applied).
    decorrelation : {"full", "gha"}, default "full"
        ``"gha"`` replaces :math:`\bar C` by its lower-triangular part in the gradient
        (Generalized Hebbian Algorithm), which orders the learned eigenfunctions.

    Returns
    -------
    torch.Tensor, shape ()
        ``"full"``: :math:`-\frac2N\sum_i\phi_i^\top\bar\phi'_i + \frac1N\sum_i\phi_i^\top
        \bar C\phi_i`; ``"gha"``: the same with :math:`\mathrm{LT}(\bar C)` in the quadratic
        term, whose autograd gradient is the GHA field
        :math:`\frac2N(-\bar\phi'_i + \mathrm{LT}(\bar C)\phi_i)` (a surrogate: the value's own
        gradient would use :math:`\mathrm{LT}+\mathrm{LT}^\top`). A per-sample mean: no
        gather needed under DDP (the moment update all-reduces).

    Raises
    ------
    ValueError
        If ``z_online``/``z_target`` are not finite same-shape batches, or ``moment`` is not a
        finite ``(dim_z, dim_z)`` tensor.

    Notes
    -----
    From :math:`E_{x,x'}[(\phi^\top\phi')^2] = E_x[\phi^\top C'\phi]`, the spectral loss's
    negative term becomes a quadratic form in a second moment. With :math:`\bar C` the
    batch moment of ``z_target`` and ``z_target`` the other view, the online gradient equals
    the spectral loss's gradient up to the :math:`j = i` term of the pair sum (tested
    exactly). Its fixed point :math:`\phi = \bar C^{-1}E[\bar\phi' | x]` is a power-iteration
    step. ``reconstructed``: which moment MINC uses (centred or not, EMA or target network,
    full or triangular) is not verified (dossier mmi_minc.md sections 2.4 and 5).
    """
    check_pair(z_online, z_target, names=("z_online", "z_target"))
    check_option(decorrelation, "decorrelation", ("full", "gha"))
    d = z_online.shape[1]
    if not isinstance(moment, torch.Tensor):
        raise TypeError(f"moment must be a torch.Tensor, got {type(moment).__name__}")
    if tuple(moment.shape) != (d, d):
        raise ValueError(f"moment must have shape ({d}, {d}), got {tuple(moment.shape)}")
    check_finite_tensor(moment, "moment")
    t = z_target.detach()
    c = moment.detach().to(z_online.dtype)
    align = -2.0 * (z_online * t).sum(dim=1).mean()
    if decorrelation == "full":
        return align + ((z_online @ c) * z_online).sum(dim=1).mean()
    lower = torch.tril(c)
    value = ((z_online @ lower.T) * z_online).sum(dim=1).mean()  # mean_i z_i^T LT(C) z_i
    field = 2.0 * (z_online * (z_online.detach() @ lower.T)).sum(dim=1).mean()
    return align + value.detach() + (field - field.detach())


def gha_step(weights: torch.Tensor, x: torch.Tensor, *, lr: float) -> torch.Tensor:
    r"""One batch step of Sanger's Generalized Hebbian Algorithm.

    Parameters
    ----------
    weights : torch.Tensor, shape (n_components, dim_x)
        Current rows :math:`W`.
    x : torch.Tensor, shape (n_samples, dim_x)
        Centred data batch.
    lr : float
        Step size :math:`\eta`.

    Returns
    -------
    torch.Tensor, shape (n_components, dim_x)
        :math:`W + \eta\,(\widehat{E}[y x^\top] - \mathrm{LT}(\widehat{E}[y y^\top]) W)`
        with :math:`y = Wx`; the rows converge to the leading eigenvectors of
        :math:`E[xx^\top]`, in order (Sanger 1989, Eq. 3).
    """
    check_embeddings(weights, "weights", min_samples=1)
    check_embeddings(x, "x", min_samples=1, dim=weights.shape[1])
    lr = check_positive(lr, "lr")
    n = x.shape[0]
    y = x @ weights.T  # (n, n_components)
    hebb = y.T @ x / n
    decor = torch.tril(y.T @ y / n) @ weights
    return weights + lr * (hebb - decor)


class GHA:
    r"""Generalized Hebbian Algorithm state: the leading ``n_components`` eigenvectors, online.

    Parameters
    ----------
    dim_x : int
    n_components : int
    lr : float, default 0.01
    seed : int, Generator or None
        Seeds the random initial weights (scale 0.1).

    Attributes
    ----------
    weights : torch.Tensor, shape (n_components, dim_x)
    n_updates : int

    Examples
    --------
    >>> import torch
    >>> gha = GHA(3, 1, lr=0.05, seed=0)
    >>> x = (torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
    ...      * torch.tensor([3., 1., .5]))
    >>> for _ in range(200):
    ...     _ = gha.update(x)
    >>> bool(abs(gha.weights[0, 0]) > 0.99)
    True
    """

    def __init__(self, dim_x: int, n_components: int, *, lr: float = 0.01, seed: Seed = None):
        dim_x = check_int(dim_x, "dim_x", minimum=1)
        k = check_int(n_components, "n_components", minimum=1)
        if k > dim_x:
            raise ValueError(f"n_components must be <= dim_x = {dim_x}, got {k}")
        self.lr = check_positive(lr, "lr")
        g = torch_generator(seed)
        self.weights = 0.1 * torch.randn(k, dim_x, generator=g)
        self.n_updates = 0

    def update(self, x: torch.Tensor) -> "GHA":
        """One :func:`gha_step` on the batch ``x`` (no gradient)."""
        with torch.no_grad():
            self.weights = gha_step(self.weights.to(x.dtype), x, lr=self.lr)
        self.n_updates += 1
        return self
