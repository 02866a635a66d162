"""MI estimators run on independent draws of a task with known mutual information, with the
protocol every estimator shares: split each draw into a fit half and a test half, and give the
ER-type estimators H(Y), exact where the task has it, else a kNN estimate on the test half."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mitheory._rng import spawn
from mitheory._types import InfoValue, Seed
from mitheory._validate import check_int
from mitheory.info._knn import entropy_knn


def mi_estimates_on_task(task: Any, estimators: Mapping[str, Callable[..., InfoValue]], *,
                         n_samples: int, n_repeats: int, k: int = 5,
                         seed: Seed = None) -> dict[str, list[InfoValue]]:
    r"""Each estimator on ``n_repeats`` independent draws of ``n_samples`` pairs from ``task``.

    Each replicate draws ``(x, y) = task.sample(n_samples)``, splits it into the first
    ``n_samples // 2`` pairs (fit) and the rest (test), and calls every estimator as
    ``f(x_fit, y_fit, x_test, y_test, entropy_y=h_y, seed=s)``. ``h_y`` is
    ``task.entropy("y")`` (exact) where the task has a closed form, else
    :func:`entropy_knn` of ``y_test`` with ``k`` neighbours (an estimate: an ER value built on
    it is then an estimate, not a bound). Estimators that need no fitting may pool both halves.

    Parameters
    ----------
    task : Task
        A law with ``sample(n, seed=)`` and ``entropy("y")`` (``mitheory.info.tasks``).
    estimators : mapping of str to callable
        Name -> estimator returning an ``InfoValue``, called as above.
    n_samples : int
        Pairs per replicate (fit + test), at least 4.
    n_repeats : int
        Independent replicates.
    k : int, default 5
        Neighbours of the kNN entropy fallback.
    seed : int, Generator or None
        Replicate ``r`` spawns ``(data, entropy, estimators)`` streams from
        ``spawn(seed, n_repeats)[r]``; estimator ``j`` gets stream ``j`` of the last.

    Returns
    -------
    dict of str to list of InfoValue
        Per estimator (in order), its value on each replicate: an **estimate** or a
        **lower bound** of :math:`I(X;Y)`, as the estimator's ``kind`` says.

    Raises
    ------
    ValueError
        If ``estimators`` is empty, ``n_samples < 4``, ``n_repeats < 1`` or ``k < 1``.
    TypeError
        If an estimator is not callable.

    Notes
    -----
    The ER bound (Rodriguez-Galvez et al. 2023) an ER-type estimator evaluates needs the
    marginal entropy, which the decoder does not give:

    .. math:: I(X;Y) \ge H(Y) + \mathbb{E}\log q(y \mid x).
    """
    n_samples = check_int(n_samples, "n_samples", minimum=4)
    n_repeats = check_int(n_repeats, "n_repeats", minimum=1)
    k = check_int(k, "k", minimum=1)
    if not isinstance(estimators, Mapping) or len(estimators) == 0:
        raise ValueError(f"estimators must be a non-empty mapping of name -> estimator, got "
                         f"{estimators!r}")
    bad = [name for name, f in estimators.items() if not callable(f)]
    if bad:
        raise TypeError(f"estimators values must be callable, not for {bad}")
    got: dict[str, list[InfoValue]] = {e: [] for e in estimators}
    for ss_rep in spawn(seed, n_repeats):
        ss_data, ss_h, ss_est = spawn(ss_rep, 3)
        x, y = task.sample(n_samples, seed=ss_data)
        m = n_samples // 2
        try:
            h_y = task.entropy("y")
        except NotImplementedError:
            h_y = entropy_knn(y[m:], k=k, seed=ss_h)
        for (e, f), s in zip(estimators.items(), spawn(ss_est, len(estimators))):
            got[e].append(f(x[:m], y[:m], x[m:], y[m:], entropy_y=h_y, seed=s))
    return got
