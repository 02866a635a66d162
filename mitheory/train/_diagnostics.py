"""Diagnostics of a method's optimisation: the spread of its mini-batch gradient."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from mitheory._rng import as_generator, int_seed
from mitheory._types import Seed
from mitheory._validate import check_int, check_method, check_process
from mitheory.train._method import EMATarget, SSLMethod, make_method

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


def gradient_variance_sweep(
    base: SSLMethod, process, methods: Mapping[str, tuple[str, Mapping[str, Any], int]],
    batch_sizes: Sequence[int], *, reference: str, n_batches: int, hidden: Sequence[int],
    dim_out: int, seed: int = 0, cos_key: str = "cos_mean_grad_vs_reference",
) -> list[dict[str, Any]]:
    """:func:`gradient_variance` of several methods at one fixed encoder, over batch sizes.

    Each method is built with ``make_method(name, dim_in=process.dim_x, dim_out=dim_out,
    hidden=hidden, **options)`` and given ``base``'s encoder weights (and, for an
    :class:`EMATarget`, a target equal to that encoder, as :func:`train` starts it), so only the
    loss differs. At the ``i``-th batch size every method sees the same batches, seeded
    ``int_seed((seed, i))``.

    Parameters
    ----------
    base : SSLMethod
        The method whose encoder the gradients are taken at.
    methods : mapping
        ``label -> (method name, options, warm-up batches)``; warm-up batches let an EMA
        statistic settle (``n_warmup`` of :func:`gradient_variance`).
    batch_sizes : sequence of int
    reference : str
        The label whose mean gradient the others' directions are compared with.
    n_batches : int
        Independent batches per estimate.
    cos_key : str
        The field the cosine to the reference's mean gradient is stored under.

    Returns
    -------
    list of dict
        One row per (batch size, method): ``batch_size``, ``label``, the numbers of
        :func:`gradient_variance` (without ``mean_grad``) and, under ``cos_key``, the cosine
        between the method's and the reference's mean gradients.
    """
    check_method(base, "base")
    check_process(process)
    if reference not in methods:
        raise ValueError(f"reference must be one of the methods {list(methods)}, "
                         f"got {reference!r}")
    seed = check_int(seed, "seed", minimum=0)
    rows: list[dict[str, Any]] = []
    for bi, b in enumerate(batch_sizes):
        means = {}
        for label, (name, options, warm) in methods.items():
            m = make_method(name, dim_in=process.dim_x, dim_out=dim_out, hidden=hidden,
                            **options)
            m.encoder.load_state_dict(base.encoder.state_dict())
            if isinstance(m, EMATarget):  # the target starts as the online encoder (as train)
                m.target.load_state_dict(m.encoder.state_dict())
            g = gradient_variance(m, process, batch_size=b, n_batches=n_batches,
                                  n_warmup=warm, seed=int_seed((seed, bi)))
            means[label] = g.pop("mean_grad")
            rows.append({"batch_size": b, "label": label, **g})
        ref = means[reference]
        for r in rows[-len(methods):]:  # direction agreement of the mean gradients
            v = means[r["label"]]
            r[cos_key] = float(v @ ref / np.linalg.norm(v) / np.linalg.norm(ref))
    return rows


def relative_variance_ratio(rows: Sequence[Mapping[str, Any]], label: str,
                            reference: str) -> dict[int, float]:
    """Per batch size, ``label``'s ``relative_variance`` over ``reference``'s, from the rows of
    :func:`gradient_variance_sweep` (below 1: ``label``'s gradients are less noisy relative
    to their mean; NaN when both are ``inf``, i.e. neither mean is resolved)."""
    rv = {(r["batch_size"], r["label"]): r["relative_variance"] for r in rows}
    labels = {k[1] for k in rv}
    for name, value in (("label", label), ("reference", reference)):
        if value not in labels:
            raise ValueError(f"{name} must be a label of the rows {sorted(labels)}, got {value!r}")
    return {b: rv[(b, label)] / rv[(b, reference)] for b in dict.fromkeys(k[0] for k in rv)}
