"""Euclidean ER: Gaussian-KDE entropy, Gaussian reconstruction and their combination."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from mitheory._kde import pairwise_sq_dists
from mitheory.objectives import entropy_gaussian_kde, er_gaussian_loss, reconstruction_gaussian
from mitheory.objectives._er_gaussian import DEFAULT_SIGMA

RTOL = 1e-12  # float64, summation order only

# three points in R^2 and a second view
Z_A = [[0.0, 0.0], [1.0, 0.5], [-0.7, 1.2]]
Z_B = [[0.2, -0.1], [0.8, 0.9], [-0.5, 1.0]]


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


def _hand_entropy(z, sigma, reduction, loo):
    k, d = len(z), len(z[0])
    logp = []
    for i in range(k):
        terms = [math.exp(-sum((z[i][c] - z[j][c]) ** 2 for c in range(d)) / (2 * sigma**2))
                 for j in range(k) if not (loo and j == i)]
        logp.append(math.log(sum(terms) / len(terms)) - d / 2 * math.log(2 * math.pi * sigma**2))
    if reduction == "joe":
        return -sum(logp) / k
    w = [math.exp(lp) for lp in logp]
    return sum(wi / sum(w) * -lp for wi, lp in zip(w, logp))


def _hand_rec(za, zb, sigma):
    d = len(za[0])
    return sum(sum((a[c] - b[c]) ** 2 for c in range(d)) / (2 * sigma**2)
               + d / 2 * math.log(2 * math.pi * sigma**2) for a, b in zip(za, zb)) / len(za)


@pytest.mark.parametrize("reduction", ["plugin", "joe"])
@pytest.mark.parametrize("loo", [False, True])
@pytest.mark.parametrize("sigma", [0.4, 1.7])
def test_entropy_hand(reduction, loo, sigma):
    got = entropy_gaussian_kde(_t(Z_A), sigma=sigma, reduction=reduction, leave_one_out=loo)
    assert float(got) == pytest.approx(_hand_entropy(Z_A, sigma, reduction, loo), rel=RTOL)
    log_sigma = torch.tensor(math.log(sigma), dtype=torch.float64)
    got = entropy_gaussian_kde(_t(Z_A), log_sigma=log_sigma, reduction=reduction,
                               leave_one_out=loo)
    assert float(got) == pytest.approx(_hand_entropy(Z_A, sigma, reduction, loo), rel=RTOL)


def test_default_sigma_is_sqrt_point_one():
    assert DEFAULT_SIGMA**2 == pytest.approx(0.1, rel=RTOL)
    assert float(entropy_gaussian_kde(_t(Z_A))) == pytest.approx(
        _hand_entropy(Z_A, math.sqrt(0.1), "plugin", False), rel=RTOL)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("reduction", ["plugin", "joe"])
def test_er_gaussian_loss_hand(symmetric, reduction):
    sigma, w = 0.8, 0.5
    hb, ha = (_hand_entropy(z, sigma, reduction, False) for z in (Z_B, Z_A))
    want = _hand_rec(Z_A, Z_B, sigma) - w * ((ha + hb) / 2 if symmetric else hb)
    got = er_gaussian_loss(_t(Z_A), _t(Z_B), sigma=sigma, entropy_weight=w,
                           symmetric=symmetric, reduction=reduction)
    assert float(got) == pytest.approx(want, rel=RTOL)


def test_er_gaussian_loss_separate_kde_sigma():
    want = _hand_rec(Z_A, Z_B, 0.8) - _hand_entropy(Z_B, 0.3, "joe", True)
    got = er_gaussian_loss(_t(Z_A), _t(Z_B), log_sigma=_t(math.log(0.8)),
                           kde_sigma=0.3, reduction="joe", leave_one_out=True, symmetric=False)
    assert float(got) == pytest.approx(want, rel=RTOL)


def test_reconstruction_matches_scipy():
    rng = np.random.default_rng(0)
    za = rng.normal(size=(50, 4))
    zb = za + 0.3 * rng.normal(size=(50, 4))
    sigma = 0.45
    want = -np.mean([stats.multivariate_normal.logpdf(b, mean=a, cov=sigma**2 * np.eye(4))
                     for a, b in zip(za, zb)])
    got = reconstruction_gaussian(_t(za), _t(zb), sigma=sigma)
    assert float(got) == pytest.approx(want, rel=RTOL)
    # symmetric in the two views: both reconstruction directions coincide
    assert float(reconstruction_gaussian(_t(zb), _t(za), sigma=sigma)) == pytest.approx(
        want, rel=RTOL)


# ---- convergence to the closed form for z ~ N(0, s^2 I_d) ------------------------------------
# The KDE tends to p_sigma = N(0, (s^2 + sigma^2) I). The Joe estimate is the cross-entropy
# -E_p log p_sigma, which lies d sigma^2 / (2 (s^2 + sigma^2)) nats BELOW the closed form
# H(N(0, (s^2 + sigma^2) I)) = d/2 log(2 pi e (s^2 + sigma^2)) (and KL(p || p_sigma) above H(p)).
# The plug-in softmax weights tilt the average to p * p_sigma, giving the lower limit
# d/2 log(2 pi (s^2+sigma^2)) + d s^2 / (2 (2 s^2 + sigma^2)).

D, S = 2, 1.0


def _limits(sigma):
    b = S**2 + sigma**2
    closed = 0.5 * D * math.log(2 * math.pi * math.e * b)
    joe = closed - D * sigma**2 / (2 * b)
    plugin = 0.5 * D * math.log(2 * math.pi * b) + D * S**2 / (2 * (2 * S**2 + sigma**2))
    return joe, plugin


def _influence_se(z, sigma):
    """Standard errors of the leave-one-out Joe and plug-in estimates from their influence
    functions (log-density part + kernel part), estimated with the KDE's own kernel matrix."""
    n = len(z)
    k = torch.exp(-pairwise_sq_dists(z) / (2 * sigma**2)) / (2 * math.pi * sigma**2) ** (D / 2)
    k.fill_diagonal_(0.0)
    q = k.sum(1) / (n - 1)
    h_joe = -q.log() - (k / q[None, :]).sum(1) / (n - 1)
    t = float((q * -q.log()).sum() / q.sum())
    h_plugin = (q * (-q.log() - t) + (k * (-q.log() - 1 - t)[None, :]).sum(1) / (n - 1)) / q.mean()
    return float(h_joe.std()) / math.sqrt(n), float(h_plugin.std()) / math.sqrt(n)


