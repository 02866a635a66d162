"""SwAV (Caron et al. 2020): Sinkhorn-Knopp equipartition, swapped-prediction loss and the
feature queue, as in ``facebookresearch/swav`` ``main_swav.py`` (commit 5e073db).
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mitheory._validate import check_embeddings, check_int, check_pair, check_positive
from mitheory.objectives._distributed import world_size


@torch.no_grad()
def sinkhorn_knopp(
    scores: torch.Tensor, *, epsilon: float = 0.05, n_iters: int = 3, gather: bool = False
) -> torch.Tensor:
    r"""Equipartitioned soft cluster assignments by Sinkhorn-Knopp (no gradient).

    Parameters
    ----------
    scores : torch.Tensor, shape (n_samples, n_prototypes)
        Prototype scores :math:`z_i^\top c_k` (unit-norm embeddings and prototypes in SwAV).
    epsilon : float, default 0.05
        Entropic regularisation (official default 0.05).
    n_iters : int, default 3
        Row/column normalisation rounds (official default 3).
    gather : bool, default False
        Under ``torch.distributed``, normalise over the global batch (the official
        ``distributed_sinkhorn`` all-reduces the total and the row sums); rows of this rank
        are returned.

    Returns
    -------
    torch.Tensor, shape (n_samples, n_prototypes)
        Assignments :math:`Q^\top`: rows sum to 1 exactly (last step is a column
        normalisation); prototype totals approach :math:`B/K` as ``n_iters`` grows.

    Notes
    -----
    :math:`Q = \exp(S^\top/\epsilon)`, normalised to total 1, then ``n_iters`` times: rows
    (prototypes) to :math:`1/K`, columns (samples) to :math:`1/B`; finally :math:`\times B`.
    Difference from the official code: the global maximum of :math:`S/\epsilon` is
    subtracted before ``exp`` (cancels in the first normalisation; avoids the overflow to
    ``inf``/NaN of the official code for scores above about ``88 * epsilon`` in float32).
    Computed in at least float32; a prototype whose weights all underflow raises
    ``ValueError`` instead of producing NaN codes.
    """
    check_embeddings(scores, "scores", min_samples=1)
    epsilon = check_positive(epsilon, "epsilon")
    n_iters = check_int(n_iters, "n_iters", minimum=0)
    dtype = torch.promote_types(scores.dtype, torch.float32)
    logits = scores.detach().to(dtype) / epsilon
    distributed = gather and world_size() > 1
    top = logits.max()
    if distributed:
        dist.all_reduce(top, op=dist.ReduceOp.MAX)
    q = torch.exp(logits - top).T  # (K, B_local)
    n_protos, n_total = q.shape[0], q.shape[1] * (world_size() if distributed else 1)
    total = q.sum()
    if distributed:
        dist.all_reduce(total)
    q = q / total
    for _ in range(n_iters):
        rows = q.sum(dim=1, keepdim=True)
        if distributed:
            dist.all_reduce(rows)
        if bool((rows == 0).any()):
            raise ValueError(
                f"scores / epsilon spans {float(top - logits.min()):.1f} nats: some prototype's "
                f"weights all underflow in {dtype} (use normalised scores or a larger epsilon)"
            )
        q = q / rows / n_protos
        q = q / q.sum(dim=0, keepdim=True) / n_total
    return (q * n_total).T.to(scores.dtype)


def swav_loss(
    scores_a: torch.Tensor,
    scores_b: torch.Tensor,
    *,
    temperature: float = 0.1,
    epsilon: float = 0.05,
    sinkhorn_iterations: int = 3,
    queue_scores_a: torch.Tensor | None = None,
    queue_scores_b: torch.Tensor | None = None,
    gather: bool = False,
) -> torch.Tensor:
    r"""SwAV swapped-prediction loss for two views (the official 2-crop loss).

    Parameters
    ----------
    scores_a, scores_b : torch.Tensor, shape (n_samples, n_prototypes)
        Prototype scores of the two views (gradients flow through the predictions only; the
        Sinkhorn codes are computed without gradient, as in the official code).
    temperature : float, default 0.1
        Softmax temperature of the predictions (official default).
    epsilon, sinkhorn_iterations : float, int
        See :func:`sinkhorn_knopp` (official defaults 0.05 and 3).
    queue_scores_a, queue_scores_b : torch.Tensor or None
        Scores of queued embeddings (:meth:`SwAVQueue.scores`) prepended before Sinkhorn;
        only this batch's codes are used in the loss.
    gather : bool, default False
        Global Sinkhorn normalisation under ``torch.distributed`` (the loss itself is a
        per-sample mean, so DDP's gradient averaging is exact).

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\tfrac12\big[\ell(q_a, p_b) + \ell(q_b, p_a)\big]` with
        :math:`\ell(q, p) = -\frac1n\sum_i\sum_k q_{ik}\log p_{ik}`,
        :math:`p = \mathrm{softmax}(s/\tau)`.

    Raises
    ------
    ValueError
        If ``scores_a``/``scores_b`` (or the queue scores) are not finite 2-D batches of one
        width, or a temperature, epsilon or iteration count is invalid.

    Notes
    -----
    In ER terms (Rodriguez-Galvez et al. 2023) this is the discrete reconstruction term
    (cross-entropy between the views' assignments), with the entropy of the marginal
    assignment held maximal by the equipartition constraint.
    """
    check_pair(scores_a, scores_b, min_samples=1, names=("scores_a", "scores_b"))
    temperature = check_positive(temperature, "temperature")
    check_int(sinkhorn_iterations, "sinkhorn_iterations", minimum=0)
    for name, queued in (("queue_scores_a", queue_scores_a), ("queue_scores_b", queue_scores_b)):
        if queued is not None:
            check_embeddings(queued, name, min_samples=1)
            if queued.shape[1] != scores_a.shape[1]:
                raise ValueError(f"{name}: queue scores must have {scores_a.shape[1]} columns, "
                                 f"got {tuple(queued.shape)}")
    n = scores_a.shape[0]

    def codes(scores: torch.Tensor, queued: torch.Tensor | None) -> torch.Tensor:
        if queued is not None:
            if queued.ndim != 2 or queued.shape[1] != scores.shape[1]:
                raise ValueError(
                    f"queue scores must have {scores.shape[1]} columns, got {tuple(queued.shape)}"
                )
            scores = torch.cat([queued.detach(), scores.detach()], dim=0)
        q = sinkhorn_knopp(scores, epsilon=epsilon, n_iters=sinkhorn_iterations, gather=gather)
        return q[-n:]

    q_a, q_b = codes(scores_a, queue_scores_a), codes(scores_b, queue_scores_b)
    loss_ab = -(q_a * F.log_softmax(scores_b / temperature, dim=1)).sum(dim=1).mean()
    loss_ba = -(q_b * F.log_softmax(scores_a / temperature, dim=1)).sum(dim=1).mean()
    return 0.5 * (loss_ab + loss_ba)


class SwAVQueue(nn.Module):
    r"""FIFO queue of past (unit-norm) embeddings of one view, as in the official code.

    Parameters
    ----------
    length : int
        Rows kept on this rank (official: ``queue_length // world_size``, a multiple of the
        per-rank batch size).
    dim : int
        Embedding dimension.

    Notes
    -----
    Per step, in the official order: ``queued = queue.scores(prototypes)`` (``None`` until the
    queue has been filled once), then ``queue.update(z)`` with this batch's embeddings, then
    :func:`swav_loss` with ``queue_scores_*=queued``.
    """

    def __init__(self, length: int, dim: int) -> None:
        super().__init__()
        self.length = check_int(length, "length", minimum=1)
        self.dim = check_int(dim, "dim", minimum=1)
        self.register_buffer("queue", torch.zeros(self.length, self.dim))
        self.register_buffer("n_seen", torch.zeros((), dtype=torch.long))

    @property
    def is_full(self) -> bool:
        """Whether every row holds an embedding (the official code starts using it then)."""
        return int(self.n_seen) >= self.length

    def scores(self, prototypes: torch.Tensor) -> torch.Tensor | None:
        """``queue @ prototypes.T`` of shape (length, n_prototypes) once full, else ``None``."""
        if prototypes.ndim != 2 or prototypes.shape[1] != self.dim:
            raise ValueError(
                f"prototypes must have shape (n_prototypes, {self.dim}), "
                f"got {tuple(prototypes.shape)}"
            )
        if not self.is_full:
            return None
        return self.queue @ prototypes.detach().T

    @torch.no_grad()
    def update(self, z: torch.Tensor) -> "SwAVQueue":
        """Push this batch's embeddings in front, dropping the oldest rows."""
        check_embeddings(z, "z", min_samples=1)
        if z.shape[1] != self.dim or z.shape[0] > self.length:
            raise ValueError(
                f"z must have shape (<= {self.length}, {self.dim}), got {tuple(z.shape)}"
            )
        b = z.shape[0]
        self.queue[b:] = self.queue[:-b].clone()
        self.queue[:b] = z.detach().to(self.queue.dtype)
        self.n_seen += b
        return self
