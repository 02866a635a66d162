"""Diagnostics of a method's optimisation: the spread of its mini-batch gradient."""
from __future__ import annotations

import numpy as np
import torch

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_int, check_method, check_process
from mitheory.train._method import SSLMethod

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
    check_method(method)
    check_process(process)
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
