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


def test_entropy_bounds_one_component_equal_gaussian_entropy():
    """One prototype: the mixture is one Gaussian; pairwise and moment bounds equal its entropy,
    ELK is -log N(mu; mu, 2C) = H - (d/2)(1 - log 2) (Jensen's gap, hand computation)."""
    from mitheory.cpa import output_entropy_bounds
    from mitheory.info import entropy_gaussian

    net, protos, dist = _setting()
    mix = output_mixture(net, protos[:1], (dist[0] / 10) ** 2)
    exact = entropy_gaussian(mix.covs[0]).value
    d = mix.covs.shape[1]
    for name, b in output_entropy_bounds(mix).items():
        expected = exact - d / 2 * (1 - np.log(2)) if name == "elk_lower" else exact
        assert b.value == pytest.approx(expected, abs=1e-9), name  # closed forms, round-off


def test_entropy_bounds_bracket_monte_carlo():
    from mitheory.cpa import output_entropy_bounds
    from mitheory.info import entropy_mixture_mc

    net, protos, _ = _setting()
    mix = output_mixture(net, protos, 0.3**2)  # overlapping components: bounds not tight
    b = output_entropy_bounds(mix, methods=("bhattacharyya_lower", "kl_upper"))
    mc = entropy_mixture_mc(mix.means, mix.covs, mix.weights, n_samples=20_000, seed=0)
    lo, hi = mc.details["ci_low"], mc.details["ci_high"]
    # the MC estimate's 95% CI must meet [lower, upper]
    assert b["bhattacharyya_lower"].value <= hi and lo <= b["kl_upper"].value


def test_output_law_check_exact_regime_and_degenerate_component():
    from mitheory.cpa import output_law_check

    net, protos, dist = _setting()
    c = output_law_check(net, protos, (dist.min() / 8) ** 2, n_samples=600, n_test=300,
                         n_permutations=50, n_exit_samples=200, seed=0)
    assert c.tv_bound < 1e-6 and c.exit_mc == 0.0
    assert c.entropy_bounds is not None
    # a network whose second hidden unit is dead at the prototype: A has rank 1 in 2-D
    dead = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        dead[0].weight.copy_(torch.eye(2))
        dead[0].bias.copy_(torch.tensor([0.0, -5.0]))
        dead[2].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, -1.0]]))
    c = output_law_check(dead, np.array([[1.0, 0.0]]), 1e-4, n_samples=300, n_test=200,
                         n_permutations=20, n_exit_samples=100, seed=1)
    assert c.entropy_bounds is None  # degenerate Gaussian: entropy -inf, no bounds
    assert c.test_whitened.p_value > 0.01  # residual on the support is exactly N(0, 1)


def test_region_statistics_one_hidden_layer():
    from mitheory.cpa import region_statistics

    net = cpa_mlp([3, 12, 1], seed=3)
    pts = np.random.default_rng(9).standard_normal((5, 3))
    w, c = net[0].weight.double().detach().numpy(), net[0].bias.double().detach().numpy()
    i, j = np.triu_indices(5, k=1)
    g = pts @ w.T + c
    counts = 1 + (np.sign(g[i]) != np.sign(g[j])).sum(1)  # one crossing per flipped unit
    stats = region_statistics(net, pts)
    assert stats["regions_per_segment_mean"] == pytest.approx(counts.mean(), abs=1e-12)
    dist = np.min(np.abs(g) / np.linalg.norm(w, axis=1), axis=1)
    assert stats["boundary_distance_min"] == pytest.approx(dist.min(), rel=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        region_statistics(net, pts[:1])
