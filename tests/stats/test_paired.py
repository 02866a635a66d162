import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mitheory.stats import holm_adjust, paired_test

# a small hand case: five seeds, method x vs method y
X = np.array([12.1, 11.4, 13.0, 12.7, 11.9])
Y = np.array([11.0, 11.6, 12.1, 11.5, 11.2])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_matches_scipy_ttest_rel(alternative):
    ours = paired_test(X, Y, alternative=alternative)
    ref = stats.ttest_rel(X, Y, alternative=alternative)
    # the same closed form (t = mean/se, Student t with n-1 df): agreement to rounding
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert ours.df == 4 and ours.n_pairs == 5
    assert ours.mean_difference == pytest.approx(np.mean(X - Y), abs=1e-12)


def test_t_by_hand():
    d = X - Y  # 1.1, -0.2, 0.9, 1.2, 0.7
    t = d.mean() / (d.std(ddof=1) / np.sqrt(5))
    assert paired_test(X, Y).statistic == pytest.approx(t, rel=1e-12)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wilcoxon_exact_matches_scipy(alternative, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=9) + 0.5, rng.normal(size=9)  # continuous: no ties, no zeros
    ours = paired_test(x, y, method="wilcoxon", alternative=alternative)
    ref = stats.wilcoxon(x, y, alternative=alternative, method="exact")
    # both exact (ours by subset-sum DP, scipy by its own table): equal up to float sums
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    w_plus = stats.rankdata(np.abs(x - y))[(x - y) > 0].sum()
    assert ours.statistic == pytest.approx(w_plus, abs=1e-12)


def test_wilcoxon_floor_at_five_pairs():
    # all five differences positive: the exact one-sided p is 1/2^5 (sign patterns equally likely)
    res = paired_test(X + 2.0, Y, method="wilcoxon", alternative="greater")
    assert res.p_value == pytest.approx(1 / 32, abs=1e-15)


def test_wilcoxon_ties_by_enumeration():
    # tied |d| (midranks): compare with brute-force enumeration of the 2^n sign patterns
    d = np.array([1.0, -1.0, 2.0, 3.0, 3.0, -0.5])
    res = paired_test(d, np.zeros(6), method="wilcoxon", alternative="greater")
    r = stats.rankdata(np.abs(d))
    signs = np.array(np.meshgrid(*[[0, 1]] * 6)).reshape(6, -1).T
    w_all = signs @ r
    assert res.p_value == pytest.approx(np.mean(w_all >= r[d > 0].sum() - 1e-12), abs=1e-15)


def test_holm_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001, 0.04])
    ref = multipletests(p, method="holm")[1]
    assert np.allclose(holm_adjust(p), ref, atol=1e-15)  # the same step-down arithmetic


def test_bad_input():
    with pytest.raises(ValueError, match="zero variance"):
        paired_test(X + 1.0, X)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        paired_test([1.0], [2.0])
    with pytest.raises(ValueError, match="same number"):
        paired_test(X, Y[:4])
    with pytest.raises(ValueError, match="method"):
        paired_test(X, Y, method="sign")
    with pytest.raises(ValueError, match="zero in all"):
        paired_test(X, X, method="wilcoxon")
    with pytest.raises(ValueError, match="p_values"):
        holm_adjust([0.5, 1.5])
