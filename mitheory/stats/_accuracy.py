"""Accuracy of an estimator against a known truth over independent replicates."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mitheory._validate import check_array, check_finite_number


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
