"""Differentiable Gaussian quantities against closed forms, the numpy entropies and scipy."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from mitheory.info import (entropy_gaussian, isotropic_mixture_log_density_torch,
                           total_correlation_gaussian_torch)


@pytest.mark.parametrize("a, b, c", [(1.0, 1.0, 0.5), (2.0, 0.5, -0.7), (3.0, 1.0, 0.0)])
def test_total_correlation_of_a_bivariate_gaussian(a, b, c):
    cov = torch.tensor([[a, c], [c, b]], dtype=torch.float64)
    # closed form -1/2 log(1 - rho^2), rho^2 = c^2 / (a b); float64 round-off
    want = -0.5 * math.log1p(-c * c / (a * b))
    assert float(total_correlation_gaussian_torch(cov)) == pytest.approx(want, abs=1e-14)


def test_total_correlation_is_the_entropy_gap_per_matrix_of_a_batch():
    w = torch.randn(3, 5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cov = w @ w.transpose(1, 2) + torch.eye(5, dtype=torch.float64)  # eigenvalues >= 1
    tc = total_correlation_gaussian_torch(cov)
    assert tc.shape == (3,)
    for c, t in zip(cov.numpy(), tc):
        gap = entropy_gaussian(np.diag(np.diag(c))).value - entropy_gaussian(c).value
        # two factorisations (slogdet of R, Cholesky of S) of a well-conditioned matrix
        assert float(t) == pytest.approx(gap, rel=1e-12)


def test_total_correlation_is_zero_at_a_diagonal_and_differentiable():
    diag = torch.diag(torch.tensor([1.0, 4.0, 0.5], dtype=torch.float64))
    # R = I up to the round-off of sqrt(v)^2 (one ulp of 1 per diagonal entry)
    assert float(total_correlation_gaussian_torch(diag)) == pytest.approx(0.0, abs=1e-15)
    s = torch.tensor([[1.0, 0.3], [0.3, 2.0]], dtype=torch.float64, requires_grad=True)
    g, = torch.autograd.grad(total_correlation_gaussian_torch(s), s)
    assert torch.isfinite(g).all() and float(g[0, 1]) > 0  # TC grows with |correlation|
    with pytest.raises(ValueError, match="positive diagonal"):
        total_correlation_gaussian_torch(torch.zeros(2, 2, dtype=torch.float64))


def test_mixture_log_density_matches_scipy():
    g = np.random.default_rng(0)
    x, mu, var = g.normal(size=(50, 2)), g.normal(size=(3, 2)), 0.7
    dens = np.mean([multivariate_normal(m, var * np.eye(2)).pdf(x) for m in mu], axis=0)
    got = isotropic_mixture_log_density_torch(torch.as_tensor(x), torch.as_tensor(mu), var)
    # scipy's density (mean of the 3 component pdfs) against logsumexp: float64 round-off
    np.testing.assert_allclose(got.numpy(), np.log(dens), rtol=1e-12)


def test_mixture_log_density_gradient_in_the_variance():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    mu = torch.zeros(1, 2, dtype=torch.float64)
    v = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    lp = isotropic_mixture_log_density_torch(x, mu, v).sum()
    (g,) = torch.autograd.grad(lp, v)
    # one component: d/dv sum_i (-|x_i|^2 / (2v) - log(2 pi v)) = sum |x_i|^2 / (2 v^2) - 2 / v
    assert float(g) == pytest.approx(5.0 / 8.0 - 1.0, abs=1e-14)  # float64 round-off
    with pytest.raises(ValueError, match="var"):
        isotropic_mixture_log_density_torch(x, mu, 0.0)
