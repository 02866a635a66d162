"""Boundary distances (exactness, step tests, brute-force twin) and region-exit probabilities."""
import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from mitheory.cpa import (
    boundary_distance,
    cpa_mlp,
    exit_probability_bounds,
    exit_probability_mc,
    region_code,
)


def _expand(v, shape):
    return np.asarray(v).reshape(-1, *[1] * len(shape))


def test_step_inside_keeps_region_and_past_normal_leaves(network):
    name, net, shape = network
    x = np.random.default_rng(0).standard_normal((20, *shape))
    bd = boundary_distance(net, x)
    code = region_code(net, x)
    assert np.all(np.isfinite(bd.distance)) and np.all(bd.distance > 0)
    step = bd.direction.reshape(x.shape) * _expand(bd.distance, shape)
    # 1e-6 relative margin: far above float64 round-off of the margins (~1e-15), far below
    # the gap to the next-nearest constraint in all but degenerate ties
    np.testing.assert_array_equal(region_code(net, x + (1 - 1e-6) * step), code)
    left = (region_code(net, x + (1 + 1e-6) * step) != code).any(axis=1)
    assert left.all(), f"{name}: {np.flatnonzero(~left)} did not leave"
    rand = np.random.default_rng(1).standard_normal(x.shape)
    rand /= _expand(np.linalg.norm(rand.reshape(len(x), -1), axis=1), shape)
    np.testing.assert_array_equal(
        region_code(net, x + 0.999 * _expand(bd.distance, shape) * rand), code)


def test_one_hidden_layer_closed_form():
    net = cpa_mlp([4, 10, 2], seed=0)
    w, c = net[0].weight.double().detach().numpy(), net[0].bias.double().detach().numpy()
    x = np.random.default_rng(2).standard_normal((30, 4))
    expected = np.min(np.abs(x @ w.T + c) / np.linalg.norm(w, axis=1), axis=1)
    bd = boundary_distance(net, x)
    np.testing.assert_allclose(bd.distance, expected, rtol=1e-12, atol=0)  # float64 round-off
    assert set(bd.layer) == {"1"}


def _ray_exits(net, x, dirs, t_max):
    """Slow twin: first t where the code changes along each ray x + t u, by bisection.

    The region is convex, so "same code" holds on an interval [0, t*) of every ray and
    bisection on that predicate converges to t* (rays still inside at t_max return t_max).
    """
    ref = region_code(net, x[None])
    lo, hi = np.zeros(len(dirs)), np.full(len(dirs), t_max)
    for _ in range(60):
        mid = (lo + hi) / 2
        same = (region_code(net, x + mid[:, None] * dirs) == ref).all(axis=1)
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return hi


def test_deep_network_distance_matches_brute_force_over_directions():
    net = cpa_mlp([2, 8, 8, 8, 1], seed=5)
    x = np.random.default_rng(3).standard_normal((4, 2))
    bd = boundary_distance(net, x)
    angles = np.linspace(0, 2 * np.pi, 3601)[:-1]
    dirs = np.stack([np.cos(angles), np.sin(angles)], 1)
    for i in range(len(x)):
        exits = _ray_exits(net, x[i], dirs, 4 * bd.distance[i])
        # every ray's exit is >= the distance to the boundary (bisection converges to 1e-18)
        assert exits.min() >= bd.distance[i] * (1 - 1e-12)
        # the best of 3600 rays is within 1/cos(0.05 deg) - 1 = 4e-7 relative of it
        assert exits.min() <= bd.distance[i] * (1 + 1e-6)


def test_exit_probability_single_unit_closed_form():
    net = nn.Sequential(nn.Linear(3, 1), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
        net[0].bias.fill_(0.25)  # exactly representable in float32
    w = np.array([1.0, -2.0, 0.5])
    x = np.array([[0.1, 0.0, 0.2], [-0.4, 0.3, 0.0]])
    g = x @ w + 0.25
    cov = np.array([[0.5, 0.1, 0.0], [0.1, 0.3, 0.05], [0.0, 0.05, 0.2]]) * 0.04
    for s, var in ((0.05**2, w @ w * 0.05**2), (cov, w @ cov @ w)):
        exact = stats.norm.cdf(-np.abs(g) / np.sqrt(var))
        eb = exit_probability_bounds(net, x, s)
        np.testing.assert_allclose(eb.union_bound, exact, rtol=1e-12)  # one constraint
        np.testing.assert_allclose(eb.max_term, exact, rtol=1e-12)
        mc = exit_probability_mc(net, x, s, n_samples=4000, confidence=0.999, seed=0)
        assert np.all((mc.ci_low <= exact) & (exact <= mc.ci_high))  # 99.9% CI


def test_exit_probability_mc_between_bounds(network):
    name, net, shape = network
    x = np.random.default_rng(4).standard_normal((4, *shape))
    bd = boundary_distance(net, x)
    sigma = float(np.median(bd.distance))  # a scale where exits are neither 0 nor 1
    eb = exit_probability_bounds(net, x, sigma**2)
    mc = exit_probability_mc(net, x, sigma**2, n_samples=1500, confidence=0.999, seed=1)
    assert np.all(eb.max_term <= eb.union_bound * (1 + 1e-12))
    # the per-layer sums add up to the union bound (float64 summation order)
    np.testing.assert_allclose(sum(eb.per_layer.values()), eb.union_bound, rtol=1e-12)
    # max_u p_u <= P(exit) <= sum_u p_u, checked against the 99.9% Clopper-Pearson interval
    assert np.all(mc.ci_high >= eb.max_term), (name, mc.ci_high, eb.max_term)
    assert np.all(mc.ci_low <= eb.union_bound), (name, mc.ci_low, eb.union_bound)


def test_isotropic_diagonal_and_full_covariance_agree():
    net = cpa_mlp([3, 6, 6, 1], seed=1)
    x = np.random.default_rng(5).standard_normal((5, 3))
    a = exit_probability_bounds(net, x, 0.01)
    b = exit_probability_bounds(net, x, np.full(3, 0.01))
    c = exit_probability_bounds(net, x, 0.01 * np.eye(3))
    for other in (b, c):  # same S in three spellings; Cholesky of a diagonal is exact
        np.testing.assert_allclose(other.union_bound, a.union_bound, rtol=1e-12)


@pytest.mark.parametrize("cov, match", [(-1.0, "> 0"), (np.ones(2), r"shape \(3,\)"),
                                        (np.ones((3, 3)), "positive definite"),
                                        (np.nan, "NaN")])
def test_bad_noise_covariance(cov, match):
    with pytest.raises(ValueError, match=match):
        exit_probability_bounds(cpa_mlp([3, 4, 1], seed=0), np.zeros((1, 3)), cov)
