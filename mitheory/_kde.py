"""Gaussian log-densities and the Gaussian-kernel KDE in torch, shared by ``info`` and
``objectives``.

Bottom layer: imports only ``mitheory._validate``, so ``mitheory.info`` and
``mitheory.objectives`` can both use it without importing each other.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mitheory._validate import check_finite_tensor, check_option, check_positive

LOG_2PI = math.log(2 * math.pi)

# exp(-80) = 1.8e-35: a term this far below the row's maximum adds less than float32's half-ulp
# of 1 to the sum even 10^20 times over, and exp of such an argument is a normal float
_LSE_FLOOR, _LSE_FLOOR_FLOAT64 = -80.0, -700.0  # exp(-700) = 1e-304: float64's floor


class _FlooredLogSumExp(torch.autograd.Function):
    """The floored log-sum-exp with its backward written out: the gradient is the softmax
    ``exp(x - m) / sum`` from the saved exponentials, in one pass over ``x``'s shape, instead of
    autograd's chain through log, sum, exp and the clamp (each a pass)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int) -> torch.Tensor:
        m_raw = x.amax(dim, keepdim=True)
        all_neginf = torch.isneginf(m_raw)  # a row is all -inf exactly when its maximum is
        m = torch.where(torch.isfinite(m_raw), m_raw, torch.zeros_like(m_raw))
        floor = _LSE_FLOOR_FLOAT64 if x.dtype == torch.float64 else _LSE_FLOOR
        e = torch.exp((x - m).clamp_min_(floor))
        s = e.sum(dim, keepdim=True)
        ctx.save_for_backward(e, s, all_neginf)
        ctx.dim = dim
        out = torch.where(all_neginf, torch.full_like(m, -math.inf), m + torch.log(s))
        return out.squeeze(dim)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        e, s, all_neginf = ctx.saved_tensors
        weight = (grad_out.unsqueeze(ctx.dim) / s).masked_fill_(all_neginf, 0.0)  # per row
        return e * weight, None


def logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``torch.logsumexp(x, dim)`` with the terms that cannot change the sum floored.

    ``log sum_j exp(x_j) = m + log sum_j exp(max(x_j - m, floor))`` with ``m`` the maximum and
    ``floor`` where ``exp`` is still a normal float and ``n exp(floor)`` is below half an ulp of
    the largest term (1): the value agrees with ``torch.logsumexp`` to rounding, and ``-inf``
    entries contribute as ``exp(floor)`` (nothing, at that precision). A floored term's gradient
    is its softmax weight, below ``exp(floor)`` (autograd of the clamp would give an exact 0;
    the difference is below float32's resolution of any sum it enters). Why: torch's CPU ``exp``
    leaves its vectorised path for arguments below about -87 (measured 8-16x slower per
    element); InfoNCE with a small temperature (tau = 2 sigma^2 = 0.005 on the box) puts most
    logits there. Rows whose entries are all ``-inf`` give ``-inf`` and zero gradient. The
    backward is the softmax from the saved exponentials (``benchmarks/bench_train``: 2x faster
    than autograd's chain on InfoNCE's logits); it has no second derivative.
    """
    return _FlooredLogSumExp.apply(x, dim)


def gaussian_log_density(y: torch.Tensor, mu: torch.Tensor,
                         log_sd: torch.Tensor) -> torch.Tensor:
    r"""``log N(y; mu, diag exp(2 log_sd))`` summed over the last axis (nats, Lebesgue measure).

    ``log_sd`` broadcasts against ``y - mu`` (a 0-dim tensor gives the isotropic case).

    .. math:: \log q(y) = -\sum_d \Big[\frac{(y_d-\mu_d)^2}{2\sigma_d^2} + \log\sigma_d
              + \tfrac12\log 2\pi\Big].
    """
    z = (y - mu) * torch.exp(-log_sd)
    return (-0.5 * z**2 - log_sd - 0.5 * LOG_2PI).sum(-1)


def pairwise_sq_dists(z: torch.Tensor) -> torch.Tensor:
    """``||z_i - z_j||^2``, shape ``(n, n)``: one matrix product on centred rows, no square root
    (finite gradients at coincident points), clamped at 0, with an exact-zero diagonal."""
    zc = z - z.mean(dim=0, keepdim=True)
    sq = (zc * zc).sum(dim=1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * zc @ zc.T).clamp_min(0.0)
    return d2.masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device), 0.0)


def gaussian_kde_log_density(z: torch.Tensor, log_sd: float | torch.Tensor, *,
                             leave_one_out: bool = False) -> torch.Tensor:
    r"""``log p_hat(z_i)`` of the isotropic Gaussian KDE centred on the rows of ``z``,
    shape ``(n,)``.

    .. math:: \hat p(z_i) = \frac{1}{m}\sum_{j} (2\pi\sigma^2)^{-d/2}
              e^{-\|z_i - z_j\|^2 / (2\sigma^2)},

    with :math:`j` over all rows (:math:`m = n`) or over :math:`j \ne i` (:math:`m = n - 1`,
    ``leave_one_out``); :math:`\log\sigma` = ``log_sd`` (a float, or a 0-dim tensor that may
    carry a gradient). True nats: every normalising constant is included.
    """
    n, d = z.shape
    log_sd = torch.as_tensor(log_sd, dtype=z.dtype, device=z.device)
    logits = -0.5 * pairwise_sq_dists(z) * torch.exp(-2.0 * log_sd)
    if leave_one_out:
        logits = logits.masked_fill(torch.eye(n, dtype=torch.bool, device=z.device),
                                    float("-inf"))
    n_kernels = n - 1 if leave_one_out else n
    log_norm = -0.5 * d * LOG_2PI - d * log_sd
    return logsumexp(logits, dim=1) - math.log(n_kernels) + log_norm


def kde_entropy(log_p: torch.Tensor, reduction: str) -> torch.Tensor:
    r"""Entropy estimate from the KDE log-densities at the sample points (nats).

    ``"joe"``: :math:`-\frac1n\sum_i\log\hat p(z_i)` (Joe 1989 resubstitution); ``"plugin"``:
    :math:`\sum_i w_i(-\log\hat p(z_i))`, :math:`w = \operatorname{softmax}(\log\hat p)`
    (the released ER code's ``reduction="expectation"``). Nothing is detached.
    """
    check_option(reduction, "reduction", ("plugin", "joe"))
    if reduction == "joe":
        return -log_p.mean()
    return (F.softmax(log_p, dim=0) * -log_p).sum()


def resolve_log_sd(sigma: float | None, log_sigma: torch.Tensor | None, *,
                   default: float) -> float | torch.Tensor:
    """``log sigma`` from a fixed ``sigma`` (``None``: ``default``) or a caller's ``log_sigma``.

    Raises ``ValueError`` naming ``sigma`` (not > 0, or both given) or ``log_sigma`` (not a
    single finite value), ``TypeError`` when ``log_sigma`` is not a tensor.
    """
    if log_sigma is None:
        return math.log(default if sigma is None else check_positive(sigma, "sigma"))
    if sigma is not None:
        raise ValueError("pass sigma (fixed) or log_sigma (learned), not both; "
                         f"got sigma={sigma!r}")
    if not isinstance(log_sigma, torch.Tensor):
        raise TypeError(f"log_sigma must be a torch.Tensor, got {type(log_sigma).__name__}")
    if log_sigma.numel() != 1:
        raise ValueError(f"log_sigma must hold one value, got shape {tuple(log_sigma.shape)}")
    check_finite_tensor(log_sigma, "log_sigma")
    return log_sigma.reshape(())
