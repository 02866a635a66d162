"""Theorem 1's output mixture vs Monte Carlo: moments agree when the exit probability is tiny."""
import numpy as np
import pytest
import torch
from torch import nn

from mitheory.cpa import (
    boundary_distance,
    component_moment_errors,
    cpa_mlp,
    output_mixture,
    sample_output_law,
)


def _cov_rel_rms(cov, n):
    """RMS of ||C_hat - C||_F / ||C||_F for n Gaussian draws.

    Uses Var C_hat_ij = (C_ii C_jj + C_ij^2) / n, the sample covariance of Gaussian data.
    """
    var = (np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n
    return np.sqrt(var.sum()) / np.linalg.norm(cov)


def _setting():
    net = cpa_mlp([4, 16, 16, 3], seed=0)
    protos = np.random.default_rng(0).standard_normal((4, 4))
    return net, protos, boundary_distance(net, protos).distance


def test_moments_match_monte_carlo_when_exit_probability_is_tiny():
    net, protos, dist = _setting()
    sigma = dist.min() / 6  # per-constraint crossing prob <= Phi(-6) = 1e-9
    mix = output_mixture(net, protos, sigma**2)
    assert mix.exit_union_bound.max() < 1e-3  # the regime the claim is about
    z, labels = sample_output_law(net, protos, sigma**2, n_samples=4000, seed=1)
    err = component_moment_errors(mix, z, labels)
    # mean error in Monte Carlo standard errors: max of 12 |N(0,1)|; P(> 4.5) < 1e-4;
    # the exit mass (< 1e-3) could shift a mean by at most ~1e-3 of a noise sd
    assert err["mean_z"].max() < 4.5
    for k in range(len(protos)):
        # sample-covariance error: within 4x its own RMS (Gaussian-theory formula)
        assert err["cov_rel"][k] < 4 * _cov_rel_rms(mix.covs[k], err["n"][k])


def test_moments_disagree_when_noise_leaves_the_regions():
    """The same check fails at large noise: the comparison has power."""
    net, protos, dist = _setting()
    sigma = 20 * dist.max()
    mix = output_mixture(net, protos, sigma**2)
    assert mix.exit_max_term.min() > 0.3
    z, labels = sample_output_law(net, protos, sigma**2, n_samples=4000, seed=1)
    err = component_moment_errors(mix, z, labels)
    assert err["mean_z"].max() > 10 or err["cov_rel"].max() > 0.5


def test_affine_network_is_exact_at_any_noise():
    net = nn.Sequential(nn.Linear(3, 2), nn.Identity())
    protos = np.random.default_rng(2).standard_normal((2, 3))
    cov = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.1], [0.0, 0.1, 0.5]])
    mix = output_mixture(net, protos, cov)
    w = net[0].weight.double().detach().numpy()
    np.testing.assert_array_equal(mix.exit_union_bound, 0.0)  # no constraint at all
    np.testing.assert_allclose(mix.covs[0], w @ cov @ w.T, rtol=1e-12)  # A S A^T, A = W
    z, labels = sample_output_law(net, protos, cov, n_samples=4000, seed=3)
    err = component_moment_errors(mix, z, labels)
    assert err["mean_z"].max() < 4.5  # max of 4 |N(0,1)|


def test_sample_output_law_is_f_of_noisy_prototypes():
    net, protos, _ = _setting()
    cov = np.diag([0.01, 0.02, 0.03, 0.04])
    z, labels = sample_output_law(net, protos, cov, n_samples=50, weights=[0.1, 0.2, 0.3, 0.4],
                                  seed=5)
    rng = np.random.default_rng(5)  # the documented order of draws: labels, then noise
    lab = rng.choice(4, size=50, p=[0.1, 0.2, 0.3, 0.4])
    eps = rng.standard_normal((50, 4)) @ np.linalg.cholesky(cov).T
    ref = net.double()(torch.as_tensor(protos[lab] + eps)).detach().numpy()
    np.testing.assert_array_equal(labels, lab)
    np.testing.assert_allclose(z, ref, rtol=0, atol=1e-12)  # float64 forward, same ops


def test_mixture_total_moments_law_of_total_covariance():
    net, protos, _ = _setting()
    w = np.array([0.4, 0.3, 0.2, 0.1])
    mix = output_mixture(net, protos, 0.05, weights=w)
    np.testing.assert_allclose(mix.mean(), np.average(mix.means, axis=0, weights=w), rtol=1e-12)
    total = np.einsum("n,nij->ij", w, mix.covs) + np.cov(mix.means.T, aweights=w, bias=True)
    np.testing.assert_allclose(mix.covariance(), total, rtol=1e-10, atol=1e-14)
    # the sampler draws N(mu_n, A_n S A_n^T): its empirical moments agree with the formula
    labels = np.random.default_rng(6).choice(4, size=20000, p=w)
    zs = mix.sample(labels, seed=7)
    err = component_moment_errors(mix, zs, labels)
    assert err["mean_z"].max() < 4.5  # max of 12 |N(0,1)|


@pytest.mark.parametrize("weights, match", [([0.5, 0.5], "4 non-negative"),
                                            ([0.5, 0.5, 0.5, -0.5], "non-negative"),
                                            ([0.3, 0.3, 0.3, 0.3], "summing to 1")])
def test_bad_weights(weights, match):
    net, protos, _ = _setting()
    with pytest.raises(ValueError, match=match):
        output_mixture(net, protos, 0.1, weights=weights)
