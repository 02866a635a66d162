r"""One method against the others, across matched trials of budget curves: paired t-tests at the
final checkpoint and on the area under the curve, Holm-adjusted, read per family of quantities.

A *curve* is a quantity at checkpoints along training, one row per trial (trial ``t`` of every
method shares its seed, so trials are paired). Built on :func:`paired_test` (Student 1908) and
:func:`holm_adjust` (Holm 1979).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mitheory._validate import check_array, check_finite_number, check_int, check_probability
from mitheory.stats._convergence import relative_trend_status
from mitheory.stats._paired import holm_adjust, paired_test

SUMMARIES = ("final", "auc")


def _with_nan(c: ArrayLike, name: str) -> np.ndarray:
    """A 2-D float array whose missing values are NaN (an infinity is an error, not a gap)."""
    a = check_array(c, name, ndim=2, allow_nonfinite=True)
    if np.any(np.isinf(a)):
        raise ValueError(f"{name} contains an infinite value (NaN marks a missing one)")
    if a.size == 0:
        raise ValueError(f"{name} must hold at least one trial and checkpoint, got {a.shape}")
    return a


def _curve(c: ArrayLike, name: str, n_steps: int) -> np.ndarray:
    a = _with_nan(c, name)
    if a.shape[1] != n_steps:
        raise ValueError(f"{name} must have one column per step ({n_steps}), got shape {a.shape}")
    return a


def paired_reference_tests(curves: Mapping[str, Mapping[str, ArrayLike]], reference: str,
                           steps: Sequence[int], *, alpha: float = 0.05) -> list[dict[str, Any]]:
    r"""Two-sided paired t-tests of ``reference`` against every other method, per quantity.

    Parameters
    ----------
    curves : mapping method -> (mapping quantity -> array (n_trials, n_steps))
        Budget curves; row ``t`` of every method is trial ``t`` (same seed: paired). NaN marks a
        value that could not be computed (that test is then undetermined).
    reference : str
        The method compared with each other one (a key of ``curves``).
    steps : sequence of int
        The training steps of the columns (increasing, the last > 0).
    alpha : float
        Level of the Holm-adjusted tests.

    Returns
    -------
    list of dict
        One row per (other method, quantity, summary) in that order: ``other``, ``estimator``
        (the quantity), ``summary`` (``"final"``: the last checkpoint; ``"auc"``: the
        trapezoid area under the curve / the last step), the :class:`PairedTest` fields,
        ``p_holm`` and ``outcome`` (``"higher"``/``"lower"``: Holm p < ``alpha`` and the sign
        of the mean difference reference - other; ``"no difference"``; ``"undetermined"``
        with ``error`` when the test cannot run: NaN or all differences equal).

    Raises
    ------
    ValueError
        ``reference`` not in ``curves`` or alone there, a quantity missing from a method,
        curves that are not 2-D with one column per step, bad steps or ``alpha``.

    Notes
    -----
    Holm's step-down adjustment runs over the (other method x quantity) family of each summary
    separately (the two summaries are two questions asked of the same runs).

    .. math:: \mathrm{AUC} / T = \frac{1}{T} \sum_j \tfrac12 (s_{j+1} - s_j)(h_j + h_{j+1})

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat.
    """
    check_probability(alpha, "alpha")
    st = check_array(steps, "steps", ndim=1)
    if len(st) < 1 or st[-1] <= 0 or np.any(np.diff(st) <= 0):
        raise ValueError(f"steps must be increasing with a positive last step, got {list(steps)}")
    if reference not in curves or len(curves) < 2:
        raise ValueError(f"curves must hold reference={reference!r} and another method, got "
                         f"{list(curves)}")
    quantities = list(curves[reference])
    tests = []
    for other in (m for m in curves if m != reference):
        for q in quantities:
            if q not in curves[other]:
                raise ValueError(f"curves[{other!r}] has no quantity {q!r}")
            a = _curve(curves[reference][q], f"curves[{reference!r}][{q!r}]", len(st))
            b = _curve(curves[other][q], f"curves[{other!r}][{q!r}]", len(st))
            for summary, fa, fb in (
                    ("final", a[:, -1], b[:, -1]),
                    ("auc", np.trapezoid(a, st, axis=1) / st[-1],
                     np.trapezoid(b, st, axis=1) / st[-1])):
                row: dict[str, Any] = {"other": other, "estimator": q, "summary": summary}
                try:
                    row.update(paired_test(fa, fb).to_dict())
                except ValueError as exc:  # NaN (a failed estimator) or equal differences
                    row.update(error=str(exc), outcome="undetermined")
                tests.append(row)
    for summary in SUMMARIES:
        fam = [t for t in tests if t["summary"] == summary and "error" not in t]
        for t, p in zip(fam, holm_adjust([t["p_value"] for t in fam]) if fam else []):
            t["p_holm"] = float(p)
            t["outcome"] = ("no difference" if p >= alpha else
                            "higher" if t["mean_difference"] > 0 else "lower")
    return tests


def family_vote(tests: Sequence[Mapping[str, Any]],
                families: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Does the reference beat every opponent on a majority of families of quantities?

    Per opponent, a family says ``"higher"`` only when every one of its quantities is
    ``"higher"`` on every summary (final and AUC) of :func:`paired_reference_tests`;
    ``"lower"`` likewise; else ``"mixed or not significant"``. The vote is ``supported`` when
    a majority (``len(families) // 2 + 1``) of families says higher against every opponent,
    ``not supported`` when a majority says lower against any, ``inconclusive`` otherwise.

    Parameters
    ----------
    tests : sequence of dict
        Rows of :func:`paired_reference_tests` (``other``, ``estimator``, ``summary``,
        ``outcome``).
    families : mapping family -> sequence of quantity names

    Returns
    -------
    dict
        ``per_opponent`` (``{other: {"families": {family: outcome}, "n_higher", "n_lower"}}``
        in the order the opponents first appear in ``tests``), ``majority`` and ``verdict``.

    Raises
    ------
    ValueError
        If ``families`` or ``tests`` is empty, or an (opponent, quantity, summary) row is
        missing.
    """
    if not families or any(len(qs) == 0 for qs in families.values()):
        raise ValueError(f"families must map names to non-empty quantity lists, got {families!r}")
    if not tests:
        raise ValueError("tests must hold at least one row of paired_reference_tests")
    by = {(t["other"], t["estimator"], t["summary"]): t["outcome"] for t in tests}
    per = {}
    for other in dict.fromkeys(t["other"] for t in tests):
        def all_are(outcome: str, qs: Sequence[str]) -> bool:
            missing = [(q, s) for q in qs for s in SUMMARIES if (other, q, s) not in by]
            if missing:
                raise ValueError(f"tests has no row for opponent {other!r} and the families' "
                                 f"(quantity, summary) {missing}")
            return all(by[(other, q, s)] == outcome for q in qs for s in SUMMARIES)

        fam = {f: ("higher" if all_are("higher", qs) else "lower" if all_are("lower", qs)
                   else "mixed or not significant") for f, qs in families.items()}
        per[other] = {"families": fam, "n_higher": sum(v == "higher" for v in fam.values()),
                      "n_lower": sum(v == "lower" for v in fam.values())}
    need = len(families) // 2 + 1
    verdict = ("supported" if all(p["n_higher"] >= need for p in per.values()) else
               "not supported" if any(p["n_lower"] >= need for p in per.values())
               else "inconclusive")
    return {"per_opponent": per, "majority": need, "verdict": verdict}


