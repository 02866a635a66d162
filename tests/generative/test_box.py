"""Uniform box and exact truncated Normal / Laplace conditionals."""
import numpy as np
import pytest
from scipy import integrate, stats

from mitheory.generative import sample_truncated_conditional, sample_uniform_box

N = 20000
LOCS = [0.0, 0.02, 0.5, 0.97, 1.0]


def _trunc_laplace_pdf(x, m, b, lo, hi):
    z = stats.laplace.cdf(hi, m, b) - stats.laplace.cdf(lo, m, b)
    return stats.laplace.pdf(x, m, b) / z


def _trunc_laplace_moments(m, b, lo=0.0, hi=1.0):
    """Independent oracle: mean and variance by quadrature of the truncated density."""
    pts = [m] if lo < m < hi else None
    mean = integrate.quad(lambda x: x * _trunc_laplace_pdf(x, m, b, lo, hi), lo, hi,
                          points=pts, epsabs=1e-13)[0]
    var = integrate.quad(lambda x: (x - mean) ** 2 * _trunc_laplace_pdf(x, m, b, lo, hi), lo, hi,
                         points=pts, epsabs=1e-13)[0]
    return mean, var


def _check_moments(x, mean, var):
    """Sample mean / variance within 5 standard errors (SE of the variance from the 4th moment)."""
    se_mean = np.sqrt(var / len(x))
    se_var = np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / len(x))
    assert abs(x.mean() - mean) < 5 * se_mean
    assert abs(x.var(ddof=1) - var) < 5 * se_var


@pytest.mark.parametrize("scale", [0.05, 0.4])
@pytest.mark.parametrize("loc", LOCS)
def test_truncated_normal_moments_match_scipy(loc, scale):
    x = sample_truncated_conditional(np.full((N, 1), loc), scale, conditional="normal", seed=0)
    a, b = (0 - loc) / scale, (1 - loc) / scale
    mean, var = stats.truncnorm.stats(a, b, loc=loc, scale=scale, moments="mv")
    assert x.min() >= 0 and x.max() <= 1
    _check_moments(x.ravel(), float(mean), float(var))


@pytest.mark.parametrize("scale", [0.05, 0.4])
@pytest.mark.parametrize("loc", LOCS)
def test_truncated_laplace_moments_match_quadrature(loc, scale):
    x = sample_truncated_conditional(np.full((N, 1), loc), scale, conditional="laplace", seed=1)
    assert x.min() >= 0 and x.max() <= 1
    _check_moments(x.ravel(), *_trunc_laplace_moments(loc, scale))


@pytest.mark.parametrize("conditional, loc, scale", [
    ("normal", 0.9, 0.2), ("laplace", 0.9, 0.2),
    # wide Normal: acceptance 0.131 per proposal, so (1 - 0.131)^5 = 49% of the entries are
    # still outside after the rejection rounds and come from the inverse-CDF fallback; the
    # mixture must still be the truncated law
    ("normal", 0.9, 3.0)])
def test_truncated_conditional_ks_against_cdf(conditional, loc, scale):
    x = sample_truncated_conditional(np.full(4000, loc), scale, conditional=conditional, seed=2)
    dist = stats.norm if conditional == "normal" else stats.laplace
    f_lo, f_hi = dist.cdf(0.0, loc, scale), dist.cdf(1.0, loc, scale)

    def cdf(t):
        return (dist.cdf(t, loc, scale) - f_lo) / (f_hi - f_lo)

    # one-sample KS against the analytic truncated CDF, level 1e-3
    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_tiny_scale_laplace_is_finite_and_centred():
    # scale 1e-6 at the edge: no cancellation to inf/nan; mass stays within ~40 scales of loc
    loc = np.array([[0.0, 1e-7, 0.5, 1.0]] * 1000)
    x = sample_truncated_conditional(loc, 1e-6, conditional="laplace", seed=3)
    assert np.all(np.isfinite(x))
    assert np.max(np.abs(x - loc)) < 4e-5


def test_per_entry_locs_vectorised():
    loc = sample_uniform_box(N, 3, seed=4)
    x = sample_truncated_conditional(loc, 1e-3, conditional="normal", seed=5)
    assert x.shape == loc.shape
    # scale 1e-3: deviation from the own centre is <= 6 sd with prob 1 - 2e-9 per entry
    assert np.max(np.abs(x - loc)) < 6e-3


def test_uniform_box_moments_and_bounds():
    x = sample_uniform_box(N, 4, lo=-1.0, hi=3.0, seed=6)
    assert x.min() >= -1 and x.max() <= 3
    # U(-1, 3): mean 1, var 16/12; 5 standard errors
    np.testing.assert_allclose(x.mean(0), 1.0, atol=5 * np.sqrt(16 / 12 / N))


def test_seed_determinism():
    loc = np.full((5, 2), 0.5)
    a = sample_truncated_conditional(loc, 0.1, conditional="laplace", seed=9)
    np.testing.assert_array_equal(
        a, sample_truncated_conditional(loc, 0.1, conditional="laplace", seed=9))


def test_bad_input():
    with pytest.raises(ValueError, match="conditional"):
        sample_truncated_conditional([[0.5]], 0.1, conditional="cauchy", seed=0)
    with pytest.raises(ValueError, match="scale"):
        sample_truncated_conditional([[0.5]], 0.0, seed=0)
    with pytest.raises(ValueError, match="loc must lie inside"):
        sample_truncated_conditional([[1.5]], 0.1, seed=0)
    with pytest.raises(ValueError, match="lo < hi"):
        sample_uniform_box(3, 2, lo=1.0, hi=1.0, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        sample_truncated_conditional([[np.nan]], 0.1, seed=0)
