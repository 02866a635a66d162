import numpy as np
import pingouin
import pytest
from scipy import stats as sps

from mitheory.stats import (NORMALITY_METHODS, cauchy_combination, dagostino_pearson,
                            henze_zirkler, mardia, normality_test, normality_tests,
                            numerical_rank, project_samples)
from mitheory.stats._normality import HZ_MAX_SAMPLES, RANK_RTOL

# float64 sums of a few hundred O(1) terms: round-off ~1e-13 relative; 1e-9 leaves a margin
EXACT = dict(rel=1e-9, abs=1e-12)


def gauss(n, d, seed=0, cov_seed=None):
    z = np.random.default_rng(seed).normal(size=(n, d))
    if cov_seed is None:
        return z
    a = np.random.default_rng(cov_seed).normal(size=(d, d))
    return z @ a + 3.0  # correlated, shifted: every test here is affine invariant


def mardia_double_loop(x):
    """b1, b2 of Mardia (1970) by the definition: explicit double sum over m_ij."""
    n, p = x.shape
    xc = x - x.mean(0)
    s_inv = np.linalg.inv(xc.T @ xc / n)
    b1 = b2 = 0.0
    for i in range(n):
        for j in range(n):
            b1 += float(xc[i] @ s_inv @ xc[j]) ** 3
        b2 += float(xc[i] @ s_inv @ xc[i]) ** 2
    return b1 / n**2, b2 / n


def hz_statistic_direct(x):
    """Henze & Zirkler (1990) statistic by its defining sums, O(n^2) loops, biased covariance."""
    n, p = x.shape
    xc = x - x.mean(0)
    s_inv = np.linalg.inv(xc.T @ xc / n)
    beta = ((2 * p + 1) / 4) ** (1 / (p + 4)) * n ** (1 / (p + 4)) / np.sqrt(2)
    pair = sum(np.exp(-beta**2 / 2 * (xc[j] - xc[k]) @ s_inv @ (xc[j] - xc[k]))
               for j in range(n) for k in range(n))
    single = sum(np.exp(-beta**2 / (2 * (1 + beta**2)) * xc[j] @ s_inv @ xc[j])
                 for j in range(n))
    return pair / n - 2 * (1 + beta**2) ** (-p / 2) * single + n * (1 + 2 * beta**2) ** (-p / 2)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mardia_against_the_double_sum(p):
    x = gauss(5 * p + 20, p, seed=p, cov_seed=10 + p)
    r = mardia(x)
    b1, b2 = mardia_double_loop(x)
    n = len(x)
    assert r.details["b1"] == pytest.approx(b1, **EXACT)
    assert r.details["b2"] == pytest.approx(b2, **EXACT)
    # the statistics and p-values from the closed forms, written out again
    k = (p + 1) * (n + 1) * (n + 3) / (n * ((n + 1) * (p + 1) - 6))
    a = n * k * b1 / 6
    z = (b2 - p * (p + 2) * (n - 1) / (n + 1)) / np.sqrt(8 * p * (p + 2) / n)
    p_skew = sps.chi2.sf(a, p * (p + 1) * (p + 2) / 6)
    p_kurt = 2 * sps.norm.sf(abs(z))
    assert r.statistic == pytest.approx(a, **EXACT)
    assert r.details["kurtosis_z"] == pytest.approx(z, **EXACT)
    assert r.p_value == pytest.approx(min(1.0, 2 * min(p_skew, p_kurt)), **EXACT)


def test_mardia_univariate_is_squared_skewness_and_pearson_kurtosis():
    # p = 1: b1 = g1^2 and b2 = m4 / m2^2 (Mardia 1970, Sec. 2): scipy's biased moments
    x = np.random.default_rng(3).gamma(2.0, size=200)
    r = mardia(x)
    assert r.details["b1"] == pytest.approx(sps.skew(x) ** 2, **EXACT)
    assert r.details["b2"] == pytest.approx(sps.kurtosis(x, fisher=True) + 3.0, **EXACT)


