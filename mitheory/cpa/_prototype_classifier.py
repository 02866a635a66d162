"""Training a CPA network on noisy prototypes, so Theorem 1 can be checked on a trained (not only
a random) network."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mitheory._rng import int_seed
from mitheory._types import Seed
from mitheory._validate import check_array, check_int, check_module, check_positive


def fit_prototype_classifier(net: nn.Module, head: nn.Module, prototypes: Any, *, steps: int,
                             noise_sd: float = 0.3, lr: float = 3e-3, copies: int = 16,
                             seed: Seed = None) -> list[float]:
    r"""Train ``head(net(x))`` to tell noisy prototypes apart (cross-entropy, Adam), in place.

    Each step draws ``copies`` noisy copies :math:`x^*_n + \sigma\varepsilon` of every
    prototype (float32), labelled by prototype, and takes one Adam step on ``net`` and
    ``head`` together; ``net`` is left in eval mode (a trained CPA network for Theorem 1).

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``dim_in`` to ``dim_out``.
    head : torch.nn.Module
        Maps ``dim_out`` to one logit per prototype (e.g. ``torch.nn.Linear(dim_out, N)``).
    prototypes : array, shape (N, dim_in), N >= 2
    steps : int
    noise_sd, lr : float
        Noise standard deviation :math:`\sigma` and Adam learning rate.
    copies : int
        Noisy copies of each prototype per step.
    seed : int, Generator or None
        The noise stream (a ``torch.Generator`` seeded with ``int_seed(seed)``).

    Returns
    -------
    list of float
        The loss at each step.

    Raises
    ------
    TypeError
        If ``net`` or ``head`` is not a module.
    ValueError
        If ``prototypes`` has fewer than 2 rows or is not finite, or a count or scale is not
        positive.
    """
    check_module(net, "net")
    check_module(head, "head")
    protos = check_array(prototypes, "prototypes", ndim=2)
    if len(protos) < 2:
        raise ValueError(f"prototypes needs at least 2 rows (classes), got shape {protos.shape}")
    steps, copies = check_int(steps, "steps", minimum=1), check_int(copies, "copies", minimum=1)
    noise_sd, lr = check_positive(noise_sd, "noise_sd"), check_positive(lr, "lr")
    g, x = torch.Generator().manual_seed(int_seed(seed)), torch.as_tensor(protos).float()
    opt = torch.optim.Adam([*net.parameters(), *head.parameters()], lr=lr)
    labels = torch.arange(len(x)).repeat(copies)
    losses = []
    for _ in range(steps):
        noisy = x[labels] + noise_sd * torch.randn(len(labels), x.shape[1], generator=g)
        loss = torch.nn.functional.cross_entropy(head(net(noisy)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses
