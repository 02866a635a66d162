import numpy as np
import pytest
from scipy import stats as sps

from mitheory.stats import correlation


def _pair(n=40, seed=0, rho=0.6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)


@pytest.mark.parametrize(("method", "ref"), [("pearson", sps.pearsonr),
                                             ("spearman", sps.spearmanr)])
def test_r_and_p_match_scipy(method, ref):
    x, y = _pair()
    res = correlation(x, y, method=method, seed=0)
    want = ref(x, y)
    # the same closed forms evaluated by scipy and pingouin: float64 rounding only
    assert res.r == pytest.approx(want[0], abs=1e-12)
    assert res.p_value == pytest.approx(want[1], rel=1e-9)
    assert res.n == 40 and res.method == method


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_fisher_z_interval_closed_form(confidence):
    x, y = _pair(n=25, seed=1)
    res = correlation(x, y, confidence=confidence, ci_method="fisher_z")
    z = np.arctanh(res.r)
    half = sps.norm.ppf((1 + confidence) / 2) / np.sqrt(25 - 3)
    # tanh(artanh r -+ z_crit / sqrt(n - 3)) written out; float64 rounding only
    assert (res.ci_low, res.ci_high) == pytest.approx((np.tanh(z - half), np.tanh(z + half)),
                                                      abs=1e-12)
    assert (res.fisher_ci_low, res.fisher_ci_high) == (res.ci_low, res.ci_high)
    assert res.ci_method == "fisher_z" and res.n_boot == 0


def test_fisher_interval_by_hand():
    # r = 0.5 from x = (0, 1, 2, 3, 4, 5, 6), hand-made y; check the formula at n = 7:
    # artanh(r) +- 1.959964 / sqrt(4) = artanh(r) +- 0.979982
    x = np.arange(7.0)
    y = np.array([0.0, 3.0, 1.0, 2.0, 5.0, -1.0, 4.0])
    res = correlation(x, y, ci_method="fisher_z")
    r = np.corrcoef(x, y)[0, 1]
    assert res.r == pytest.approx(r, abs=1e-12)  # float64 rounding
    z = np.arctanh(r)
    assert res.ci_low == pytest.approx(np.tanh(z - 0.979982), abs=1e-6)  # 6-digit z_crit
    assert res.ci_high == pytest.approx(np.tanh(z + 0.979982), abs=1e-6)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_bootstrap_interval_contains_r_and_is_seeded(method):
    x, y = _pair(n=30, seed=2)
    a = correlation(x, y, method=method, n_boot=500, seed=3)
    b = correlation(x, y, method=method, n_boot=500, seed=3)
    c = correlation(x, y, method=method, n_boot=500, seed=4)
    assert a == b
    assert a.ci_low != c.ci_low
    assert a.ci_low < a.r < a.ci_high
    assert a.n_boot == 500 and a.ci_method == "bootstrap_percentile"


def test_bootstrap_interval_agrees_with_fisher_on_normal_data():
    # bivariate normal, n = 200, rho = 0.6: Fisher-z is accurate there, and the percentile
    # interval's endpoints differ from it by Monte Carlo error ~ sd(r*)/sqrt(n_boot)-ish plus
    # O(1/n) skew: 0.03 is ~ 3x the endpoint spread seen across seeds
    x, y = _pair(n=200, seed=5)
    res = correlation(x, y, n_boot=2000, seed=0)
    assert res.ci_low == pytest.approx(res.fisher_ci_low, abs=0.03)
    assert res.ci_high == pytest.approx(res.fisher_ci_high, abs=0.03)


def test_bootstrap_interval_equals_corrcoef_on_the_same_resamples():
    # the percentile interval from the same resample indices, recomputed with np.corrcoef
    x, y = _pair(n=12, seed=6)
    res = correlation(x, y, n_boot=300, seed=7)
    idx = np.random.default_rng(7).integers(0, 12, size=(300, 12))
    rs = []
    for i in idx:
        if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0:
            rs.append(np.corrcoef(x[i], y[i])[0, 1])
    want = np.quantile(rs, [0.025, 0.975])
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(want), abs=1e-12)  # float64
    assert res.n_boot_degenerate == 300 - len(rs)


@pytest.mark.parametrize(("kw", "match"), [
    ({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 3]}, "same number"),
    ({"x": [1.0, 2, np.nan, 4], "y": [1.0, 2, 3, 4]}, "x contains"),
    ({"x": [1.0, 2, 3], "y": [1.0, 2, 4]}, "at least 4"),
    ({"x": [1.0, 1, 1, 1], "y": [1.0, 2, 3, 4]}, "x has zero-variance"),
    ({"x": [1.0, 2, 3, 4], "y": [2.0, 2, 2, 2]}, "y has zero-variance"),
    ({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 4, 3], "method": "kendall"}, "method"),
    ({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 4, 3], "ci_method": "bca"}, "ci_method"),
    ({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 4, 3], "confidence": 1.0}, "confidence"),
    ({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 4, 3], "n_boot": 0}, "n_boot"),
    ({"x": np.ones((4, 2)), "y": [1.0, 2, 4, 3]}, "x must have ndim"),
])
def test_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        correlation(**kw)


def test_perfect_correlation_interval_collapses():
    res = correlation([1.0, 2, 3, 4, 5], [2.0, 4, 6, 8, 10], ci_method="fisher_z")
    assert res.r == pytest.approx(1.0, abs=1e-12) and res.ci_low == res.ci_high == res.r
