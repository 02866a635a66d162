"""Multivariate normality tests: Henze-Zirkler (pingouin), Mardia's skewness and kurtosis, and
D'Agostino-Pearson per dimension (scipy) with a dependence-valid combination of the p-values.

Used for claim C7 (Fig. 1 of Shwartz-Ziv et al. 2023, paper 004): are SSL outputs Gaussian under
small input noise? :func:`normality_test` wraps each test with the guards the raw ones lack:
subsampling (HZ builds n x n matrices), projection of high-dimensional embeddings, and a
numerical-rank check (pingouin silently returns ``hz = 4 n`` on a singular covariance).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from mitheory._rng import as_generator, spawn
from mitheory._types import Seed
from mitheory._validate import (check_array, check_int, check_option, check_probability,
                                check_samples)

Method = Literal["hz", "mardia", "dagostino"]
Projection = Literal["pca", "random"]
NORMALITY_METHODS: tuple[str, ...] = ("hz", "mardia", "dagostino")
#: relative tolerance of the numerical rank: a singular value of the centred data below
#: ``RANK_RTOL * largest`` counts as zero, i.e. the covariance's condition number must stay
#: below 1e12. pingouin's own test (``matrix_rank`` of the covariance, numpy's default tolerance
#: ``dim * eps``) is looser: on the data's singular values it is ``sqrt(dim * eps)`` ~ 1e-7.
RANK_RTOL = 1e-6
#: samples per dimension that every test requires (the moment and covariance estimates behind
#: all three tests are only asymptotically calibrated; below ~5 per dimension they are not)
MIN_SAMPLES_PER_DIM = 5
#: the fewest samples for any test: scipy's ``kurtosistest`` warns below 20 observations
MIN_SAMPLES = 20
#: the most samples HZ accepts: pingouin holds several (n, n) float64 matrices (5000: ~0.2 GB
#: each, about 1 GB live), see reference/imagescale_facts.md E.1
HZ_MAX_SAMPLES = 5000


@dataclass(frozen=True)
class NormalityTest:
    """Result of a normality test of ``x`` (rows = samples).

    Attributes
    ----------
    method : {"hz", "mardia", "dagostino"}
    statistic : float
        HZ statistic; Mardia: the larger of the two standardised statistics is not meaningful,
        so this is the skewness chi-square statistic (kurtosis z in ``details``);
        D'Agostino: the largest per-dimension omnibus statistic ``s^2 + k^2``.
    p_value : float
        The test's p-value (for Mardia and D'Agostino the stated combination, see ``details``).
    alpha : float
    reject : bool
        ``p_value <= alpha`` (normality rejected at level ``alpha``).
    n_samples : int
        Rows tested (after subsampling).
    dim : int
        Columns tested (after projection).
    n_input, dim_input : int
        Shape of the input.
    rank_input : int
        Numerical rank of the centred input (tolerance ``RANK_RTOL``).
    projection : {"none", "pca", "random"}
    subsampled : bool
        Whether ``n_samples < n_input`` (a seeded subsample without replacement).
    details : dict
        Method-specific numbers (component statistics and p-values, per-dimension p-values).
    """

    method: str
    statistic: float
    p_value: float
    alpha: float
    reject: bool
    n_samples: int
    dim: int
    n_input: int
    dim_input: int
    rank_input: int
    projection: str
    subsampled: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of every field."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def numerical_rank(x: ArrayLike) -> int:
    """Numerical rank of the column-centred ``x`` (n_samples, dim): the number of singular values
    above ``RANK_RTOL`` times the largest (0 for constant data)."""
    xa = check_samples(x, "x", min_samples=2)
    sv = np.linalg.svd(xa - xa.mean(0), compute_uv=False)
    return int(np.sum(sv > RANK_RTOL * sv[0])) if sv[0] > 0 else 0


def _checked(x: ArrayLike, name: str, *, min_dim: int = 1) -> np.ndarray:
    """Finite 2-D float64 samples with enough rows per column and a full-rank covariance."""
    xa = check_samples(x, name, min_samples=2)
    n, d = xa.shape
    if d < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} columns for this test, got "
                         f"shape {xa.shape}")
    need = max(MIN_SAMPLES, MIN_SAMPLES_PER_DIM * d)
    if n < need:
        raise ValueError(f"{name} needs at least {need} samples for dim {d} (max({MIN_SAMPLES}, "
                         f"{MIN_SAMPLES_PER_DIM} x dim)), got shape {xa.shape}; project to fewer "
                         "dimensions (normality_test's max_dim) or draw more samples")
    rank = numerical_rank(xa)
    if rank < d:
        raise ValueError(f"{name} (shape {xa.shape}) has numerical rank {rank} < dim {d} "
                         f"(relative tolerance {RANK_RTOL:g}): its covariance is singular, so "
                         "the test is undefined (pingouin would return hz = 4 n); drop the "
                         "collapsed directions or project to at most that many dimensions")
    return xa


def _whitened(xa: np.ndarray) -> np.ndarray:
    """Rows ``S^{-1/2}(x_i - mean)`` with the biased (1/n) covariance ``S``; (n, dim)."""
    xc = xa - xa.mean(0)
    evals, evecs = np.linalg.eigh(xc.T @ xc / len(xa))
    return xc @ evecs / np.sqrt(evals)


def henze_zirkler(x: ArrayLike, *, alpha: float = 0.01) -> NormalityTest:
    """Henze-Zirkler test of multivariate normality (``pingouin.multivariate_normality``).

    Parameters
    ----------
    x : array (n_samples, dim)
        ``dim >= 2`` (pingouin rejects univariate input), ``MIN_SAMPLES_PER_DIM * dim <=
        n_samples <= HZ_MAX_SAMPLES``, full numerical rank.
    alpha : float
        Level of ``reject``.

    Returns
    -------
    NormalityTest
        ``statistic`` is HZ, ``p_value`` pingouin's log-normal approximation of its null law.

    Notes
    -----
    With Mahalanobis distances under the biased covariance and smoothing
    :math:`\\beta = 2^{-1/2} ((2p+1)/4)^{1/(p+4)} n^{1/(p+4)}` (Henze & Zirkler 1990),

    .. math:: HZ = \\frac{1}{n}\\sum_{j,k} e^{-\\beta^2 D_{jk}/2}
              - 2(1+\\beta^2)^{-p/2}\\sum_j e^{-\\beta^2 D_j/(2(1+\\beta^2))}
              + n(1+2\\beta^2)^{-p/2}.

    The rank is checked first: on a singular covariance pingouin returns ``hz = 4 n`` (p ~ 0)
    without a warning.

    References
    ----------
    Henze, N. & Zirkler, B. (1990). A class of invariant consistent tests for multivariate
    normality. Comm. Statist. Theory Methods 19(10), 3595-3617.
    """
    import pingouin

    alpha = check_probability(alpha, "alpha")
    xa = _checked(x, "x", min_dim=2)
    if len(xa) > HZ_MAX_SAMPLES:
        raise ValueError(f"x has {len(xa)} samples (shape {xa.shape}) but Henze-Zirkler builds "
                         f"n x n matrices: at most HZ_MAX_SAMPLES={HZ_MAX_SAMPLES}; subsample "
                         "(normality_test's max_samples)")
    hz, pval, _ = pingouin.multivariate_normality(xa, alpha=alpha)
    return _result("hz", float(hz), float(pval), alpha, xa, {})


def mardia(x: ArrayLike, *, alpha: float = 0.01) -> NormalityTest:
    """Mardia's multivariate skewness and kurtosis tests, combined by Bonferroni.

    Parameters
    ----------
    x : array (n_samples, dim)
    alpha : float

    Returns
    -------
    NormalityTest
        ``statistic`` is the skewness chi-square statistic; ``details`` holds ``b1``, ``b2``,
        ``skewness_statistic``, ``skewness_df``, ``skewness_p``, ``kurtosis_z``, ``kurtosis_p``;
        ``p_value = min(1, 2 min(skewness_p, kurtosis_p))``.

    Notes
    -----
    With :math:`m_{ij} = (x_i - \\bar x)^\\top S^{-1}(x_j - \\bar x)` and the biased covariance
    :math:`S` (Mardia 1970, Eqs. (2.5), (2.7)):

    .. math:: b_{1,p} = \\frac{1}{n^2}\\sum_{i,j} m_{ij}^3, \\qquad
              b_{2,p} = \\frac{1}{n}\\sum_i m_{ii}^2.

    Skewness: :math:`A = n k\\, b_{1,p}/6 \\sim \\chi^2_{p(p+1)(p+2)/6}` with the small-sample
    correction :math:`k = (p+1)(n+1)(n+3) / (n((n+1)(p+1) - 6))` of Mardia (1974, Eq. (2.24)),
    always applied (``k -> 1`` as ``n`` grows; it matches the chi-square mean to the exact mean
    of :math:`b_{1,p}` under normality). Kurtosis: :math:`z = (b_{2,p} - p(p+2)(n-1)/(n+1)) /
    \\sqrt{8p(p+2)/n} \\sim N(0, 1)`, two-sided, centred at the exact null mean of
    :math:`b_{2,p}` (Mardia 1974, Eq. (2.21)). The two p-values are dependent; the Bonferroni
    combination is valid under any dependence.
    ``b1`` is computed as :math:`\\sum_{abc} (\\frac1n\\sum_i z_{ia} z_{ib} z_{ic})^2` from the
    whitened rows :math:`z_i` (equal to the double sum, in O(n p^3) time and O(p^3) memory).

    References
    ----------
    Mardia, K. V. (1970). Measures of multivariate skewness and kurtosis with applications.
    Biometrika 57(3), 519-530. Mardia, K. V. (1974). Applications of some measures of
    multivariate skewness and kurtosis in testing normality and robustness studies. Sankhya B
    36(2), 115-128.
    """
    alpha = check_probability(alpha, "alpha")
    xa = _checked(x, "x")
    n, p = xa.shape
    z = _whitened(xa)  # (n, p)
    third = np.einsum("ia,ib,ic->abc", z, z, z, optimize=True) / n  # (p, p, p)
    b1 = float(np.sum(third**2))
    b2 = float(np.mean(np.sum(z**2, axis=1) ** 2))
    df = p * (p + 1) * (p + 2) / 6
    k = (p + 1) * (n + 1) * (n + 3) / (n * ((n + 1) * (p + 1) - 6))
    skew_stat = n * k * b1 / 6
    p_skew = float(sps.chi2.sf(skew_stat, df))
    kurt_z = (b2 - p * (p + 2) * (n - 1) / (n + 1)) / np.sqrt(8 * p * (p + 2) / n)
    p_kurt = float(2 * sps.norm.sf(abs(kurt_z)))
    details = {"b1": b1, "b2": b2, "skewness_statistic": float(skew_stat), "skewness_df": df,
               "small_sample_factor": float(k), "skewness_p": p_skew,
               "kurtosis_z": float(kurt_z), "kurtosis_p": p_kurt,
               "combination": "bonferroni over (skewness, kurtosis)"}
    return _result("mardia", float(skew_stat), min(1.0, 2 * min(p_skew, p_kurt)), alpha, xa,
                   details)


def cauchy_combination(p_values: ArrayLike) -> float:
    """Cauchy combination of p-values, valid under arbitrary dependence (asymptotically).

    .. math:: T = \\frac1m\\sum_j \\tan((1/2 - p_j)\\pi), \\qquad p = 1/2 - \\arctan(T)/\\pi

    (Liu & Xie 2020, Eq. (2)); the tail of ``T`` is Cauchy whatever the correlation of the
    underlying normal statistics. p-values of exactly 0 give 0.
    """
    p = check_array(p_values, "p_values", ndim=1)
    if not p.size:
        raise ValueError("p_values must hold at least one p-value, got an empty array")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p_values must lie in [0, 1], got min {p.min()!r}, max {p.max()!r}")
    if np.any(p == 0):
        return 0.0
    t = np.mean(np.tan((0.5 - p) * np.pi))
    return float(sps.cauchy.sf(t))


def dagostino_pearson(x: ArrayLike, *, alpha: float = 0.01) -> NormalityTest:
    """D'Agostino-Pearson omnibus test on each column (``scipy.stats.normaltest``), combined by
    Bonferroni.

    Parameters
    ----------
    x : array (n_samples, dim)
        Each column is tested on its own (at least ``MIN_SAMPLES`` rows: scipy's kurtosis test).
    alpha : float
        Level of ``reject``, applied to the combined p-value.

    Returns
    -------
    NormalityTest
        ``p_value = min(1, dim * min_j p_j)`` (Bonferroni); ``details`` holds the per-column
        ``statistics`` and ``p_values`` and the ``cauchy_p`` (:func:`cauchy_combination`).

    Notes
    -----
    The columns of correlated data give dependent tests, so Fisher's and Stouffer's
    combinations (which assume independence) are invalid. Bonferroni's min-p bound
    :math:`P(\\min_j p_j \\le \\alpha/m) \\le \\alpha` holds under any dependence, exactly; the
    Cauchy combination is valid under dependence only asymptotically and is reported as a
    detail. Only the marginals are tested: a non-Gaussian law with Gaussian marginals passes.

    References
    ----------
    D'Agostino, R. B. & Pearson, E. S. (1973). Tests for departure from normality.
    Biometrika 60(3), 613-622. Liu, Y. & Xie, J. (2020). Cauchy combination test. JASA 115.
    """
    alpha = check_probability(alpha, "alpha")
    xa = _checked(x, "x")
    stat, pvals = sps.normaltest(xa, axis=0)
    d = xa.shape[1]
    details = {"statistics": stat.tolist(), "p_values": pvals.tolist(),
               "cauchy_p": cauchy_combination(pvals), "combination": "bonferroni min-p"}
    return _result("dagostino", float(np.max(stat)), min(1.0, d * float(np.min(pvals))), alpha,
                   xa, details)


_TESTS = {"hz": henze_zirkler, "mardia": mardia, "dagostino": dagostino_pearson}


def _result(method: str, statistic: float, p_value: float, alpha: float, xa: np.ndarray,
            details: dict) -> NormalityTest:
    n, d = xa.shape
    return NormalityTest(method=method, statistic=statistic, p_value=p_value, alpha=alpha,
                         reject=bool(p_value <= alpha), n_samples=n, dim=d, n_input=n,
                         dim_input=d, rank_input=d, projection="none", subsampled=False,
                         details=details)


def project_samples(x: ArrayLike, dim: int, *, projection: Projection = "pca",
                    seed: Seed = None) -> np.ndarray:
    """``x`` (n_samples, dim_x) projected to ``dim`` columns (unchanged if ``dim >= dim_x``).

    ``"pca"``: the centred data onto its top-``dim`` principal axes (data-dependent: the axes
    are fitted on the same rows). ``"random"``: onto ``dim`` orthonormal directions drawn from
    ``seed`` (a Gaussian matrix, QR-orthonormalised), independent of the data. A linear image of
    a Gaussian is Gaussian, so either keeps the null hypothesis.
    """
    xa = check_samples(x, "x", min_samples=2)
    dim = check_int(dim, "dim", minimum=1)
    check_option(projection, "projection", ("pca", "random"))
    if dim >= xa.shape[1]:
        return xa
    xc = xa - xa.mean(0)
    if projection == "pca":
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
        return xc @ vt[:dim].T
    q, _ = np.linalg.qr(as_generator(seed).standard_normal((xa.shape[1], dim)))
    return xc @ q


def normality_tests(x: ArrayLike, *, methods: Sequence[Method] = NORMALITY_METHODS,
                    alpha: float = 0.01, max_dim: int | None = None,
                    projection: Projection = "pca", max_samples: int | None = 2000,
                    seed: Seed = None) -> dict[str, NormalityTest]:
    """Several normality tests of the same subsample and projection of ``x``.

    Parameters
    ----------
    x : array (n_samples, dim_x)
        Samples, e.g. network outputs of one prototype under input noise.
    methods : sequence of {"hz", "mardia", "dagostino"}
    alpha : float
        Level of each result's ``reject`` (0.01: the "99%" line of Fig. 1).
    max_dim : int or None
        Project to this many dimensions when ``dim_x`` is larger (``None``: test all).
    projection : {"pca", "random"}
        See :func:`project_samples`.
    max_samples : int or None
        Test a seeded subsample of this many rows when ``n_samples`` is larger (``None``: all;
        HZ then still requires ``n_samples <= HZ_MAX_SAMPLES``).
    seed : int, Generator or None
        Streams of the subsample and the random projection.

    Returns
    -------
    dict of str to NormalityTest
        Keyed by method, in the order given.

    Raises
    ------
    ValueError
        NaN/inf, not 2-D (1-D is one column), too few samples for the tested dimension, a
        tested covariance of numerical rank below its dimension (naming ``x``'s shape and
        rank), unknown method or projection, HZ on one dimension or above ``HZ_MAX_SAMPLES``.

    Examples
    --------
    >>> z = np.random.default_rng(0).normal(size=(500, 16))
    >>> res = normality_tests(z, max_dim=4, seed=0)
    >>> [(m, r.dim, r.reject) for m, r in res.items()]
    [('hz', 4, False), ('mardia', 4, False), ('dagostino', 4, False)]
    """
    xa = check_samples(x, "x", min_samples=2)
    if isinstance(methods, str) or not len(methods):
        raise ValueError(f"methods must be a non-empty sequence of {NORMALITY_METHODS}, got "
                         f"{methods!r}")
    for m in methods:
        check_option(m, "methods", NORMALITY_METHODS)
    alpha = check_probability(alpha, "alpha")
    check_option(projection, "projection", ("pca", "random"))
    if max_dim is not None:
        check_int(max_dim, "max_dim", minimum=1)
    if max_samples is not None:
        check_int(max_samples, "max_samples", minimum=MIN_SAMPLES)
    ss_sub, ss_proj = spawn(seed, 2)
    n_in, d_in = xa.shape
    rank_in = numerical_rank(xa)
    sub = max_samples is not None and n_in > max_samples
    if sub:
        xa = xa[np.sort(as_generator(ss_sub).choice(n_in, max_samples, replace=False))]
    proj = max_dim is not None and max_dim < d_in
    if proj:
        if rank_in < max_dim:
            raise ValueError(f"x (shape {(n_in, d_in)}) has numerical rank {rank_in} < max_dim "
                             f"{max_dim} (relative tolerance {RANK_RTOL:g}): its projection "
                             "would have a singular covariance; use max_dim <= the rank")
        xa = project_samples(xa, max_dim, projection=projection, seed=ss_proj)
    out = {}
    for m in methods:
        r = _TESTS[m](xa, alpha=alpha)
        out[m] = NormalityTest(**{**r.to_dict(), "n_input": n_in, "dim_input": d_in,
                                  "rank_input": rank_in, "subsampled": sub,
                                  "projection": projection if proj else "none"})
    return out


def normality_test(x: ArrayLike, *, method: Method = "hz", alpha: float = 0.01,
                   max_dim: int | None = None, projection: Projection = "pca",
                   max_samples: int | None = 2000, seed: Seed = None) -> NormalityTest:
    """One normality test of ``x`` after subsampling and projection (:func:`normality_tests`).

    Examples
    --------
    >>> z = np.random.default_rng(0).standard_t(3, size=(1000, 3))
    >>> normality_test(z, method="mardia").reject
    True
    """
    check_option(method, "method", NORMALITY_METHODS)
    return normality_tests(x, methods=(method,), alpha=alpha, max_dim=max_dim,
                           projection=projection, max_samples=max_samples, seed=seed)[method]
