"""How well the Taylor-series log det of MMI (Chang et al. 2024) approximates the exact log det:
the error table over orders and rescalings, with its bound, and the two properties it must show.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

import numpy as np
import torch

from mitheory._validate import check_array, check_finite_tensor, check_int, check_positive
from mitheory.objectives._mmi import (BetaRule, logdet_exact, logdet_taylor,
                                      logdet_taylor_error_bound, taylor_rescaling)

TAYLOR_RULES: tuple[str, ...] = get_args(BetaRule)  # the rescaling rules of taylor_rescaling


def logdet_taylor_errors(mats: Mapping[str, Any], *, max_order: int,
                         fixed_betas: Sequence[float] = ()) -> list[dict[str, Any]]:
    r"""The Taylor log det's absolute error at orders ``1..max_order``, per matrix and rescaling.

    Parameters
    ----------
    mats : mapping of str to torch.Tensor or array, shape (n, n)
        Name -> a symmetric positive-definite matrix (a covariance), as in
        :func:`logdet_taylor`; arrays are used as float64 tensors.
    max_order : int
        Highest series order :math:`K`; every order ``1..K`` is evaluated.
    fixed_betas : sequence of float, default ()
        Fixed rescalings evaluated after the three rules ``"trace"``, ``"frobenius"`` and
        ``"spectral"`` (:func:`taylor_rescaling`).

    Returns
    -------
    list of dict
        Per matrix, then per beta (the rules, then ``fixed_betas``): ``matrix`` (its name),
        ``beta`` (its ``str``), ``beta_value`` (:func:`taylor_rescaling`), ``eig_min`` /
        ``eig_max`` of the matrix, ``radius`` :math:`\max_i |\beta\lambda_i - 1|` (the
        spectral radius of :math:`\beta S - I`: the series converges for radius < 1),
        ``abs_error`` (list over orders of :math:`|\text{logdet\_taylor} - \log\det S|`) and
        ``bound`` (list over orders of :func:`logdet_taylor_error_bound`, ``inf`` when
        divergent).

    Raises
    ------
    ValueError
        If ``mats`` is empty, a matrix is not a finite positive-definite square matrix,
        ``max_order < 1`` or a fixed beta is not positive.
    """
    max_order = check_int(max_order, "max_order", minimum=1)
    if not isinstance(mats, Mapping) or len(mats) == 0:
        raise ValueError(f"mats must be a non-empty mapping of name -> matrix, got {mats!r}")
    for beta in fixed_betas:
        check_positive(beta, "fixed_betas")
    orders = range(1, max_order + 1)
    rows = []
    for name, mat in mats.items():
        if isinstance(mat, torch.Tensor):
            check_finite_tensor(mat, f"mats[{name!r}]")
        else:
            mat = torch.from_numpy(check_array(mat, f"mats[{name!r}]", ndim=2))
        exact, eig = float(logdet_exact(mat)), torch.linalg.eigvalsh(mat)
        for beta in (*TAYLOR_RULES, *fixed_betas):
            b = taylor_rescaling(mat, beta=beta)
            rows.append({"matrix": name, "beta": str(beta), "beta_value": b,
                         "eig_min": float(eig[0]), "eig_max": float(eig[-1]),
                         "radius": float(max(abs(b * eig[0] - 1), abs(b * eig[-1] - 1))),
                         "abs_error": [abs(float(logdet_taylor(mat, order=k, beta=beta)) - exact)
                                       for k in orders],
                         "bound": [logdet_taylor_error_bound(mat, order=k, beta=beta)
                                   for k in orders]})
    return rows


def logdet_taylor_error_checks(rows: Sequence[Mapping[str, Any]], *, rtol: float = 1e-6,
                               atol: float = 1e-9) -> dict[str, bool]:
    r"""Whether rows of :func:`logdet_taylor_errors` show the two properties the theory gives.

    Parameters
    ----------
    rows : sequence of dict
        Rows with ``abs_error``, ``bound`` (lists over orders) and ``radius``.
    rtol, atol : float
        Round-off allowance: an error counts as within its bound when
        ``error <= bound (1 + rtol) + atol``, and as not rising when the step up is ``<= atol``.

    Returns
    -------
    dict
        ``bound_holds``: every error is within its bound, over the rows whose bound at the
        highest order is finite (a convergent series); ``error_decreasing_in_order_when_
        convergent``: the error does not rise with the order in the rows with radius < 0.999
        (inside the convergence region, with a margin for a radius that rounds to 1).

    Raises
    ------
    ValueError
        If a row lacks a field, its ``abs_error`` and ``bound`` differ in length, or ``rtol`` /
        ``atol`` is negative or not finite.
    """
    check_positive(rtol, "rtol", strict=False)
    check_positive(atol, "atol", strict=False)
    for i, r in enumerate(rows):
        missing = [k for k in ("abs_error", "bound", "radius") if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no field(s) {missing}")
        if len(r["abs_error"]) != len(r["bound"]):
            raise ValueError(f"rows[{i}] has {len(r['abs_error'])} errors for "
                             f"{len(r['bound'])} bounds")
    conv = [r for r in rows if np.isfinite(r["bound"][-1])]
    bound_ok = all(e <= b * (1 + rtol) + atol for r in conv
                   for e, b in zip(r["abs_error"], r["bound"]))
    dec = all(np.all(np.diff(r["abs_error"]) <= atol) for r in conv if r["radius"] < 0.999)
    return {"bound_holds": bool(bound_ok), "error_decreasing_in_order_when_convergent": bool(dec)}