def test_henze_zirkler_is_pingouin_and_the_defining_sums():
    x = gauss(40, 3, seed=1, cov_seed=2)
    r = henze_zirkler(x)
    ref = pingouin.multivariate_normality(x, alpha=0.01)
    assert r.statistic == ref.hz and r.p_value == ref.pval  # the same call: bit-identical
    assert r.statistic == pytest.approx(hz_statistic_direct(x), **EXACT)
    assert r.reject == (not ref.normal)


def test_dagostino_is_scipy_per_column_with_bonferroni():
    x = np.column_stack([gauss(300, 2, seed=4), np.random.default_rng(5).exponential(size=300)])
    r = dagostino_pearson(x)
    stat, pv = sps.normaltest(x, axis=0)
    assert r.details["p_values"] == pytest.approx(pv.tolist(), **EXACT)
    assert r.p_value == pytest.approx(min(1.0, 3 * pv.min()), **EXACT)
    assert r.statistic == pytest.approx(stat.max(), **EXACT)
    assert r.reject  # the exponential column: p ~ 1e-30 at n = 300


def test_cauchy_combination_closed_forms():
    # one p-value, or m identical ones (perfect dependence): T = tan((1/2 - p) pi), so p back
    assert cauchy_combination([0.2]) == pytest.approx(0.2, rel=1e-12)
    assert cauchy_combination([0.03] * 5) == pytest.approx(0.03, rel=1e-12)
    assert cauchy_combination([0.5, 0.5]) == pytest.approx(0.5, rel=1e-12)
    assert cauchy_combination([0.0, 0.9]) == 0.0
    with pytest.raises(ValueError, match="p_values"):
        cauchy_combination([0.5, 1.5])


def test_rank_deficiency_is_detected_before_pingouin():
    z = gauss(200, 3, seed=6)
    x = np.column_stack([z, z[:, 0] - 2 * z[:, 1]])  # rank 3 in 4 columns
    assert numerical_rank(x) == 3
    assert pingouin.multivariate_normality(x).hz == 4 * len(x)  # the silent trap it guards
    for m in NORMALITY_METHODS:
        with pytest.raises(ValueError, match=r"x \(shape \(200, 4\)\) has numerical rank 3"):
            normality_test(x, method=m)
    # a nearly collapsed direction below the tolerance counts as collapsed
    near = x.copy()
    near[:, 3] += 1e-3 * RANK_RTOL * np.random.default_rng(7).normal(size=200)
    assert numerical_rank(near) == 3
    with pytest.raises(ValueError, match="numerical rank 3"):
        normality_test(near, method="hz")
    # projecting to at most the rank is allowed, above it is not
    assert normality_test(x, method="hz", max_dim=3).dim == 3
    with pytest.raises(ValueError, match=r"rank 3 < max_dim 4"):
        normality_test(np.column_stack([x, z[:, 1]]), max_dim=4)


def test_projection_keeps_dims_and_is_affine_exact():
    z = gauss(300, 4, seed=7)
    w = np.random.default_rng(8).normal(size=(4, 32))
    x = z @ w  # (300, 32) of rank 4
    r = normality_test(x, method="hz", max_dim=4, projection="pca")
    assert (r.dim, r.dim_input, r.rank_input, r.projection) == (4, 32, 4, "pca")
    # PCA to the rank is an invertible linear map of z and HZ is affine invariant
    assert r.statistic == pytest.approx(henze_zirkler(z).statistic, rel=1e-8)
    for proj in ("pca", "random"):
        y = project_samples(gauss(100, 16, seed=9), 5, projection=proj, seed=0)
        assert y.shape == (100, 5)
    w16 = np.random.default_rng(1).normal(size=(50, 16))
    q = project_samples(w16, 3, projection="random", seed=3)
    assert np.array_equal(q, project_samples(w16, 3, projection="random", seed=3))  # seeded
    assert not np.array_equal(q, project_samples(w16, 3, projection="random", seed=4))
    assert project_samples(z, 10).shape == (300, 4)  # no projection when dim >= dim_x


