"""Gradient-preserving all-gather for batch-level loss terms under ``torch.distributed``.

Same semantics as ``FullGatherLayer`` in facebookresearch/vicreg ``main_vicreg.py``: forward
all-gathers, backward all-reduces (SUM) the incoming gradient and returns this rank's slice.
"""
from __future__ import annotations

import torch
import torch.distributed as dist


def _is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Number of processes in the default group, 1 when ``torch.distributed`` is not in use."""
    return dist.get_world_size() if _is_distributed() else 1


def rank() -> int:
    """Rank of this process in the default group, 0 when ``torch.distributed`` is not in use."""
    return dist.get_rank() if _is_distributed() else 0


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:  # noqa: D102
        t = t.contiguous()
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t)
        ctx.n_local = t.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        # Every rank computed its loss from the same gathered tensor, so the gradient w.r.t.
        # this rank's rows is the SUM over ranks of d(loss_r)/d(rows). Without this all-reduce
        # the gradient is off by exactly 1/world_size (lightly #1920, #1977).
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = dist.get_rank() * ctx.n_local
        return grad[start:start + ctx.n_local]


def gather_with_grad(t: torch.Tensor) -> torch.Tensor:
    """All-gather ``t`` along dim 0 across ranks, keeping gradients for the local rows.

    Parameters
    ----------
    t : torch.Tensor, shape (n_local, ...)
        This rank's rows. Every rank must pass the same shape (``all_gather`` requirement).

    Returns
    -------
    torch.Tensor, shape (world_size * n_local, ...)
        The rows of all ranks in rank order. When ``torch.distributed`` is not initialised, or
        the world size is 1, ``t`` itself is returned (identity, no copy).

    Notes
    -----
    Backward all-reduces (SUM) the incoming gradient and returns this rank's slice. With each
    rank's loss built from the gathered batch, and DDP *averaging* parameter gradients over
    ranks, the resulting parameter gradient equals the gradient of the single-process loss on
    the concatenated batch when the loss is (a) a batch-level term computed identically on
    every rank, or (b) a per-sample mean over the local anchors. This is what
    facebookresearch/vicreg's ``FullGatherLayer`` does; ``torch.distributed.all_reduce`` on
    a loss statistic (as in the official Barlow Twins code) has no backward and scales the
    gradient by ``1/world_size`` instead. Tested in ``tests/objectives/test_distributed.py``.
    """
    if world_size() == 1:
        return t
    return _GatherWithGrad.apply(t)
