"""Has a quantity stopped moving along a training budget? The plateau rule every verdict states.

A budget curve is a quantity (an R^2, a probe accuracy) measured at increasing training steps.
The rule: the curve has *plateaued* when its last two checkpoints differ by at most ``tol``
(default 0.01); otherwise it is *still rising* or *still falling* at its last step.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mitheory._validate import check_finite_number, check_int

PLATEAU_TOL = 0.01  # the last two checkpoints within 0.01 (of an R^2 or an accuracy in [0, 1])


def _check_tol(tol: float) -> float:
    check_finite_number(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    return float(tol)


def trend_status(values: Sequence[float], *, tol: float = PLATEAU_TOL) -> str:
    """``"plateaued"`` when the last two values are within ``tol``, else ``"still rising"`` or
    ``"still falling"``; ``"one checkpoint only"`` for fewer than two values."""
    tol = _check_tol(tol)
    vals = [check_finite_number(v, "values") for v in values]
    if len(vals) < 2:
        return "one checkpoint only"
    d = vals[-1] - vals[-2]
    return "plateaued" if abs(d) <= tol else ("still rising" if d > 0 else "still falling")


def plateau_status(steps: Sequence[int], values: Sequence[float], *,
                   tol: float = PLATEAU_TOL) -> dict[str, Any]:
    """The plateau rule on one budget curve, with the step count it was judged at.

    Parameters
    ----------
    steps : sequence of int
        Strictly increasing training steps of the checkpoints.
    values : sequence of float
        The quantity at each step (finite).
    tol : float
        Largest change between the last two checkpoints that counts as a plateau.

    Returns
    -------
    dict
        ``status`` (:func:`trend_status`), ``at_steps`` (the last step), ``last_change``
        (last minus second-to-last value, ``None`` with one checkpoint), ``tol`` and ``text``:
        ``"plateaued at 3000 steps (last change +0.004)"`` or ``"still rising at 3000 steps
        (last change +0.031)"``.

    Raises
    ------
    ValueError
        If the lengths differ, there is no checkpoint, steps are not strictly increasing
        positive integers, a value is not finite or ``tol`` is negative.
    """
    steps, values = list(steps), list(values)
    if len(steps) != len(values):
        raise ValueError(f"steps and values must have the same length, got {len(steps)} and "
                         f"{len(values)}")
    if not steps:
        raise ValueError("steps must hold at least one checkpoint, got none")
    for s in steps:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"steps must be non-negative integers, got {steps!r}")
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError(f"steps must be strictly increasing, got {steps!r}")
    status = trend_status(values, tol=tol)
    change = float(values[-1] - values[-2]) if len(values) > 1 else None
    text = f"{status} at {steps[-1]} steps" + (
        f" (last change {change:+.3f})" if change is not None else "")
    return {"status": status, "at_steps": steps[-1], "last_change": change, "tol": float(tol),
            "text": text}


def log_checkpoints(steps: int, n: int) -> list[int]:
    """``n`` log2-spaced checkpoints ending at ``steps`` (``steps / 2^(n-1)``, ..., ``steps``),
    rounded, duplicates dropped: the budget-curve grid of the studies.

    >>> log_checkpoints(3000, 4)
    [375, 750, 1500, 3000]
    """
    check_int(steps, "steps", minimum=1)
    check_int(n, "n", minimum=1)
    return sorted({max(1, round(steps / 2 ** (n - 1 - i))) for i in range(n)})


def even_checkpoints(steps: int, n: int) -> list[int]:
    """``n`` evenly spaced checkpoints ending at ``steps`` (``round(steps k / n)``, k = 1..n),
    duplicates dropped: the budget-curve grid of the image studies.

    >>> even_checkpoints(200, 3)
    [67, 133, 200]
    """
    check_int(steps, "steps", minimum=1)
    check_int(n, "n", minimum=1)
    return sorted({round(steps * (i + 1) / n) for i in range(n)})


def interval_means(steps: Sequence[int], values: Sequence[float],
                   bounds: Sequence[int]) -> list[float]:
    """Mean of the ``values`` logged at ``steps`` within each ``[bounds[i], bounds[i+1])``: e.g.
    the mean training loss between consecutive checkpoints (NaN for an interval with no value).

    >>> interval_means([0, 1, 2, 3], [4.0, 2.0, 1.0, 1.0], [0, 2, 4])
    [3.0, 1.0]
    """
    s, v = np.asarray(steps), np.asarray(values, dtype=float)
    if s.ndim != 1 or v.shape != s.shape:
        raise ValueError(f"steps and values must be 1-D of one length, got shapes {s.shape} "
                         f"and {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite (a NaN loss means training diverged)")
    b = [check_int(x, "bounds") for x in bounds]
    if len(b) < 2 or any(lo >= hi for lo, hi in zip(b, b[1:])):
        raise ValueError(f"bounds must be >= 2 increasing steps, got {list(bounds)}")
    return [float(v[(s >= lo) & (s < hi)].mean()) if np.any((s >= lo) & (s < hi))
            else float("nan") for lo, hi in zip(b, b[1:])]


def relative_trend_status(values: Sequence[float], *, rel_tol: float = 0.02) -> str:
    """:func:`trend_status` with a tolerance relative to the last value,
    ``tol = rel_tol * |values[-1]|``: for quantities without a natural scale (a loss, an
    entropy in nats), whose plateau is "the last two checkpoints within 2%".

    >>> relative_trend_status([2.0, 1.0, 0.99])
    'plateaued'
    """
    check_finite_number(rel_tol, "rel_tol")
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be >= 0, got {rel_tol!r}")
    rel = float(rel_tol)
    vals = [check_finite_number(v, "values") for v in values]
    return trend_status(vals, tol=rel * abs(vals[-1]) if vals else 0.0)
