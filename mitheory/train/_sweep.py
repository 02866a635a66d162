"""A sweep of one method over option sets: ``fit_and_evaluate`` per set, and what each row of the
sweep reports of the representation (identifiability, effective rank, second-order MI)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mitheory import info, stats
from mitheory._rng import spawn
from mitheory._types import Seed
from mitheory._validate import check_int, check_process
from mitheory.train._fit import fit_and_evaluate
from mitheory.train._loop import TrainConfig, embed_pairs
from mitheory.train._method import method_spec


def fit_sweep(name: str, process: Any, train_cfg: TrainConfig,
              runs: Mapping[str, Mapping[str, Any]], *, seeds: Sequence[Seed], n_pairs: int,
              tolerate: tuple[type[Exception], ...] = (), verbose: bool = False,
              **fit_kw: Any) -> list[dict[str, Any]]:
    """Train and evaluate method ``name`` once per option set of ``runs``.

    Parameters
    ----------
    name : str
        A registered method (``method_names()``).
    process : LatentProcess
    train_cfg : TrainConfig
        The same training settings for every run.
    runs : mapping of str to dict
        Run label -> the method's options (passed to :func:`fit_and_evaluate` as ``**options``).
    seeds : sequence of seeds, one per run
        Run ``i`` spawns its train, evaluation and pair streams from ``seeds[i]``
        (``spawn(seeds[i], 3)``).
    n_pairs : int
        Fresh positive pairs ``(z_a, z_b)`` embedded after training (:func:`embed_pairs`).
    tolerate : tuple of exception types, default ()
        Failures of a run that are a result, not a bug (e.g. ``FloatingPointError`` of a
        diverged loss, ``ValueError`` of a singular covariance): recorded in the row's
        ``failed`` instead of raised. Nothing is tolerated by default.
    verbose : bool, default False
        Print each row (without its loss curve) as it finishes.
    **fit_kw
        Further arguments of :func:`fit_and_evaluate` (``dim_out``, ``hidden``, ``n_fit``,
        ``n_eval``, ``n_kernel_fit``, ...).

    Returns
    -------
    list of dict
        One row per run, in order: ``run``, then ``loss_curve`` (``TrainResult.losses``),
        ``content_r2_linear`` / ``content_r2_kernel`` (identifiability of the content block),
        ``effective_rank`` of ``z_a`` (:func:`mitheory.stats.effective_rank`), ``mi_gaussian_nats``
        (the Gaussian plug-in **estimate** of :math:`I(Z_a; Z_b)`,
        :func:`mitheory.info.mi_gaussian_plugin`) and ``failed`` (None); a tolerated failure
        leaves only ``run`` and ``failed`` (the exception's first 200 characters).

    Raises
    ------
    ValueError
        If ``name`` is not registered, ``process`` is not a process, ``runs`` is empty,
        ``seeds`` does not have one seed per run, or ``n_pairs < 2``.
    """
    method_spec(name)
    check_process(process)
    n_pairs = check_int(n_pairs, "n_pairs", minimum=2)
    if not isinstance(runs, Mapping) or len(runs) == 0:
        raise ValueError(f"runs must be a non-empty mapping of label -> options, got {runs!r}")
    if len(seeds) != len(runs):
        raise ValueError(f"seeds has {len(seeds)} entries for {len(runs)} runs")
    rows = []
    for (label, options), seed in zip(runs.items(), seeds):
        ss_train, ss_eval, ss_pairs = spawn(seed, 3)
        row: dict[str, Any] = {"run": label}
        try:
            fit = fit_and_evaluate(name, process, train_cfg, seed_train=ss_train,
                                   seed_eval=ss_eval, **fit_kw, **options)
            za, zb = embed_pairs(fit.method, process, n_pairs, seed=ss_pairs)
            row.update(loss_curve=fit.train.losses, content_r2_linear=fit.r2()["linear"],
                       effective_rank=stats.effective_rank(za),
                       content_r2_kernel=fit.r2()["kernel"],
                       mi_gaussian_nats=info.mi_gaussian_plugin(za, zb).value, failed=None)
        except tolerate as exc:
            row.update(failed=str(exc)[:200])
        if verbose:
            print(label, {k: v for k, v in row.items() if k not in ("loss_curve", "run")})
        rows.append(row)
    return rows
