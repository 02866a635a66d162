"""The cell every study grid is made of: build a method, train it, evaluate it on its process.

``make_and_train`` is make_method -> train; ``fit_and_evaluate`` adds the identifiability R^2
in one call (``mean_budget_curve`` averages its budget curves over replicates);
``probe_accuracy`` adds the downstream linear probe on a task defined from the true content
(``stats.downstream_labels``), and ``er_bound_of_method`` the information its representation
keeps between the two views (the ER bound on held-out positive pairs).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from mitheory import info, stats
from mitheory._rng import spawn
from mitheory._types import Seed
from mitheory._validate import check_int, check_process
from mitheory.generative import SphereProcess
from mitheory.train._evaluate import evaluate_identifiability
from mitheory.train._loop import TrainConfig, TrainResult, embed_pairs, embed_samples, train
from mitheory.train._method import SSLMethod, make_method, method_spec


@dataclass
class FitResult:
    """A trained method, its training record and its identifiability evaluation.

    ``curve`` is the budget curve: one ``{"step": s, "<block>": {"linear": r2, "kernel": r2}}``
    per checkpoint (the last is the final evaluation, at the end of training).
    """

    method: SSLMethod
    train: TrainResult
    evaluation: dict[str, Any]
    curve: list[dict[str, Any]] = field(default_factory=list)

    def r2(self, block: str = "content") -> dict[str, float]:
        """``{"linear": r2, "kernel": r2}`` of one block (``content``, ``style`` or ``all``)."""
        return self.evaluation[block]


def representation_dim(name: str, process: Any, **options: Any) -> int:
    """Output size for ``name`` on ``process``: the content dimension, plus one when the loss
    sees only directions (``output_normalised``) and the latent is not itself on a sphere (a
    direction in R^(n+1) is needed to represent an n-dimensional Euclidean latent)."""
    check_process(process)
    extra = method_spec(name).flag("output_normalised", options) and not isinstance(
        process, SphereProcess)
    return len(process.content_idx) + int(extra)


def input_statistics(process: Any, n: int, *, seed: Seed,
                     whiten: bool = False) -> tuple[Any, Any]:
    """Input statistics of ``n`` marginal observations of ``process``, for ``input_stats``.

    ``whiten=False``: the per-coordinate mean and standard deviation (float32 tensors of shape
    ``(dim_x,)``), for ``Standardise``. ``whiten=True``: the mean and the symmetric inverse
    square root ``C^{-1/2}`` of the sample covariance (ZCA whitening; shape
    ``(dim_x, dim_x)``), for ``Whiten``: the whitened sample has identity covariance.

    Raises ``ValueError`` if a coordinate does not vary (its standard deviation is 0) or, with
    ``whiten``, if the sample covariance is singular (smallest eigenvalue at most ``1e-10``
    times the largest: fewer samples than dimensions, or observations on a subspace).
    """
    check_process(process)
    check_int(n, "n", minimum=2)
    x, _ = process.sample_negatives(n, seed=seed)
    mean, std = x.mean(0), x.std(0)
    if not (std > 0).all():
        raise ValueError(f"the observations of {process.name!r} do not vary in coordinate(s) "
                         f"{(std <= 0).nonzero().ravel().tolist()} over n={n} samples")
    if not whiten:
        return mean, std
    evals, evecs = torch.linalg.eigh(torch.cov(x.double().T))
    if not evals[0] > 1e-10 * evals[-1]:
        raise ValueError(f"the sample covariance of {process.name!r} over n={n} samples is "
                         f"singular (eigenvalues {evals[0]:.3g} .. {evals[-1]:.3g}): cannot whiten")
    return mean, ((evecs / evals.sqrt()) @ evecs.T).float()


def fit_and_evaluate(
    name: str, process: Any, train_cfg: TrainConfig, *, seed_train: Seed, seed_eval: Seed,
    dim_out: int | None = None, hidden: tuple[int, ...] = (128, 128, 128), n_fit: int = 4096,
    n_eval: int = 4096, n_kernel_fit: int = 1500, kernel: bool = True,
    style_baseline: bool = False, checkpoints: Sequence[int] = (),
    input_stats: tuple[Any, Any] | None = None, **options: Any,
) -> FitResult:
    """``make_method`` -> ``train`` -> ``evaluate_identifiability`` on one process.

    Parameters
    ----------
    name : str
        A registered method (``method_names()``); ``options`` go to it.
    process : LatentProcess
    train_cfg : TrainConfig
    seed_train, seed_eval : int, tuple of int, SeedSequence or Generator
        The training stream (initialisation + data) and the evaluation samples.
    dim_out : int, optional
        Representation size (default: :func:`representation_dim`).
    hidden, n_fit, n_eval, n_kernel_fit, kernel, style_baseline
        As in ``make_method`` and ``evaluate_identifiability``.
    checkpoints : sequence of int
        Steps (in ``1..train_cfg.steps``) at which the R^2 of every block is also measured,
        on the same evaluation samples (``seed_eval``) as the final one, for the budget curve
        ``FitResult.curve``. Evaluating does not change the training run.
    input_stats : (mean, std) or (mean, matrix), optional
        Standardise or whiten the encoder's input with these (:func:`input_statistics`).

    Returns
    -------
    FitResult
    """
    d = representation_dim(name, process, **options) if dim_out is None else dim_out
    at = sorted({check_int(s, "checkpoints", minimum=1) for s in checkpoints})
    if at and at[-1] > train_cfg.steps:
        raise ValueError(f"checkpoints must be <= steps={train_cfg.steps}, got {at[-1]}")
    # a SeedSequence or Generator is stateful: every evaluation starts from a copy of it as it
    # was given, so each checkpoint and the final evaluation draw the same samples as a lone
    # final evaluation would
    frozen_seed = copy.deepcopy(seed_eval)

    def evaluate(m: SSLMethod, baseline: bool) -> dict[str, Any]:
        return evaluate_identifiability(m, process, n_fit=n_fit, n_eval=n_eval,
                                        n_kernel_fit=n_kernel_fit, kernel=kernel,
                                        seed=copy.deepcopy(frozen_seed), style_baseline=baseline)

    curve: list[dict[str, Any]] = []

    def record(step: int, m: SSLMethod) -> None:
        if step in at and step < train_cfg.steps:
            m.eval()
            ev = evaluate(m, False)
            m.train()
            curve.append({"step": step, **{b: ev[b] for b in _BLOCKS if b in ev}})

    method, res = make_and_train(name, process, train_cfg, seed=seed_train, dim_out=d,
                                 hidden=hidden, callback=record if at else None,
                                 input_stats=input_stats, **options)
    ev = evaluate(method, style_baseline)
    if at:
        curve.append({"step": train_cfg.steps, **{b: ev[b] for b in _BLOCKS if b in ev}})
    return FitResult(method, res, ev, curve)


_BLOCKS = ("content", "style", "all")


def mean_budget_curve(curves: Sequence[Sequence[dict[str, Any]]]) -> dict[str, list]:
    """The mean over replicates of :class:`FitResult` budget curves, in columns.

    ``curves`` are ``FitResult.curve`` lists taken at the same checkpoints. Returns ``{"step":
    [...], "<block>_r2_<kind>": [...]}`` for every block of the first curve and kind
    ``linear``/``kernel``, each entry the mean over replicates (``np.mean``) at that step.
    """
    if not curves or not curves[0]:
        raise ValueError("curves must hold at least one non-empty FitResult.curve")
    steps = [c["step"] for c in curves[0]]
    for c in curves:
        if [p["step"] for p in c] != steps:
            raise ValueError(f"curves must share checkpoints {steps}, got "
                             f"{[p['step'] for p in c]}")
    return {"step": steps, **{
        f"{b}_r2_{k}": [float(np.mean([c[i][b][k] for c in curves])) for i in range(len(steps))]
        for b in _BLOCKS if b in curves[0][0] for k in ("linear", "kernel")}}


def probe_accuracy(method: SSLMethod, process: Any, *, n_fit: int, n_eval: int,
                   n_classes: int, task_seed: Seed, seed: Seed) -> float:
    """Linear-probe accuracy of ``method``'s representation on a task from the true content.

    The task is ``stats.downstream_labels(content, n_classes=, seed=task_seed)`` (the same task
    for every method given ``task_seed``); ``seed`` draws the fit and eval samples.
    """
    check_int(n_classes, "n_classes", minimum=2)
    check_int(n_fit, "n_fit", minimum=2)
    check_int(n_eval, "n_eval", minimum=2)
    ss_fit, ss_ev = spawn(seed, 2)
    (h_f, z_f), (h_e, z_e) = (embed_samples(method, process, n, seed=s)
                              for n, s in ((n_fit, ss_fit), (n_eval, ss_ev)))
    c = list(process.content_idx)
    y_f, y_e = (stats.downstream_labels(z[:, c], n_classes=n_classes, seed=task_seed)
                for z in (z_f, z_e))
    return stats.linear_probe_accuracy(h_f, y_f, h_e, y_e)["accuracy"]


def make_and_train(name: str, process: Any, train_cfg: TrainConfig, *, seed: Seed,
                   dim_out: int | None = None, hidden: Sequence[int] = (128, 128, 128),
                   callback: Callable[[int, SSLMethod], None] | None = None,
                   **options: Any) -> tuple[SSLMethod, TrainResult]:
    """``make_method(name, dim_in=process.dim_x, dim_out=, hidden=, **options)``, then
    :func:`~mitheory.train.train` it on ``process`` with ``train_cfg`` and ``seed``.

    ``dim_out`` defaults to :func:`representation_dim`; ``callback`` is ``train``'s. Returns
    the trained method (in eval mode) and its :class:`TrainResult`.
    """
    d = representation_dim(name, process, **options) if dim_out is None else dim_out
    method = make_method(name, dim_in=process.dim_x, dim_out=d, hidden=tuple(hidden), **options)
    return method, train(method, process, train_cfg, seed=seed, callback=callback)


def er_bound_of_method(method: SSLMethod, process: Any, *, n_fit: int, n_eval: int,
                       seed_fit: Seed, seed_eval: Seed, seed: Seed) -> dict[str, float]:
    r"""The ER bound on :math:`I(h(x); h(\tilde x))` of ``method``'s representation, with the
    Gaussian plug-in entropy of :math:`h(\tilde x)`, on fresh positive pairs.

    ``n_fit`` pairs (drawn with ``seed_fit``) fit the linear-Gaussian decoder of
    :func:`mitheory.info.mi_lower_bound_er_linear`; ``n_eval`` held-out pairs (``seed_eval``)
    evaluate it, with the kNN entropy of :math:`h(\tilde x)` drawn with ``seed``.

    Returns
    -------
    dict
        ``er_bound``: an **estimate** (kNN :math:`H`) of the ER lower bound, nats;
        ``er_bound_se``: its standard error; ``entropy_knn``: the kNN :math:`H(h(\tilde x))`;
        ``entropy_gauss``: ``info.entropy_gaussian_plugin`` of the held-out
        :math:`h(\tilde x)`. The three ER entries are NaN when the bound cannot be evaluated on
        these embeddings (a collapsed representation: singular residual covariance, no density).
    """
    check_int(n_fit, "n_fit", minimum=2)
    check_int(n_eval, "n_eval", minimum=2)
    (h1f, h2f), (h1e, h2e) = (embed_pairs(method, process, n, seed=s)
                              for n, s in ((n_fit, seed_fit), (n_eval, seed_eval)))
    try:
        b = info.mi_lower_bound_er_linear(h1f, h2f, h1e, h2e, seed=seed)
        er, se, h_knn = b.value, b.details["se_nats"], b.details["entropy_y_nats"]
    except (np.linalg.LinAlgError, ValueError):  # collapsed representation: no density
        er = se = h_knn = float("nan")
    return {"er_bound": er, "er_bound_se": se, "entropy_knn": h_knn,
            "entropy_gauss": info.entropy_gaussian_plugin(h2e).value}


def fit_row(name: str, process: Any, train_cfg: TrainConfig, *, seed: Seed, n_eval: int,
            hidden: Sequence[int] = (128, 128, 128), dim_out: int | None = None,
            n_kernel_fit: int = 1000, **options: Any) -> dict[str, Any]:
    """One grid cell's numbers: :func:`fit_and_evaluate`, then the effective rank of the
    trained representation (``stats.effective_rank``, the collapse diagnostic).

    ``seed`` is split (``spawn(seed, 3)``) into the training stream, the evaluation samples
    (``n_eval`` fit = ``n_eval`` held-out samples; ``min(n_eval, n_kernel_fit)`` for the kernel
    ridge) and ``n_eval`` fresh samples for the effective rank.

    Returns
    -------
    dict
        ``content_r2_linear``, ``content_r2_kernel``, ``effective_rank``, ``dim_z`` (the
        representation size), ``loss_curve`` (``TrainResult.losses``) and ``wall_time_s``.
    """
    check_int(n_eval, "n_eval", minimum=2)
    ss_train, ss_eval, ss_rank = spawn(seed, 3)
    fit = fit_and_evaluate(name, process, train_cfg, seed_train=ss_train, seed_eval=ss_eval,
                           dim_out=dim_out, hidden=tuple(hidden), n_fit=n_eval, n_eval=n_eval,
                           n_kernel_fit=min(n_eval, check_int(n_kernel_fit, "n_kernel_fit",
                                                              minimum=2)), **options)
    h, _ = embed_samples(fit.method, process, n_eval, seed=ss_rank)
    return {"content_r2_linear": fit.r2()["linear"], "content_r2_kernel": fit.r2()["kernel"],
            "effective_rank": stats.effective_rank(h), "dim_z": h.shape[1],
            "loss_curve": fit.train.losses, "wall_time_s": fit.train.wall_time_s}
