"""Sphere samplers: uniform and vMF (Wood 1994); A_d(kappa) itself is tested in test_special."""
import numpy as np
import pytest
from scipy import stats

from mitheory.generative import (
    MU_NORM_TOL,
    sample_uniform_sphere,
    sample_vmf,
    vmf_mean_resultant_length,
)

N = 20000
CASES = [(2, 1.0), (3, 10.0), (10, 10.0), (10, 100.0), (64, 10.0)]


@pytest.mark.parametrize("dim,kappa", CASES)
def test_vmf_sample_mean_cosine_matches_a_d(dim, kappa):
    mu = np.zeros(dim)
    mu[-1] = 1.0
    x = sample_vmf(mu, kappa, N, seed=0)
    assert x.shape == (N, dim)
    # unit norm to float64 round-off
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    w = x @ mu
    se = w.std(ddof=1) / np.sqrt(N)
    # 5 standard errors of the sample mean
    assert abs(w.mean() - vmf_mean_resultant_length(dim, kappa)) < 5 * se


@pytest.mark.parametrize("dim,kappa", [(3, 2.0), (10, 10.0)])
def test_vmf_tangent_second_moment(dim, kappa):
    # E[x x^T] = (A/k) I + (1 - d A/k) mu mu^T (Mardia & Jupp 2000, 9.3.13)
    rng = np.random.default_rng(1)
    mu = rng.standard_normal(dim)
    mu /= np.linalg.norm(mu)
    x = sample_vmf(mu, kappa, N, seed=1)
    a = vmf_mean_resultant_length(dim, kappa)
    expected = a / kappa * np.eye(dim) + (1 - dim * a / kappa) * np.outer(mu, mu)
    emp = x.T @ x / N
    # entries of x x^T are bounded by 1, so each mean has sd <= 1/sqrt(N); 5 sd
    np.testing.assert_allclose(emp, expected, atol=5 / np.sqrt(N))


@pytest.mark.parametrize("dim,kappa", [(3, 5.0), (10, 20.0)])
def test_vmf_matches_scipy_vonmises_fisher(dim, kappa):
    mu = np.ones(dim) / np.sqrt(dim)
    ours = sample_vmf(mu, kappa, 4000, seed=2) @ mu
    ref = stats.vonmises_fisher(mu, kappa).rvs(4000, random_state=np.random.default_rng(3)) @ mu
    # two-sample KS at level 1e-3 (independent implementation: scipy's vonmises_fisher)
    assert stats.ks_2samp(ours, ref).pvalue > 1e-3


def test_vmf_per_row_means_vectorised():
    dim, kappa = 5, 30.0
    mus = sample_uniform_sphere(N, dim, seed=4)
    x = sample_vmf(mus, kappa, seed=5)
    w = np.sum(x * mus, axis=1)
    # 5 standard errors of the sample mean
    assert abs(w.mean() - vmf_mean_resultant_length(dim, kappa)) < 5 * w.std() / np.sqrt(N)


def test_vmf_huge_kappa_no_overflow():
    dim, kappa = 10, 1e10
    x = sample_vmf(np.eye(dim)[0], kappa, 2000, seed=6)
    assert np.all(np.isfinite(x))
    one_minus_w = 1 - x[:, 0]
    # large kappa: kappa (1 - w) ~ Gamma((d-1)/2, 1), mean (d-1)/2; 5 sd of the mean
    m = kappa * one_minus_w.mean()
    assert abs(m - (dim - 1) / 2) < 5 * np.sqrt((dim - 1) / 2) / np.sqrt(2000)


def test_uniform_sphere_moments():
    dim = 6
    x = sample_uniform_sphere(N, dim, seed=7)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    # E[x] = 0, E[x x^T] = I/d; entries bounded by 1 so sd <= 1/sqrt(N); 5 sd
    np.testing.assert_allclose(x.mean(0), 0.0, atol=5 / np.sqrt(N))
    np.testing.assert_allclose(x.T @ x / N, np.eye(dim) / dim, atol=5 / np.sqrt(N))


def test_seed_determinism():
    a = sample_vmf([0.6, 0.8], 3.0, 10, seed=11)
    b = sample_vmf([0.6, 0.8], 3.0, 10, seed=11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_vmf([0.6, 0.8], 3.0, 10, seed=12))


def test_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        sample_vmf([1.0, 0.0], 0.0, 3, seed=0)
    with pytest.raises(ValueError, match="kappa"):
        vmf_mean_resultant_length(3, -1.0)
    with pytest.raises(ValueError, match="dim"):
        vmf_mean_resultant_length(1, 1.0)
    with pytest.raises(ValueError, match="dim"):
        sample_uniform_sphere(3, 1, seed=0)
    with pytest.raises(ValueError, match="mu"):
        sample_vmf([1.0], 1.0, 3, seed=0)
    with pytest.raises(ValueError, match="unit L2 norm"):
        sample_vmf([1.0 + 10 * MU_NORM_TOL, 0.0], 1.0, 3, seed=0)
    with pytest.raises(ValueError, match="n is required"):
        sample_vmf([1.0, 0.0], 1.0, seed=0)
    with pytest.raises(ValueError, match="does not match"):
        sample_vmf(np.eye(2), 1.0, 3, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        sample_vmf([np.nan, 1.0], 1.0, 3, seed=0)