@pytest.mark.parametrize("sigma", [0.5, 1.0])
@pytest.mark.parametrize("n", [250, 1000])
def test_leave_one_out_converges_to_gaussian_limits(sigma, n):
    g = torch.Generator().manual_seed(n)
    z = S * torch.randn(n, D, generator=g, dtype=torch.float64)
    joe, plugin = _limits(sigma)
    se_joe, se_plugin = _influence_se(z, sigma)
    # 4 influence-function standard errors (shrinking as 1/sqrt(n)); over 30 seeds at n = 1000
    # and 2000 the standardised errors had sd 0.87-1.05 and |mean| <= 0.33 (the O(1/n) bias)
    h = entropy_gaussian_kde(z, sigma=sigma, reduction="joe", leave_one_out=True)
    assert abs(float(h) - joe) < 4 * se_joe
    h = entropy_gaussian_kde(z, sigma=sigma, reduction="plugin", leave_one_out=True)
    assert abs(float(h) - plugin) < 4 * se_plugin


@pytest.mark.parametrize("n", [500, 2000])
def test_self_term_lowers_entropy_by_order_one_over_n(n):
    sigma = 1.0
    g = torch.Generator().manual_seed(7)
    z = S * torch.randn(n, D, generator=g, dtype=torch.float64)
    loo = float(entropy_gaussian_kde(z, sigma=sigma, reduction="joe", leave_one_out=True))
    with_self = float(entropy_gaussian_kde(z, sigma=sigma, reduction="joe"))
    assert with_self < loo  # the self kernel is the kernel's maximum: never lowers p_hat
    # first order: n * gap -> phi(0) E[1 / p_sigma(z)] - 1 = ((s^2 + sigma^2) / sigma^2)^d - 1
    want = ((S**2 + sigma**2) / sigma**2) ** D - 1
    # 0.5: over 20 seeds n * gap had mean 2.95-2.97 and sd 0.22 (n = 500) / 0.11 (n = 2000)
    assert n * (loo - with_self) == pytest.approx(want, abs=0.5)


