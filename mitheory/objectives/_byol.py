"""BYOL pieces (Grill et al. 2020): regression loss, EMA target update, tau schedule, predictor."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mitheory._validate import check_int, check_pair, check_probability


def byol_loss(p_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    r"""BYOL regression loss between online predictions and target projections.

    Parameters
    ----------
    p_a : torch.Tensor, shape (n_samples, dim_z)
        Online network's prediction :math:`q_\theta(z_\theta)` for view a.
    z_b : torch.Tensor, shape (n_samples, dim_z)
        Target network's projection :math:`z'_\xi` for view b. **Detached inside** (BYOL's
        stop-gradient on the target branch), so passing a tensor that requires grad is safe.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\frac1n \sum_i \big(2 - 2\cos(p_{a,i}, z_{b,i})\big)
        = \frac1n\sum_i \|\bar p_{a,i} - \bar z_{b,i}\|^2` (Grill et al. 2020, Eq. 2), a loss
        to minimise. BYOL symmetrises by adding the loss with the views swapped (Eq. 3); call
        this twice for that. The released code (``deepmind-research/byol``) sums over the
        batch where this averages (a constant factor absorbed in the learning rate).
    """
    check_pair(p_a, z_b, names=("p_a", "z_b"))
    return (2.0 - 2.0 * F.cosine_similarity(p_a, z_b.detach(), dim=1)).mean()


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, momentum: float) -> None:
    r"""In-place exponential moving average of ``online`` into ``target`` (BYOL's Eq. 1).

    Parameters
    ----------
    target, online : torch.nn.Module
        Same architecture (identical parameter and buffer names and shapes).
    momentum : float
        :math:`\tau \in [0, 1]`. Parameters become :math:`\xi \leftarrow \tau\xi + (1-\tau)\theta`;
        buffers (e.g. BatchNorm running statistics) are **copied** from ``online``.

    Raises
    ------
    ValueError
        If the modules' parameter or buffer names or shapes differ, or ``momentum`` is outside
        [0, 1].
    """
    m = check_probability(momentum, "momentum")
    for kind, tgt, onl in (
        ("parameter", dict(target.named_parameters()), dict(online.named_parameters())),
        ("buffer", dict(target.named_buffers()), dict(online.named_buffers())),
    ):
        if tgt.keys() != onl.keys():
            raise ValueError(
                f"target and online have different {kind} names: "
                f"{sorted(set(tgt) ^ set(onl))}"
            )
        for name, t in tgt.items():
            o = onl[name]
            if t.shape != o.shape:
                raise ValueError(f"{kind} {name!r}: target shape {tuple(t.shape)} != online "
                                 f"shape {tuple(o.shape)}")
            if kind == "buffer" or not t.is_floating_point():
                t.copy_(o)
            else:
                t.mul_(m).add_(o, alpha=1.0 - m)


def cosine_momentum(base: float, step: int, total_steps: int) -> float:
    r"""BYOL's target-decay schedule :math:`\tau_k = 1 - (1 - \tau_{base})(\cos(\pi k/K) + 1)/2`.

    Parameters
    ----------
    base : float
        :math:`\tau_{base}` in [0, 1] (BYOL: 0.996).
    step, total_steps : int
        :math:`k` in ``[0, K]`` and :math:`K \ge 1`.

    Returns
    -------
    float
        ``base`` at ``step = 0``, rising to 1 at ``step = total_steps`` (Grill et al. 2020,
        Sec. 3.2).
    """
    b = check_probability(base, "base")
    big_k = check_int(total_steps, "total_steps", minimum=1)
    k = check_int(step, "step", minimum=0)
    if k > big_k:
        raise ValueError(f"step must be <= total_steps={big_k}, got {k}")
    return 1.0 - (1.0 - b) * (math.cos(math.pi * k / big_k) + 1.0) / 2.0


def make_predictor(dim: int, hidden: int) -> nn.Sequential:
    """BYOL predictor MLP: ``Linear(dim, hidden)-BatchNorm1d-ReLU-Linear(hidden, dim)``.

    Parameters
    ----------
    dim : int
        Input and output dimension (BYOL: 256).
    hidden : int
        Hidden width (BYOL: 4096).

    Returns
    -------
    torch.nn.Sequential
        Freshly initialised with torch's default initialisers (seed the global torch RNG, or
        re-initialise, for reproducibility).
    """
    d = check_int(dim, "dim", minimum=1)
    h = check_int(hidden, "hidden", minimum=1)
    return nn.Sequential(nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU(inplace=True),
                         nn.Linear(h, d))
