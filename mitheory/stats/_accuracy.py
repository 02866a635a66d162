"""Accuracy of an estimator against a known truth over independent replicates."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mitheory._types import InfoValue
from mitheory._validate import check_array, check_finite_number, check_int


def replicate_accuracy(values: ArrayLike, truth: float, *,
                       se: Sequence[float | None] | None = None) -> dict[str, float]:
    r"""Mean, spread, bias and RMSE of replicate estimates :math:`v_1..v_R` of a known ``truth``.

    Parameters
    ----------
    values : array_like, shape (R,)
        One estimate per independent replicate (``R >= 1``, finite).
    truth : float
        The true value :math:`\theta`.
    se : sequence of float or None, optional
        Each replicate's own Monte Carlo standard error; ``None`` entries mean "not reported".

    Returns
    -------
    dict
        ``mean`` :math:`\bar v`, ``sd`` (``ddof=1``; NaN when ``R = 1``), ``bias``
        :math:`\bar v - \theta`, ``rmse`` :math:`\sqrt{\tfrac1R\sum_r (v_r-\theta)^2}` and
        ``mc_se``, the root mean square of ``se`` (NaN when ``se`` is absent or any entry is
        ``None``).
    """
    v = check_array(values, "values", ndim=1)
    if len(v) < 1:
        raise ValueError(f"values must hold at least one replicate, got shape {v.shape}")
    t = check_finite_number(truth, "truth")
    if se is not None and len(se) != len(v):
        raise ValueError(f"se has {len(se)} entries for {len(v)} values")
    return {"mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else math.nan,
            "bias": v.mean() - t, "rmse": math.sqrt(np.mean((v - t) ** 2)),
            "mc_se": math.sqrt(np.mean(np.square(se))) if se is not None and None not in se
            else math.nan}


def replicate_mean_se(sd: float, mc_se: float, n_replicates: int) -> float:
    r"""Standard error of a mean over ``n_replicates`` replicates, from two spreads.

    :math:`\max(s, s_{MC}) / \sqrt{R}`: the replicate standard deviation ``sd`` or, when it is
    larger, the replicates' own Monte Carlo standard error ``mc_se`` (a few replicates can
    agree by chance more closely than their Monte Carlo noise allows). A non-finite spread
    (NaN: one replicate, or no Monte Carlo SE reported; ``replicate_accuracy``'s convention)
    counts as absent, i.e. 0.

    Parameters
    ----------
    sd, mc_se : float
        ``replicate_accuracy``'s ``sd`` and ``mc_se``.
    n_replicates : int
        :math:`R \ge 1`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``n_replicates < 1`` or a finite spread is negative.

    Examples
    --------
    >>> replicate_mean_se(0.2, float("nan"), 4), replicate_mean_se(0.1, 1.5, 9)
    (0.1, 0.5)
    """
    n = check_int(n_replicates, "n_replicates", minimum=1)
    spreads = []
    for name, v in (("sd", sd), ("mc_se", mc_se)):
        v = float(v)
        if math.isfinite(v) and v < 0:
            raise ValueError(f"{name} must be >= 0, got {v!r}")
        spreads.append(v if math.isfinite(v) else 0.0)
    return max(spreads) / math.sqrt(n)


def estimate_accuracy(values: Sequence[InfoValue], truth: float) -> dict[str, Any]:
    """:func:`replicate_accuracy` of replicate ``InfoValue`` estimates, keys in their unit.

    Each value's own Monte Carlo standard error is read from ``details["se_<unit>"]`` where the
    estimator reports one.

    Parameters
    ----------
    values : sequence of InfoValue
        One estimate per independent replicate, all of one ``kind`` and ``unit``.
    truth : float
        The true value, in the values' unit.

    Returns
    -------
    dict
        ``kind``, then ``mean_<unit>``, ``sd_<unit>``, ``bias_<unit>``, ``rmse_<unit>``,
        ``mc_se_<unit>`` (as :func:`replicate_accuracy`) and ``values_<unit>`` (the floats).

    Raises
    ------
    TypeError
        If a value is not an ``InfoValue``.
    ValueError
        If ``values`` is empty or mixes kinds or units, or as :func:`replicate_accuracy`.
    """
    if len(values) == 0:
        raise ValueError("values must hold at least one replicate estimate, got none")
    bad = [type(v).__name__ for v in values if not isinstance(v, InfoValue)]
    if bad:
        raise TypeError(f"values must be InfoValue estimates, got {bad}")
    kinds, units = {v.kind for v in values}, {v.unit for v in values}
    if len(kinds) > 1 or len(units) > 1:
        raise ValueError(f"values must share one kind and unit, got {kinds} and {units}")
    unit, floats = values[0].unit, [float(v) for v in values]
    acc = replicate_accuracy(floats, truth, se=[v.details.get(f"se_{unit}") for v in values])
    return {"kind": values[0].kind, **{f"{k}_{unit}": v for k, v in acc.items()},
            f"values_{unit}": floats}