# ---- gradients ---------------------------------------------------------------------------------

def _batch(n=5, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    za = torch.randn(n, d, generator=g, dtype=torch.float64)
    return za, za + 0.4 * torch.randn(n, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("reduction", ["plugin", "joe"])
@pytest.mark.parametrize("loo", [False, True])
def test_gradcheck_entropy(reduction, loo):
    z, _ = _batch()
    z.requires_grad_()
    log_sigma = torch.tensor(-0.3, dtype=torch.float64, requires_grad=True)
    # gradcheck defaults (eps 1e-6, atol 1e-5, rtol 1e-3): central differences in float64
    assert torch.autograd.gradcheck(
        lambda z, ls: entropy_gaussian_kde(z, log_sigma=ls, reduction=reduction,
                                           leave_one_out=loo), (z, log_sigma))


@pytest.mark.parametrize("shared", [True, False])
def test_gradcheck_er_gaussian_loss(shared):
    za, zb = _batch()
    za.requires_grad_()
    zb.requires_grad_()
    log_sigma = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    kde_sigma = None if shared else 0.7
    # gradcheck defaults, as above
    assert torch.autograd.gradcheck(
        lambda a, b, ls: er_gaussian_loss(a, b, log_sigma=ls, kde_sigma=kde_sigma,
                                          entropy_weight=0.7), (za, zb, log_sigma))
    assert torch.autograd.gradcheck(lambda a, b: er_gaussian_loss(a, b, sigma=0.6), (za, zb))


def test_gradients_finite_at_coincident_points():
    z = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    entropy_gaussian_kde(z, sigma=0.5).backward()
    assert bool(torch.isfinite(z.grad).all())


def test_learned_sigma_reaches_maximum_likelihood():
    # with a separate KDE bandwidth, d loss / d log_sigma = 0 at sigma^2 = mean ||z_a - z_b||^2 / d
    za, zb = _batch(n=8, d=3)
    ml = float(((za - zb) ** 2).sum(1).mean() / 3)
    log_sigma = torch.tensor(0.5 * math.log(ml), dtype=torch.float64, requires_grad=True)
    er_gaussian_loss(za, zb, log_sigma=log_sigma, kde_sigma=1.0).backward()
    assert abs(float(log_sigma.grad)) < 1e-12  # float64 rounding of an exact zero


# ---- validation --------------------------------------------------------------------------------

def test_bad_input():
    z = _t(Z_A)
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="sigma"):
            er_gaussian_loss(z, z, sigma=bad)
        with pytest.raises(ValueError, match="sigma"):
            entropy_gaussian_kde(z, sigma=bad)
    with pytest.raises(ValueError, match="kde_sigma"):
        er_gaussian_loss(z, z, kde_sigma=0.0)
    with pytest.raises(ValueError, match="not both"):
        er_gaussian_loss(z, z, sigma=1.0, log_sigma=torch.tensor(0.0))
    with pytest.raises(ValueError, match="log_sigma"):
        er_gaussian_loss(z, z, log_sigma=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="log_sigma"):
        reconstruction_gaussian(z, z, log_sigma=torch.tensor(math.nan))
    with pytest.raises(TypeError, match="log_sigma"):
        entropy_gaussian_kde(z, log_sigma=0.5)
    nan = z.clone()
    nan[1, 0] = math.nan
    with pytest.raises(ValueError, match="z_a"):
        er_gaussian_loss(nan, z)
    with pytest.raises(ValueError, match="z_b"):
        er_gaussian_loss(z, z.clone().fill_(math.inf))
    with pytest.raises(ValueError, match="same shape"):
        er_gaussian_loss(z, z[:, :1])
    with pytest.raises(ValueError, match="at least 2"):
        er_gaussian_loss(z[:1], z[:1])
    with pytest.raises(ValueError, match="at least 3"):
        entropy_gaussian_kde(z[:2], leave_one_out=True)
    with pytest.raises(ValueError, match="reduction"):
        entropy_gaussian_kde(z, reduction="expectation")
    with pytest.raises(ValueError, match="entropy_weight"):
        er_gaussian_loss(z, z, entropy_weight=-1.0)
