"""Correlation coefficients with confidence intervals: Pearson or Spearman r and its p-value
(``pingouin.corr``), a Fisher-z interval (``pingouin.compute_esci``) and a seeded bootstrap
percentile interval over resampled pairs.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pingouin as pg
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import (check_array, check_int, check_nonconstant, check_option,
                                check_same_length)

CORRELATION_METHODS: tuple[str, ...] = ("pearson", "spearman")
CI_METHODS: tuple[str, ...] = ("bootstrap_percentile", "fisher_z")


@dataclass(frozen=True)
class Correlation:
    """A correlation coefficient, its two-sided p-value and a confidence interval.

    Attributes
    ----------
    r : float
        Sample Pearson or Spearman coefficient (an estimate of the population coefficient).
    ci_low, ci_high : float
        The interval named by ``ci_method`` at level ``confidence``.
    p_value : float
        Two-sided p-value of ``r = 0`` (t distribution with n - 2 degrees of freedom, as scipy).
    n : int
        Number of pairs.
    method : {"pearson", "spearman"}
    ci_method : {"bootstrap_percentile", "fisher_z"}
    confidence : float
    fisher_ci_low, fisher_ci_high : float
        The Fisher-z interval (always computed, whichever ``ci_method`` is reported).
    n_boot : int
        Bootstrap resamples drawn (0 for the Fisher-z interval); ``n_boot_degenerate`` of them
        had a constant coordinate (no coefficient) and were left out of the percentiles.
    """

    r: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    ci_method: str
    confidence: float
    fisher_ci_low: float
    fisher_ci_high: float
    n_boot: int = 0
    n_boot_degenerate: int = 0

    def __float__(self) -> float:
        return float(self.r)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of ``x``, ``y`` (B, n); NaN where a row is constant."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(xc * xc, axis=1) * np.sum(yc * yc, axis=1))  # (B,)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sum(xc * yc, axis=1) / den
    # a resample of equal values has den 0 (or ~1e-30 from rounding): no coefficient
    scale = np.maximum(np.abs(x).max(axis=1) * np.abs(y).max(axis=1), 1e-300)
    return np.where(den > 1e-12 * x.shape[1] * scale, np.clip(r, -1.0, 1.0), np.nan)


def correlation(x: ArrayLike, y: ArrayLike, *,
                method: Literal["pearson", "spearman"] = "pearson",
                confidence: float = 0.95,
                ci_method: Literal["bootstrap_percentile", "fisher_z"] = "bootstrap_percentile",
                n_boot: int = 2000, seed: Seed = 0) -> Correlation:
    r"""Correlation of paired samples with a p-value and a confidence interval.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Paired observations; ``n >= 4`` (the Fisher-z interval has standard error
        :math:`1/\sqrt{n - 3}`).
    method : {"pearson", "spearman"}
        Spearman is the Pearson r of the ranks (average ranks for ties).
    confidence : float, default 0.95
        Level of both intervals, in (0, 1).
    ci_method : {"bootstrap_percentile", "fisher_z"}
        Which interval ``ci_low``/``ci_high`` report; the Fisher-z one is always in
        ``fisher_ci_low``/``fisher_ci_high``.
    n_boot : int, default 2000
        Bootstrap resamples of the n pairs (drawn with replacement, the coefficient recomputed,
        ranks recomputed for Spearman).
    seed : int, Generator, SeedSequence or None
        The bootstrap resampling; the same seed gives the same interval.

    Returns
    -------
    Correlation
        ``r`` and ``p_value`` from ``pingouin.corr`` (scipy's pearsonr / spearmanr).

    Notes
    -----
    Fisher-z interval (``pingouin.compute_esci``, used by pingouin for both methods):

    .. math:: \tanh\left(\operatorname{artanh} r \pm z_{(1+c)/2} / \sqrt{n - 3}\right)

    Bootstrap percentile interval: the :math:`(1-c)/2` and :math:`(1+c)/2` quantiles of the
    resampled coefficients (Efron & Tibshirani 1993, ch. 13). Both assume independent pairs.

    Raises
    ------
    ValueError
        Length mismatch, NaN/inf, fewer than 4 pairs, a constant ``x`` or ``y``, an unknown
        ``method``/``ci_method``, ``confidence`` outside (0, 1), ``n_boot < 1`` for the
        bootstrap, or a bootstrap in which fewer than half the resamples have a coefficient.

    Examples
    --------
    >>> res = correlation([1.0, 2.0, 3.0, 4.0, 6.0], [1.1, 1.9, 3.2, 3.9, 6.5], seed=0)
    >>> round(res.r, 4), res.ci_method
    (0.9956, 'bootstrap_percentile')
    """
    xa = check_array(x, "x", ndim=1)
    ya = check_array(y, "y", ndim=1)
    check_same_length(xa, ya, "x", "y")
    check_option(method, "method", CORRELATION_METHODS)
    check_option(ci_method, "ci_method", CI_METHODS)
    if len(xa) < 4:
        raise ValueError(f"x and y need at least 4 pairs (the Fisher-z interval has standard "
                         f"error 1/sqrt(n - 3)), got n={len(xa)}")
    check_nonconstant(xa[:, None], "x")
    check_nonconstant(ya[:, None], "y")
    try:
        conf = float(confidence)
    except (TypeError, ValueError):
        raise TypeError(f"confidence must be a number, got {confidence!r}") from None
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n = len(xa)
    with warnings.catch_warnings():  # pingouin's power column (unused here) warns at n = 4
        warnings.filterwarnings("ignore", message="Sample size is too small to estimate power")
        row = pg.corr(xa, ya, method=method)
    r, p = float(row["r"].iloc[0]), float(row["p_val"].iloc[0])
    if abs(r) >= 1.0:  # artanh(+-1) is infinite: the interval collapses onto r (as pingouin)
        fisher = (r, r)
    else:
        lo, hi = pg.compute_esci(stat=r, nx=n, ny=n, eftype="r", confidence=conf, decimals=15)
        fisher = (float(lo), float(hi))
    n_boot_used, degenerate, ci = 0, 0, fisher
    if ci_method == "bootstrap_percentile":
        n_boot_used = check_int(n_boot, "n_boot", minimum=1)
        idx = as_generator(seed).integers(0, n, size=(n_boot_used, n))  # (n_boot, n)
        bx, by = xa[idx], ya[idx]
        if method == "spearman":
            bx, by = rankdata(bx, axis=1), rankdata(by, axis=1)
        rb = _pearson_rows(bx, by)
        degenerate = int(np.count_nonzero(np.isnan(rb)))
        if degenerate > n_boot_used / 2:
            raise ValueError(f"x and y: {degenerate} of {n_boot_used} bootstrap resamples have "
                             f"a constant coordinate (too few distinct values among n={n})")
        q = np.quantile(rb[~np.isnan(rb)], [(1 - conf) / 2, (1 + conf) / 2])
        ci = (float(q[0]), float(q[1]))
    return Correlation(r=r, ci_low=ci[0], ci_high=ci[1], p_value=p, n=n, method=method,
                       ci_method=ci_method, confidence=conf, fisher_ci_low=fisher[0],
                       fisher_ci_high=fisher[1], n_boot=n_boot_used,
                       n_boot_degenerate=degenerate)
