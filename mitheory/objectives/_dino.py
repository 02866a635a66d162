"""DINO (Caron et al. 2021): teacher centering + sharpening, cross-entropy over crops, center EMA
and teacher-temperature warm-up, as in ``facebookresearch/dino`` ``main_dino.py::DINOLoss``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from mitheory._validate import check_embeddings, check_int, check_positive, check_probability
from mitheory.objectives._distributed import world_size


def _as_views(views: torch.Tensor | Sequence[torch.Tensor], name: str) -> list[torch.Tensor]:
    if isinstance(views, torch.Tensor):
        raise TypeError(f"{name} must be a sequence of per-view tensors, got one tensor")
    out = list(views)
    if not out:
        raise ValueError(f"{name} must hold at least one view")
    for i, v in enumerate(out):
        check_embeddings(v, f"{name}[{i}]", min_samples=1)
        if v.shape != out[0].shape:
            raise ValueError(
                f"{name}[{i}] has shape {tuple(v.shape)}, expected {tuple(out[0].shape)}"
            )
    return out


def dino_loss(
    student_logits: Sequence[torch.Tensor],
    teacher_logits: Sequence[torch.Tensor],
    center: torch.Tensor,
    *,
    student_temp: float = 0.1,
    teacher_temp: float = 0.04,
) -> torch.Tensor:
    r"""DINO cross-entropy between centred, sharpened teacher and student distributions.

    Parameters
    ----------
    student_logits : sequence of torch.Tensor, each (n_samples, out_dim)
        Student head outputs, global views first (same order as ``teacher_logits``), then any
        local crops.
    teacher_logits : sequence of torch.Tensor, each (n_samples, out_dim)
        Teacher outputs of the global views (usually 2); detached inside.
    center : torch.Tensor, shape (1, out_dim) or (out_dim,)
        :attr:`DINOCenter.center` (detached inside).
    student_temp : float, default 0.1
    teacher_temp : float, default 0.04
        Official defaults (see :func:`teacher_temp_schedule` for the warm-up).

    Returns
    -------
    torch.Tensor, shape ()
        Mean over (teacher view ``iq``, student view ``v != iq``) of
        :math:`-\frac1n\sum_i\sum_k q_{ik}\log p_{ik}` with
        :math:`q = \mathrm{softmax}((t - c)/\tau_t)`, :math:`p = \mathrm{softmax}(s/\tau_s)`.

    Raises
    ------
    ValueError
        If a view is not a finite 2-D tensor, the views' shapes differ, ``center`` is not
        finite or has the wrong width, or a temperature is not positive.

    Notes
    -----
    The official ``DINOLoss.forward`` also updates the center as a side effect; here that is
    the explicit :meth:`DINOCenter.update`, to be called with the same teacher outputs after
    the loss (the loss uses the center from before the update, as in the official code).
    """
    students = _as_views(student_logits, "student_logits")
    teachers = _as_views(teacher_logits, "teacher_logits")
    if students[0].shape != teachers[0].shape:
        raise ValueError(
            f"teacher_logits views must have the shape of the student_logits views, got "
            f"{tuple(teachers[0].shape)} and {tuple(students[0].shape)}"
        )
    s_temp = check_positive(student_temp, "student_temp")
    t_temp = check_positive(teacher_temp, "teacher_temp")
    check_embeddings(center.reshape(1, -1) if isinstance(center, torch.Tensor) else center,
                     "center", min_samples=1, dim=students[0].shape[1])
    c = center.detach().reshape(1, -1)
    log_p = [F.log_softmax(s / s_temp, dim=-1) for s in students]
    total, n_terms = 0.0, 0
    for iq, t in enumerate(teachers):
        q = F.softmax((t.detach() - c) / t_temp, dim=-1)
        for v, lp in enumerate(log_p):
            if v == iq:  # teacher and student on the same view are skipped
                continue
            total = total + (-(q * lp).sum(dim=-1)).mean()
            n_terms += 1
    if n_terms == 0:
        raise ValueError("need at least two views: every student view matches its teacher view")
    return total / n_terms


class DINOCenter(nn.Module):
    r"""EMA center of the teacher outputs (DINO's collapse-avoiding centering).

    Parameters
    ----------
    out_dim : int
    momentum : float, default 0.9
        :math:`c \leftarrow m\,c + (1-m)\,\bar t` (official ``center_momentum``).

    Attributes
    ----------
    center : torch.Tensor, shape (1, out_dim)
        Starts at zero, as in the official code.
    """

    def __init__(self, out_dim: int, *, momentum: float = 0.9) -> None:
        super().__init__()
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.momentum = check_probability(momentum, "momentum")
        self.register_buffer("center", torch.zeros(1, self.out_dim))

    @torch.no_grad()
    def update(self, teacher_logits: torch.Tensor | Sequence[torch.Tensor]) -> "DINOCenter":
        """Fold in the mean teacher output over all views and (under DDP) all ranks."""
        views = [teacher_logits] if isinstance(teacher_logits, torch.Tensor) else teacher_logits
        t = torch.cat([v.detach() for v in _as_views(views, "teacher_logits")], dim=0)
        if t.shape[1] != self.out_dim:
            raise ValueError(f"teacher_logits must have {self.out_dim} columns, got {t.shape[1]}")
        batch = t.sum(dim=0, keepdim=True).to(self.center.dtype)
        count = t.shape[0]
        if world_size() > 1:
            dist.all_reduce(batch)
            count *= world_size()
        self.center.mul_(self.momentum).add_((1.0 - self.momentum) * batch / count)
        return self


def teacher_temp_schedule(
    n_epochs: int,
    *,
    warmup_teacher_temp: float = 0.04,
    teacher_temp: float = 0.04,
    warmup_epochs: int = 0,
) -> np.ndarray:
    """Per-epoch teacher temperature: linear warm-up, then constant (official defaults).

    Returns
    -------
    numpy.ndarray, shape (n_epochs,)
        ``linspace(warmup_teacher_temp, teacher_temp, warmup_epochs)`` followed by
        ``teacher_temp`` (the official code recommends 30 warm-up epochs from 0.04 to 0.07
        for ViTs; its argparse default is no warm-up).
    """
    n_epochs = check_int(n_epochs, "n_epochs", minimum=1)
    warmup_epochs = check_int(warmup_epochs, "warmup_epochs", minimum=0)
    if warmup_epochs > n_epochs:
        raise ValueError(f"warmup_epochs ({warmup_epochs}) must be <= n_epochs ({n_epochs})")
    check_positive(warmup_teacher_temp, "warmup_teacher_temp")
    check_positive(teacher_temp, "teacher_temp")
    return np.concatenate([
        np.linspace(warmup_teacher_temp, teacher_temp, warmup_epochs),
        np.full(n_epochs - warmup_epochs, float(teacher_temp)),
    ])