def checkpoint_mean_se(curves: ArrayLike) -> dict[str, Any]:
    """Mean and standard error over trials at each checkpoint, ignoring NaN (failed) values.

    Parameters
    ----------
    curves : array (n_trials, n_checkpoints)
        NaN where a value could not be computed.

    Returns
    -------
    dict
        ``mean`` (``None`` at a checkpoint with no finite value), ``se`` = sd (ddof 1) /
        sqrt(n finite) (``None`` with fewer than 2) and ``n_failed`` (the NaN count).
    """
    c = _with_nan(curves, "curves")
    ok = np.isfinite(c)
    n = ok.sum(axis=0)
    mean = [float(c[ok[:, j], j].mean()) if n[j] else None for j in range(c.shape[1])]
    se = [float(c[ok[:, j], j].std(ddof=1) / np.sqrt(n[j])) if n[j] > 1 else None
          for j in range(c.shape[1])]
    return {"mean": mean, "se": se, "n_failed": int((~ok).sum())}


def compare_with_reference(curves: Mapping[str, Mapping[str, ArrayLike]], reference: str,
                           steps: Sequence[int], families: Mapping[str, Sequence[str]], *,
                           alpha: float = 0.05, rel_tol: float = 0.02) -> dict[str, Any]:
    """Summary, paired tests, family vote and plateau status of budget curves, in one call.

    Parameters
    ----------
    curves, reference, steps, alpha
        As in :func:`paired_reference_tests`.
    families : mapping family -> sequence of quantity names
        As in :func:`family_vote`.
    rel_tol : float
        Relative tolerance of :func:`relative_trend_status` on the last two checkpoint means.

    Returns
    -------
    dict
        ``summary`` (``{method: {quantity: checkpoint_mean_se(curve)}}``), ``trend``
        (``{method: {quantity: status}}`` of the last two means; a quantity whose mean is
        ``None`` there is left out), ``tests`` (:func:`paired_reference_tests`) and the
        ``per_opponent``, ``majority`` and ``verdict`` of :func:`family_vote`.

    Raises
    ------
    ValueError
        The errors of the three functions it calls.
    """
    if check_finite_number(rel_tol, "rel_tol") < 0:
        raise ValueError(f"rel_tol must be finite and >= 0, got {rel_tol!r}")
    tests = paired_reference_tests(curves, reference, steps, alpha=alpha)
    summary = {m: {q: checkpoint_mean_se(c) for q, c in cs.items()} for m, cs in curves.items()}
    trend = {m: {q: relative_trend_status(s["mean"][-2:], rel_tol=rel_tol)
                 for q, s in qs.items() if None not in s["mean"][-2:]}
             for m, qs in summary.items()}
    return {"summary": summary, "trend": trend, "tests": tests, **family_vote(tests, families)}