def test_subsample_is_seeded_and_reported():
    x = gauss(3000, 3, seed=10)
    a = normality_test(x, method="hz", max_samples=500, seed=1)
    b = normality_test(x, method="hz", max_samples=500, seed=1)
    assert (a.n_samples, a.n_input, a.subsampled) == (500, 3000, True)
    assert a.statistic == b.statistic
    assert not normality_test(x[:400], method="mardia", max_samples=500).subsampled
    with pytest.raises(ValueError, match="HZ_MAX_SAMPLES"):
        normality_test(gauss(HZ_MAX_SAMPLES + 1, 2), method="hz", max_samples=None)


def test_all_methods_share_one_subsample_and_projection():
    res = normality_tests(gauss(800, 12, seed=11), max_dim=3, max_samples=400, seed=0)
    assert list(res) == list(NORMALITY_METHODS)
    assert {(r.n_samples, r.dim, r.projection) for r in res.values()} == {(400, 3, "pca")}


@pytest.mark.parametrize("bad, kwargs, match", [
    (np.full((50, 2), np.nan), {}, "NaN"),
    (np.zeros((3, 4, 2)), {}, "ndim"),
    (gauss(15, 2), {}, "at least 20 samples"),
    (gauss(30, 8), {}, "at least 40 samples"),
    (gauss(50, 2), {"method": "shapiro"}, "method"),
    (gauss(50, 2), {"projection": "umap", "max_dim": 1}, "projection"),
    (gauss(50, 1), {"method": "hz"}, "at least 2 columns"),
    (gauss(50, 2), {"alpha": 1.5}, "alpha"),
    (gauss(50, 2), {"max_dim": 0}, "max_dim"),
    (gauss(50, 2), {"max_samples": 5}, "max_samples"),
    (np.ones((50, 2)), {"method": "mardia"}, "numerical rank 0"),
])
def test_bad_input(bad, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        normality_test(bad, **kwargs)


def _rejections(sample, method, n_reps, **kw):
    return sum(normality_test(sample(i), method=method, alpha=0.01, seed=i, **kw).reject
               for i in range(n_reps))


@pytest.mark.slow
@pytest.mark.parametrize("method, kw", [("hz", {}), ("mardia", {}), ("dagostino", {}),
                                        ("hz", {"max_dim": 4, "projection": "pca"}),
                                        ("dagostino", {"max_dim": 4, "projection": "random"})])
def test_calibration_on_gaussian_samples(method, kw):
    # 300 exact Gaussian samples of n = 200: the rejection count at alpha = 0.01 must be a
    # plausible Binomial(300, 0.01) draw: 0.01 inside the 99.9% Clopper-Pearson interval
    # (Bonferroni combinations are conservative, so a low count is allowed by the same rule)
    n_reps = 300
    dim = 16 if "max_dim" in kw else 4
    k = _rejections(lambda i: gauss(200, dim, seed=1000 + i, cov_seed=1), method, n_reps, **kw)
    ci = sps.binomtest(k, n_reps).proportion_ci(confidence_level=0.999, method="exact")
    assert ci.low <= 0.01 <= ci.high, (method, kw, k)


@pytest.mark.slow
@pytest.mark.parametrize("method", NORMALITY_METHODS)
@pytest.mark.parametrize("law", ["mixture", "student_t"])
def test_power_against_clear_departures(method, law):
    # n = 500 in 4 dims. Mixture: 0.8 N(0, I) + 0.2 N(4 e1, I), marginal skewness 0.92, so
    # Mardia's skewness statistic n b1 / 6 ~ 70 on 20 df (p ~ 1e-7). Student t, 3 df: no finite
    # kurtosis. Every test should reject nearly always (power ~1); 0.9 over 40 draws is a floor
    # well below that, failing only for a broken test. (A symmetric mixture 1/2 N(+-2 e1, I)
    # is a weaker case for Mardia: its kurtosis z is only ~ -2 at this n, diluted over the 4
    # dims, and 10 of 40 draws were rejected.)
    def sample(i):
        rng = np.random.default_rng(2000 + i)
        if law == "student_t":
            return rng.standard_t(3, size=(500, 4))
        x = rng.normal(size=(500, 4))
        x[:, 0] += np.where(rng.random(500) < 0.2, 4.0, 0.0)
        return x

    n_reps = 40
    assert _rejections(sample, method, n_reps) / n_reps >= 0.9
