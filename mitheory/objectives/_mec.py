"""MEC, Maximum Entropy Coding (Liu, Wang, Liu, Liu, Yan, NeurIPS 2022): Taylor-series
coding length of the sample-space Gram matrix, as in ``xinliu20/MEC`` ``main_pretrain.py``
(commit 35045dc). The series is the MMI log-det Taylor code (``_mmi._trace_log1p_series``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from mitheory._validate import check_embeddings, check_int, check_option, check_positive
from mitheory.objectives._distributed import gather_with_grad
from mitheory.objectives._mmi import _trace_log1p_series


def mec_lamda_inv(batch_size: int, dim: int, *, eps_sq: float = 64.0) -> float:
    r""":math:`\lambda^{-1} = m\epsilon^2/d` (official ``1 / (m * eps / d)``, ``eps`` = 64 is
    already the square of the distortion bound)."""
    m = check_int(batch_size, "batch_size", minimum=1)
    d = check_int(dim, "dim", minimum=1)
    return m * check_positive(eps_sq, "eps_sq") / d


def mec_lamda_inv_schedule(
    n_steps: int, *, base: float, warmup_steps: int, start_factor: float = 8.0
) -> np.ndarray:
    r"""Official warm-up of :math:`\lambda^{-1}`: linear from ``start_factor * base`` to ``base``
    over ``warmup_steps`` (10 epochs in the official run), then constant. A larger
    :math:`\lambda^{-1}` shrinks :math:`C` and keeps the Taylor series convergent early on."""
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)
    if warmup_steps > n_steps:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be <= n_steps ({n_steps})")
    base = check_positive(base, "base")
    start = check_positive(start_factor, "start_factor") * base
    return np.concatenate([np.linspace(start, base, warmup_steps),
                           np.full(n_steps - warmup_steps, base)])


def _coding_trace(
    p: torch.Tensor, z: torch.Tensor, lamda_inv: float, order: int, method: str
) -> torch.Tensor:
    c = F.normalize(p, dim=1) @ F.normalize(z, dim=1).T / lamda_inv  # (m, m)
    if method == "taylor":
        return _trace_log1p_series(c, order)
    sign, logabs = torch.linalg.slogdet(torch.eye(c.shape[0], dtype=c.dtype, device=c.device) + c)
    if float(sign) <= 0:
        raise ValueError("det(I + lambda P Z^T) <= 0: the exact MEC log det is undefined here")
    return logabs


def mec_loss(
    p_a: torch.Tensor,
    p_b: torch.Tensor,
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    lamda_inv: float | None = None,
    eps_sq: float = 64.0,
    order: int = 4,
    method: Literal["taylor", "exact"] = "taylor",
    gather: bool = False,
) -> torch.Tensor:
    r"""MEC loss: minus the scaled, symmetrised Taylor coding length of the two views.

    Parameters
    ----------
    p_a, p_b : torch.Tensor, shape (n_samples, dim)
        Online (predictor) outputs of views a and b.
    z_a, z_b : torch.Tensor, shape (n_samples, dim)
        Teacher (EMA) outputs of views a and b; **detached inside** (the official teacher has
        no gradient).
    lamda_inv : float or None
        :math:`\lambda^{-1}`; ``None`` uses :func:`mec_lamda_inv` with the (global) batch size
        and ``eps_sq`` (for the warm-up pass the scheduled value).
    eps_sq : float, default 64.0
    order : int, default 4
        Taylor order (official 4).
    method : {"taylor", "exact"}, default "taylor"
        ``"exact"`` replaces the series by :math:`\log\det(I + C)` (comparison only).
    gather : bool, default False
        All-gather the four tensors under ``torch.distributed`` (the official code always does).

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\lambda^{-1}\cdot\frac{1}{2m}\big[\operatorname{tr}\log(I+C_{ab})
        + \operatorname{tr}\log(I+C_{ba})\big]`, :math:`C_{ab} = \lambda\,\bar P_a\bar Z_b^\top`
        (rows L2-normalised, :math:`m` the batch size), with each trace-log replaced by its
        order-``order`` Taylor series: minus an approximation of the MEC coding length
        :math:`\log\det(I_m + \lambda\bar P\bar Z^\top)`, scaled by :math:`\lambda^{-1}/m`.

    Notes
    -----
    The paper writes :math:`L = -\mu\log\det(I_m + \lambda Z_1^\top Z_2)` with
    :math:`\mu = (m+d)/2`; the official code instead scales by :math:`\lambda^{-1}/m` (and
    logs ``mec_loss * mu`` as the coding length). The code is followed. The series
    converges when the spectral radius of :math:`C` is below 1, which the
    :func:`mec_lamda_inv_schedule` warm-up is for.
    """
    for name, t in (("p_a", p_a), ("p_b", p_b), ("z_a", z_a), ("z_b", z_b)):
        check_embeddings(t, name)
        if t.shape != p_a.shape:
            raise ValueError(
                f"{name} must have the shape of p_a {tuple(p_a.shape)}, got {tuple(t.shape)}"
            )
    order = check_int(order, "order", minimum=1)
    check_option(method, "method", ("taylor", "exact"))
    z_a, z_b = z_a.detach(), z_b.detach()
    if gather:
        p_a, p_b, z_a, z_b = (gather_with_grad(t) for t in (p_a, p_b, z_a, z_b))
    m, d = p_a.shape
    if lamda_inv is None:
        lamda_inv = mec_lamda_inv(m, d, eps_sq=eps_sq)
    lamda_inv = check_positive(lamda_inv, "lamda_inv")
    mec = (_coding_trace(p_a, z_b, lamda_inv, order, method)
           + _coding_trace(p_b, z_a, lamda_inv, order, method)) * 0.5 / m
    return -mec * lamda_inv
