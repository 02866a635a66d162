"""Optimisers and schedules of image-scale SSL: LARS, AdamW parameter groups, warmup + cosine;
and ``minimise``, the small loop that optimises a function of a few tensors (Adam or L-BFGS).

LARS follows ``facebookresearch/vicreg`` ``main_vicreg.py`` (``LARS`` and
``exclude_bias_and_norm``), the same rule as the BYOL code: weight decay is added to the gradient,
the update is rescaled by the trust ratio ``eta * ||w|| / ||g + wd w||`` (1 when either norm is
0), then heavy-ball momentum. Parameters with ``p.ndim == 1`` (biases, BatchNorm / LayerNorm
weights and biases) get neither weight decay nor the trust ratio; the test is on the shape, not
on parameter names, so a BN inside a projector head is excluded too (solo-learn#301).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from mitheory._validate import (check_int, check_module, check_option, check_positive,
                                check_probability)


def _is_bias_or_norm(p: torch.Tensor) -> bool:
    return p.ndim == 1


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two optimiser groups: weights with ``weight_decay``, biases and norm parameters without.

    Parameters
    ----------
    model : torch.nn.Module
        Only parameters with ``requires_grad`` are included (EMA targets are left out).
    weight_decay : float
        Decay of the weight group (>= 0).

    Returns
    -------
    list of dict
        ``[{"params": weights, "weight_decay": weight_decay},
        {"params": biases_and_norms, "weight_decay": 0.0, "lars_exclude": True}]``: the form
        ``torch.optim.AdamW`` and :class:`LARS` take (AdamW ignores ``lars_exclude``). A
        parameter is a bias or norm parameter when it is one-dimensional.
    """
    check_module(model, "model")
    wd = check_positive(weight_decay, "weight_decay", strict=False)
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if not _is_bias_or_norm(p)], "weight_decay": wd},
            {"params": [p for p in params if _is_bias_or_norm(p)], "weight_decay": 0.0,
             "lars_exclude": True}]


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling (You et al. 2017), as in the VICReg and BYOL code.

    Per parameter ``w`` with gradient ``g``: ``d = g + wd * w``; unless excluded,
    ``d = d * eta * ||w|| / ||d||`` (the trust ratio, 1 when ``||w|| = 0`` or ``||d|| = 0``);
    ``mu = momentum * mu + d``; ``w = w - lr * mu``.

    Parameters
    ----------
    params : iterable of tensors or of dicts
        Parameters or groups (e.g. :func:`param_groups`); a group may set ``weight_decay``,
        ``momentum``, ``eta`` and ``lars_exclude``.
    lr : float
        Learning rate (VICReg: ``base_lr * batch_size / 256`` with base 0.2).
    weight_decay : float
        Default 1e-6 (VICReg ``--wd``; BYOL uses 1.5e-6).
    momentum : float
        Default 0.9.
    eta : float
        Trust coefficient, default 0.001 (VICReg's ``eta``; BYOL's LARS uses the same value).
    exclude_1d : bool
        When a group does not set ``lars_exclude``, exclude its one-dimensional parameters
        (biases, norms) from weight decay and the trust ratio (VICReg's
        ``exclude_bias_and_norm``). ``lars_exclude=True`` on a group excludes all its
        parameters.
    """

    def __init__(self, params: Iterable[Any], lr: float, *, weight_decay: float = 1e-6,
                 momentum: float = 0.9, eta: float = 0.001, exclude_1d: bool = True) -> None:
        defaults = {"lr": check_positive(lr, "lr"),
                    "weight_decay": check_positive(weight_decay, "weight_decay", strict=False),
                    "momentum": check_probability(momentum, "momentum"),
                    "eta": check_positive(eta, "eta"), "lars_exclude": None}
        self.exclude_1d = bool(exclude_1d)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch.optim.Optimizer.step)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                excluded = (g["lars_exclude"] if g["lars_exclude"] is not None
                            else self.exclude_1d and _is_bias_or_norm(p))
                d = p.grad
                if not excluded:
                    d = d.add(p, alpha=g["weight_decay"])
                    w_norm, d_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(d)
                    one = torch.ones_like(w_norm)
                    q = torch.where((w_norm > 0) & (d_norm > 0), g["eta"] * w_norm / d_norm, one)
                    d = d.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(d)
                p.add_(mu, alpha=-g["lr"])
        return loss


def warmup_cosine(step: int, total: int, warmup: int, base_lr: float,
                  final_lr: float = 0.0) -> float:
    """Learning rate at ``step``: linear warmup to ``base_lr``, then cosine decay to ``final_lr``.

    ``base_lr * step / warmup`` for ``step < warmup``; afterwards
    ``final_lr + (base_lr - final_lr) * (1 + cos(pi * (step - warmup) / (total - warmup))) / 2``,
    which is ``base_lr`` at ``step = warmup`` and ``final_lr`` at ``step = total``
    (``facebookresearch/vicreg`` ``adjust_learning_rate``, where ``final_lr = 0.001 base_lr``).

    Parameters
    ----------
    step : int
        In ``[0, total]``.
    total, warmup : int
        Total steps (>= 1) and warmup steps (``0 <= warmup < total``).
    base_lr, final_lr : float
        Peak (> 0) and final (>= 0) rates.

    Raises
    ------
    ValueError
        If ``step`` is outside ``[0, total]`` or ``warmup`` outside ``[0, total)``.
    """
    total = check_int(total, "total", minimum=1)
    warmup, step = check_int(warmup, "warmup", minimum=0), check_int(step, "step", minimum=0)
    base_lr = check_positive(base_lr, "base_lr")
    final_lr = check_positive(final_lr, "final_lr", strict=False)
    if warmup >= total:
        raise ValueError(f"warmup must be < total ({total}), got {warmup}")
    if step > total:
        raise ValueError(f"step must be <= total ({total}), got {step}")
    if step < warmup:
        return base_lr * step / warmup
    q = 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup)))
    return final_lr + (base_lr - final_lr) * q


def minimise(loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], *, steps: int,
             lr: float, optimiser: str = "adam",
             record: Callable[[int, torch.Tensor], dict] | None = None,
             record_every: int = 1) -> list[dict]:
    """Minimise ``loss()`` over the tensors ``params`` in place, with Adam or L-BFGS.

    For optimising the object an experiment is about (a matrix, a mixture's centres), not a
    network on batches (that is :func:`~mitheory.train.train`).

    Parameters
    ----------
    loss : callable
        ``loss() -> 0-dim tensor``, a function of ``params`` recomputed at every evaluation.
    params : sequence of torch.Tensor
        Leaf tensors with ``requires_grad=True``; updated in place.
    steps : int
        ``"adam"``: the number of Adam steps at the constant rate ``lr``. ``"lbfgs"``: the
        iteration budget ``max_iter`` of one L-BFGS run.
    lr : float
        Adam's learning rate, or L-BFGS's step scale (1 is its natural step).
    optimiser : {"adam", "lbfgs"}
        ``"lbfgs"``: ``torch.optim.LBFGS`` with a strong-Wolfe line search, history 20 and
        tolerances ``tolerance_grad=1e-12``, ``tolerance_change=1e-16``, so it runs to the
        budget or to float64 round-off (for smooth objectives, where Adam stalls in narrow
        valleys).
    record : callable, optional
        Adam only: ``record(step, value) -> dict`` is called for every ``step`` in
        ``0..steps`` divisible by ``record_every``, after ``step`` updates, with the detached
        loss ``value`` at those parameters (so the trajectory includes the start, and the end
        when ``steps`` is a multiple of ``record_every``).
    record_every : int, default 1

    Returns
    -------
    list of dict
        The records, in step order (empty without ``record``).

    Raises
    ------
    ValueError
        If ``params`` is empty or holds a tensor without ``requires_grad``, ``steps`` or
        ``record_every`` is not a positive integer, ``lr`` is not positive, ``optimiser`` is
        unknown, or ``record`` is given with ``"lbfgs"``.
    """
    if not callable(loss):
        raise TypeError(f"loss must be a callable () -> tensor, got {type(loss).__name__}")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params must be a non-empty sequence of tensors with requires_grad")
    steps = check_int(steps, "steps", minimum=1)
    lr = check_positive(lr, "lr")
    check_option(optimiser, "optimiser", ("adam", "lbfgs"))
    every = check_int(record_every, "record_every", minimum=1)
    if record is not None and not callable(record):
        raise TypeError(f"record must be a callable (step, value) -> dict, got {record!r}")
    if optimiser == "lbfgs":
        if record is not None:
            raise ValueError("record is only supported with optimiser='adam'")
        opt = torch.optim.LBFGS(params, lr=lr, max_iter=steps, history_size=20,
                                tolerance_grad=1e-12, tolerance_change=1e-16,
                                line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            value = loss()
            value.backward()
            return value

        opt.step(closure)
        return []
    opt = torch.optim.Adam(params, lr=lr)
    out: list[dict] = []
    for step in range(steps + 1):
        recording = record is not None and step % every == 0
        if step == steps and not recording:
            break
        value = loss()
        if recording:
            out.append(record(step, value.detach()))
        if step < steps:
            opt.zero_grad()
            value.backward()
            opt.step()
    return out
