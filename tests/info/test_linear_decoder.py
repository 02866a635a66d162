"""mi_lower_bound_er_linear: the ER bound with a least-squares linear-Gaussian decoder."""
import numpy as np
import pytest

from mitheory import info


def _gaussian_pair(n, rho, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2 * n, 2))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((2 * n, 2))
    return x[:n], y[:n], x[n:], y[n:]


def test_gaussian_pair_with_exact_entropy_is_a_tight_lower_bound():
    rho = 0.8
    b = info.mi_lower_bound_er_linear(*_gaussian_pair(3000, rho),
                                      entropy_y=np.log(2 * np.pi * np.e))  # H(N(0, I_2)), exact
    truth = -np.log(1 - rho**2)  # 2 dims x (-0.5 log(1 - rho^2))
    assert b.kind == "lower_bound"
    # p(y|x) is linear-Gaussian: the only gap is the fitted decoder's error (O(1/n_fit)) and the
    # Monte Carlo error of the mean log q; 4 SE covers it
    assert abs(b.value - truth) < 4 * b.details["se_nats"]


def test_gaussian_pair_with_knn_entropy_matches_truth():
    rho = 0.8
    b = info.mi_lower_bound_er_linear(*_gaussian_pair(3000, rho), seed=0)
    assert b.kind == "estimate"
    # kNN entropy (k=3, n=3000, d=2) bias/SE ~ 0.03 nats; 0.1 allows ~3 SE
    assert b.value == pytest.approx(-np.log(1 - rho**2), abs=0.1)


def test_collapsed_residual_raises():
    x = np.random.default_rng(0).standard_normal((50, 2))
    y = np.zeros((50, 2))  # a collapsed representation: the residual covariance is exactly 0
    with pytest.raises(ValueError, match="singular"):
        info.mi_lower_bound_er_linear(x, y, x, y)
