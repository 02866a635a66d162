r"""Paired comparisons across matched replicates (e.g. two methods trained with the same seeds).

The paired t-test (Student 1908; scipy ``ttest_rel``), the exact Wilcoxon signed-rank test
(Wilcoxon 1945) and Holm's step-down adjustment of a family of p-values (Holm 1979).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mitheory._validate import check_array, check_option, check_same_length

PairedMethod = Literal["t", "wilcoxon"]
Alternative = Literal["two-sided", "greater", "less"]
_ALTERNATIVES = ("two-sided", "greater", "less")


@dataclass(frozen=True)
class PairedTest:
    """Result of :func:`paired_test` on the differences ``d = x - y``.

    ``statistic`` is Student's t (``method="t"``, ``df = n_pairs - 1``) or the Wilcoxon
    signed-rank sum of the positive differences W+ (``method="wilcoxon"``, ``df=None``;
    ``n_pairs`` then counts the non-zero differences it ranks). ``se_difference`` is
    ``sd(d, ddof=1) / sqrt(n)`` over all pairs.
    """

    method: str
    alternative: str
    n_pairs: int
    mean_difference: float
    se_difference: float
    statistic: float
    df: int | None
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _differences(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    xa, ya = check_array(x, "x", ndim=1), check_array(y, "y", ndim=1)
    check_same_length(xa, ya, "x", "y")
    if xa.shape[0] < 2:
        raise ValueError(f"x and y need at least 2 pairs, got {xa.shape[0]}")
    return xa - ya


def _signed_rank_counts(ranks2: np.ndarray) -> np.ndarray:
    """Number of sign assignments giving each value of 2 W+ (doubled ranks are integers, so
    midranks of ties are exact): subset-sum counts by dynamic programming, O(n * sum)."""
    total = int(ranks2.sum())
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for r in ranks2.astype(int):  # every doubled rank is >= 1
        counts[r:] += counts[:-r].copy()
    return counts


def _tail_p(p_greater: float, p_less: float, alternative: str) -> float:
    if alternative == "greater":
        return p_greater
    if alternative == "less":
        return p_less
    return min(1.0, 2.0 * min(p_greater, p_less))


def paired_test(x: ArrayLike, y: ArrayLike, *, method: PairedMethod = "t",
                alternative: Alternative = "two-sided") -> PairedTest:
    r"""Test whether paired samples ``x`` and ``y`` differ in location (``d = x - y``).

    Parameters
    ----------
    x, y : array_like, shape (n_pairs,)
        Matched measurements (pair i shares seed i, say); at least 2 pairs.
    method : {"t", "wilcoxon"}
        ``"t"``: paired Student t-test (normal differences). ``"wilcoxon"``: exact signed-rank
        test, distribution-free; zero differences are dropped (Wilcoxon's rule, scipy's
        ``zero_method="wilcox"``), tied absolute differences get midranks and the exact
        permutation distribution of those ranks.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: the alternative is that ``x`` is larger than ``y``.

    Returns
    -------
    PairedTest
        Mean and standard error of ``d``, the statistic and its p-value (exact for the
        Wilcoxon test; from Student's t distribution with ``n - 1`` degrees of freedom).

    Raises
    ------
    ValueError
        NaN/inf, not 1-D, different lengths, fewer than 2 pairs, all differences equal (t:
        the statistic is undefined) or all zero (Wilcoxon), an unknown option.

    Notes
    -----
    .. math:: t = \frac{\bar d}{s_d/\sqrt n}, \qquad W^+ = \sum_{i: d_i > 0} \mathrm{rank}|d_i|.

    With n pairs the smallest two-sided exact Wilcoxon p-value is :math:`2/2^n` (0.0625 at
    n = 5): with few replicates only the t-test can reach the 5% level.

    Examples
    --------
    >>> res = paired_test([2.0, 3.1, 4.2, 5.0], [1.0, 2.0, 3.5, 3.9], alternative="greater")
    >>> round(res.p_value, 4)
    0.001
    """
    check_option(method, "method", ("t", "wilcoxon"))
    check_option(alternative, "alternative", _ALTERNATIVES)
    d = _differences(x, y)
    n = d.shape[0]
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
    if method == "t":
        if not se > 0:
            raise ValueError(f"x - y has zero variance (all {n} differences equal {d[0]!r}): "
                             "the paired t statistic is undefined")
        t = mean / se
        p = _tail_p(float(stats.t.sf(t, n - 1)), float(stats.t.cdf(t, n - 1)), alternative)
        return PairedTest("t", alternative, n, mean, se, float(t), n - 1, p)
    nz = d[d != 0]
    if nz.size == 0:
        raise ValueError(f"x - y is zero in all {n} pairs: the signed-rank test is undefined")
    ranks2 = 2.0 * stats.rankdata(np.abs(nz))  # (m,) doubled midranks, integers
    w2 = int(round(ranks2[nz > 0].sum()))
    counts = _signed_rank_counts(ranks2)
    prob = counts / counts.sum()
    p = _tail_p(float(prob[w2:].sum()), float(prob[:w2 + 1].sum()), alternative)
    return PairedTest("wilcoxon", alternative, int(nz.size), mean, se, w2 / 2.0, None,
                      min(1.0, p))


def holm_adjust(p_values: ArrayLike) -> np.ndarray:
    r"""Holm's step-down adjusted p-values of a family of tests (family-wise error control).

    Parameters
    ----------
    p_values : array_like, shape (m,)
        Unadjusted p-values in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (m,)
        Adjusted p-values in the input order: with :math:`p_{(1)}\le\dots\le p_{(m)}`,
        :math:`\tilde p_{(i)} = \min(1, \max_{j\le i} (m - j + 1)\,p_{(j)})`. Rejecting where
        :math:`\tilde p < \alpha` keeps the family-wise error rate at :math:`\alpha`.

    Raises
    ------
    ValueError
        Empty input, NaN, or a value outside [0, 1].

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = check_array(p_values, "p_values", ndim=1)
    if p.size == 0:
        raise ValueError("p_values must hold at least one p-value, got an empty array")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p_values must lie in [0, 1], got min {p.min()!r}, max {p.max()!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out