def family_vote_criterion(reference: str, methods: Sequence[str],
                          families: Mapping[str, Sequence[str]], *, n_trials: int, alpha: float,
                          on: str = "") -> str:
    """The rule of :func:`compare_with_reference` / :func:`family_vote`, in words, for a claim:
    ``reference`` against each other method of ``methods``, with the ``families`` named (and
    their quantities) and the majority ``len(families) // 2 + 1``. ``on`` says where the
    curves were measured (e.g. ``" on projector/isotropic"``).

    >>> family_vote_criterion("a", ["a", "b"], {"f": ("q",)}, n_trials=5, alpha=0.05)[:36]
    "a vs each of ['b']: a family (f = q)"

    Raises
    ------
    ValueError
        ``reference`` not in ``methods`` or alone there, empty ``families``, ``n_trials`` < 2
        or ``alpha`` not in [0, 1].
    """
    check_probability(alpha, "alpha")
    check_int(n_trials, "n_trials", minimum=2)  # a paired t-test needs two pairs
    if reference not in methods:
        raise ValueError(f"reference={reference!r} must be one of methods {list(methods)}")
    others = [m for m in methods if m != reference]
    if not others:
        raise ValueError(f"methods must hold a method other than {reference!r}, got {methods!r}")
    if not families:
        raise ValueError("families must name at least one family")
    named = "; ".join(f if list(qs) == [f] else f"{f} = {' and '.join(qs)}"
                      for f, qs in families.items())
    need = len(families) // 2 + 1
    return (f"{reference} vs each of {others}{on}: a family ({named}) says higher when two-sided "
            f"paired t-tests across {n_trials} trials (Holm over methods x estimators, per "
            f"summary) give p < {alpha} with a positive mean difference, at the final checkpoint "
            f"and on the AUC / steps; supported when >= {need} of {len(families)} families say "
            f"higher against every method; not supported when >= {need} say lower against any; "
            f"inconclusive otherwise")

def family_vote_table(per_opponent: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One table row per opponent of :func:`family_vote`'s ``per_opponent``: ``vs``, each
    family's outcome and ``families higher`` (the count).

    Raises
    ------
    ValueError
        ``per_opponent`` empty or a row without ``families`` and ``n_higher``.
    """
    if not per_opponent or any(not {"families", "n_higher"} <= set(p)
                               for p in per_opponent.values()):
        raise ValueError("per_opponent must be family_vote's non-empty per_opponent mapping")
    return [{"vs": o, **p["families"], "families higher": p["n_higher"]}
            for o, p in per_opponent.items()]
